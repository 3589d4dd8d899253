"""A signature and a default Reply-To per account, used by every face."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

from app.core.accounts import identity
from app.core.delivery import drafts
from app.core.delivery.message import Draft
from app.core.store import Store
from tests.cli_runner import Cli
from tests.test_cli_workflow import add_custom


def test_cli_account_add_sets_signature_and_reply_to_and_send_uses_them(
    cli: Cli, smtp_server, tmp_path: Path
) -> None:
    server = smtp_server(mode="starttls")
    signature = tmp_path / "signature.txt"
    signature.write_text("Alice Äpfel\nAccounts, Example Ltd\n", encoding="utf-8")
    add_custom(cli, server, "--signature-file", str(signature), "--reply-to", "team@example.com")
    run = cli("send", "--to", "bob@example.com", "--subject", "Invoice", "--text", "Attached.")
    assert run.code == 0, run.stderr
    message = email.message_from_bytes(server.messages[0].data, policy=email.policy.default)
    assert message["Reply-To"] == "team@example.com"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.replace("\r\n", "\n").endswith(
        "Attached.\n\n-- \nAlice Äpfel\nAccounts, Example Ltd\n"
    )

    run = cli("send", "--to", "bob@example.com", "--subject", "x", "--text", "y",
              "--reply-to", "me@example.com")  # fmt: skip
    message = email.message_from_bytes(server.messages[1].data, policy=email.policy.default)
    assert message["Reply-To"] == "me@example.com"  # a given Reply-To wins


def test_tool_call_gets_the_signature(cli: Cli, smtp_server, tmp_path: Path) -> None:
    server = smtp_server(mode="starttls")
    signature = tmp_path / "sig.txt"
    signature.write_text("— sent by the assistant for Alice", encoding="utf-8")
    add_custom(cli, server, "--signature-file", str(signature))
    arguments = {"to": ["bob@example.com"], "subject": "Note", "text": "Hello"}
    run = cli("tool", "call", "--caller", "claude",
              stdin=json.dumps({"name": "send_email", "arguments": arguments}))  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr
    message = email.message_from_bytes(server.messages[0].data, policy=email.policy.default)
    assert "sent by the assistant for Alice" in message.get_body(("plain",)).get_content()


def test_bad_reply_to_is_refused_before_anything_is_stored(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    run = cli("account", "add", "work", "--email", "alice@example.com", "--host", server.host,
              "--reply-to", "not an address")  # fmt: skip
    assert run.code == 65 and "not an address" in run.stderr
    assert "Traceback" not in run.stderr
    assert cli("account", "list", "--json").json["accounts"] == []


def test_signature_is_not_added_twice(relaydesk_home: Path) -> None:
    with Store.open() as store:
        store.execute(
            "INSERT INTO accounts (name, email, host, port, security, password_mode,"
            " created_at, updated_at) VALUES ('w', 'a@example.com', 'h', 25, 'none', 'none', 0, 0)"
        )
        identity.put(store, "w", signature="Alice", reply_to=None)
        once = identity.apply(store, "w", Draft(to=("b@example.com",), text="Hi"))
        assert once.text == "Hi\n\n-- \nAlice"
        assert identity.apply(store, "w", once).text == once.text


def test_drafts_are_kept_until_deleted(relaydesk_home: Path) -> None:
    with Store.open() as store:
        first = drafts.save(store, None, account="w", to="bob@exa", subject="Hal", text="Dear")
        same = drafts.save(store, first, account="w", to="bob@example.com", subject="Half")
        assert same == first
    with Store.open() as store:  # as after a crash: another process, the same rows
        [kept] = drafts.saved(store)
        assert (kept.to, kept.subject) == ("bob@example.com", "Half")
        drafts.delete(store, kept.id)
        assert drafts.saved(store) == []
