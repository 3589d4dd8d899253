"""The remaining CLI commands, each through the real entry point."""

from __future__ import annotations

import email
import email.policy

import keyring

from tests.cli_runner import Cli
from tests.support.smtp_servers import USERS, RecordingHandler

USER = "alice@example.test"


def add_relay(cli: Cli, port: int, name: str = "relay") -> None:
    run = cli(
        "account",
        "add",
        name,
        "--email",
        f"{name}@example.com",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--security",
        "none",
    )
    assert run.code == 0, run.stderr


class Refuse421(RecordingHandler):
    refuse = True

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.refuse:
            return "421 4.3.2 Try again later"
        envelope.mail_from = address
        return "250 OK"


def test_outbox_retry_cancel_discard(cli: Cli, smtp_server) -> None:
    handler = Refuse421()
    server = smtp_server(mode="plain", users=None, handler=handler)
    add_relay(cli, server.port)
    sent = cli("send", "--to", "bob@example.com", "--subject", "first", "--text", "x", "--json")
    assert sent.code == 75 and sent.json["status"] == "retrying"
    item_id = sent.json["id"]
    listed = cli("outbox", "list")
    assert "retrying" in listed.stdout and "421" in listed.stdout

    handler.refuse = False
    retried = cli("outbox", "retry", str(item_id), "--json")
    assert retried.code == 0 and retried.json["status"] == "sent"
    assert len(server.messages) == 1
    assert cli("outbox", "retry", str(item_id)).code == 64  # already sent

    queued = cli("send", "--queue", "--to", "bob@example.com", "--subject", "second", "--json")
    second = queued.json["id"]
    assert cli("outbox", "cancel", str(second)).code == 0
    assert cli("outbox", "run").code == 0
    assert len(server.messages) == 1
    [item] = cli("outbox", "list", "--json").json
    assert item["id"] == second and item["state"] == "cancelled"
    assert cli("outbox", "discard", str(second)).code == 0
    assert cli("outbox", "list", "--json").json == []
    assert cli("outbox", "discard", "999").code == 64


def test_outbox_run_exits_75_when_something_stays(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None, handler=Refuse421())
    add_relay(cli, server.port)
    cli("send", "--queue", "--to", "bob@example.com", "--subject", "s")
    run = cli("outbox", "run", "--json")
    assert run.code == 75
    assert run.json["results"][0]["status"] == "retrying"


def test_account_default_password_quota_presets(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    args = [
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--username",
        USER,
        "--ca-file",
        str(server.ca_file),
    ]
    assert (
        cli(
            "account",
            "add",
            "a",
            "--email",
            "a@example.com",
            *args,
            "--password-stdin",
            stdin="wrong\n",
        ).code
        == 0
    )
    assert cli("account", "add", "b", "--email", "b@example.com", *args, "--ask-password").code == 0

    assert cli("account", "default", "b").code == 0
    accounts = {a["name"]: a for a in cli("account", "list", "--json").json["accounts"]}
    assert accounts["b"]["default"] and not accounts["a"]["default"]

    assert cli("account", "test", "a").code == 77
    assert cli("account", "password", "a", "--password-stdin", stdin=USERS[USER] + "\n").code == 0
    assert keyring.get_password("relaydesk", "a") == USERS[USER]
    assert cli("account", "test", "a").code == 0

    quota = cli("account", "quota", "a", "--per-hour", "10", "--per-day", "100", "--json")
    assert quota.code == 0 and quota.json["quota"] == {
        "per_minute": None,
        "per_hour": 10,
        "per_day": 100,
    }
    assert "100 messages per day" in cli("account", "quota", "a").stdout

    presets = cli("account", "presets", "--json").json["presets"]
    assert {"gmail", "microsoft365", "custom"} <= {p["id"] for p in presets}


def test_gmail_account_quota_defaults_to_the_documented_limit(cli: Cli) -> None:
    cli("account", "add", "g", "--email", "x@gmail.com", "--password-stdin", stdin="pw\n")
    assert cli("account", "quota", "g", "--json").json["quota"]["per_day"] == 500


def test_non_ascii_address_uses_smtputf8_or_refuses(cli: Cli, smtp_server) -> None:
    plain = smtp_server(mode="plain", users=None)
    add_relay(cli, plain.port, "old")
    refused = cli(
        "send",
        "--account",
        "old",
        "--to",
        "jürgen@example.com",
        "--subject",
        "s",
        "--text",
        "t",
        "--json",
    )
    assert refused.code == 65
    assert refused.json["error"]["code"] == "smtputf8_unsupported"
    assert plain.messages == []

    modern = smtp_server(mode="plain", users=None, smtputf8=True)
    add_relay(cli, modern.port, "new")
    sent = cli(
        "send",
        "--account",
        "new",
        "--to",
        "jürgen@example.com",
        "--subject",
        "Grüße",
        "--text",
        "t",
    )
    assert sent.code == 0, sent.stderr
    [received] = modern.messages
    assert received.smtputf8 and received.rcpt_tos == ["jürgen@example.com"]
    message = email.message_from_bytes(received.data, policy=email.policy.SMTPUTF8)
    assert message["To"] == "jürgen@example.com"


def test_text_from_stdin_and_reply_to(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay(cli, server.port)
    run = cli(
        "send",
        "--to",
        "bob@example.com",
        "--subject",
        "piped",
        "--text-file",
        "-",
        "--reply-to",
        "help@example.com",
        stdin="line one\nline two\n",
    )
    assert run.code == 0, run.stderr
    message = email.message_from_bytes(server.messages[0].data, policy=email.policy.default)
    assert message["Reply-To"] == "help@example.com"
    assert message.get_content().replace("\r\n", "\n") == "line one\nline two\n"
