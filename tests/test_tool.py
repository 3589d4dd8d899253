"""The send_email tool: schema, sending, dry runs and policy rejections, each audited."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.core.agents import policy as policies
from app.core.agents import tool
from app.core.agents.policy import Policy
from app.core.store import Store
from tests.agent_helpers import PASSWORD, add_account_cli, add_account_direct, assert_no_password
from tests.cli_runner import Cli
from tests.support.smtp_servers import RunningServer


@pytest.fixture
def server(smtp_server) -> RunningServer:
    return smtp_server(mode="starttls")


@pytest.fixture
def store(secret_service: dict[str, str], relaydesk_home: Path, server) -> Iterator[Store]:
    with Store.open() as opened:
        add_account_direct(opened, server)
        yield opened


def call(store: Store, caller: str = "bot", **arguments: Any) -> dict[str, Any]:
    return tool.call(store, {"name": "send_email", "arguments": arguments}, caller=caller)


def tool_rows(store: Store) -> list[dict[str, Any]]:
    return [row for row in store.audit_rows(1000) if row["action"] == "tool_call"]


def test_schema_is_valid_json_schema_and_matches_calls(cli: Cli) -> None:
    run = cli("tool", "schema")
    assert run.code == 0, run.stderr
    definition = run.json
    assert definition["name"] == "send_email" and definition["description"]
    schema = definition["parameters"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert cli("tool", "schema", "--parameters").json == schema
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "to": ["bob@example.com"], "cc": "carol@example.com", "subject": "Hi", "text": "x",
        "attachments": [{"content": "aGk=", "filename": "hi.txt"}, {"path": "/tmp/a.pdf"}],
        "dry_run": True,
    }  # fmt: skip
    assert list(validator.iter_errors(good)) == []
    for bad in (
        {"subject": "no recipient"},
        {"to": "a@example.com", "subject": "s", "password": "x"},
        {"to": "a@example.com", "subject": "s", "attachments": [{"content": "aGk="}]},
        {"to": "a@example.com", "subject": "s", "attachments": [{"path": "/a", "content": "x"}]},
    ):
        assert list(validator.iter_errors(bad)), bad


def test_cli_call_sends_and_leaves_no_password(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    request = {
        "name": "send_email",
        "arguments": {
            "to": "bob@example.com", "bcc": ["eve@example.com"], "subject": "From the agent",
            "text": "Hello from a tool", "html": "<p>Hello</p>",
            "attachments": [{"content": base64.b64encode(b"a,b\n1,2\n").decode(),
                             "filename": "data.csv", "content_type": "text/csv"}],
        },
    }  # fmt: skip
    run = cli("tool", "call", "--caller", "claude", stdin=json.dumps(request))
    assert run.code == 0, run.stdout + run.stderr
    result = run.json
    assert result["status"] == "sent" and result["error"] is None
    assert sorted(result["accepted"]) == ["bob@example.com", "eve@example.com"]
    [received] = server.messages
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["Message-ID"] == result["message_id"]
    assert message["Bcc"] is None and sorted(received.rcpt_tos) == sorted(result["accepted"])
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "data.csv" and attached.get_content_type() == "text/csv"

    audit = cli("audit", "--json").json["entries"]
    [row] = [r for r in audit if r["action"] == "tool_call"]
    assert row["face"] == "tool" and row["outcome"] == "sent" and row["outbox_id"]
    assert row["detail"]["caller"] == "claude" and row["detail"]["tool"] == "send_email"
    assert any(r["action"] == "send_attempt" and r["face"] == "tool" for r in audit)
    assert_no_password(Path(cli.env["RELAYDESK_HOME"]), run.stdout, run.stderr, json.dumps(audit))


def test_cli_rejections_are_json_with_exit_codes(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    policy = cli("policy", "set", "bot", "--allow-recipient", "example.com", "--json")
    assert policy.code == 0 and policy.json["policy"]["recipients"] == ["example.com"]
    outside = {"name": "send_email", "arguments": {"to": "x@evil.example", "subject": "s"}}
    run = cli("tool", "call", "--caller", "bot", stdin=json.dumps(outside))
    assert run.code == 77
    assert run.json["status"] == "rejected"
    assert run.json["error"]["code"] == "recipient_not_allowed"
    assert "x@evil.example" in run.json["error"]["message"] and run.json["error"]["hint"]
    garbage = cli("tool", "call", "--caller", "bot", stdin="{not json")
    assert garbage.code == 65 and garbage.json["error"]["code"] == "invalid_input"
    unknown = cli("tool", "call", stdin=json.dumps({"name": "rm_rf", "arguments": {}}))
    assert unknown.code == 65 and "no tool named" in unknown.json["error"]["message"]
    assert server.messages == []
    rows = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "tool_call"]
    assert [r["outcome"] for r in rows] == ["rejected"] * 3
    assert {r["detail"]["caller"] for r in rows} == {"bot", "default"}


def test_dry_run_shows_the_message_and_sends_nothing(store: Store, server) -> None:
    result = call(
        store, to=["bob@example.com"], cc="carol@example.com", bcc="eve@example.com",
        subject="Plan", text="Body", reply_to="alice@example.com", dry_run=True,
        attachments=[{"content": base64.b64encode(b"x" * 300).decode(), "filename": "x.bin"}],
    )  # fmt: skip
    assert result["status"] == "dry_run", result
    assert result["headers"]["Subject"] == "Plan"
    assert result["headers"]["To"] == "bob@example.com"
    assert "Bcc" not in result["headers"] and result["headers"]["Message-ID"]
    assert result["recipients"] == {
        "to": ["bob@example.com"], "cc": ["carol@example.com"], "bcc": ["eve@example.com"],
    }  # fmt: skip
    assert result["envelope"]["from"] == "alice@example.com"
    assert sorted(result["envelope"]["recipients"]) == [
        "bob@example.com", "carol@example.com", "eve@example.com",
    ]  # fmt: skip
    assert result["size"] > 400
    assert result["attachments"] == [
        {"filename": "x.bin", "content_type": "application/octet-stream", "size": 300}
    ]
    assert server.messages == []
    assert store.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    [row] = tool_rows(store)
    assert row["outcome"] == "dry_run" and row["outbox_id"] is None


def rejected(result: dict[str, Any], code: str) -> None:
    assert result["status"] == "rejected", result
    assert result["error"]["code"] == code, result["error"]
    assert result["message_id"] is None and result["accepted"] == []


def test_policy_rejections_each_leave_an_audit_row(
    store: Store, server: RunningServer, tmp_path: Path
) -> None:
    allowed = tmp_path / "outgoing"
    allowed.mkdir()
    (allowed / "ok.txt").write_text("fine")
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    (allowed / "looks-fine.txt").symlink_to(secret)
    policies.set_policy(
        store,
        Policy(caller="bot", recipients=("example.com",), per_hour=1,
               max_attachment_size=100, attachment_dirs=(str(allowed),)),
        face="cli",
    )  # fmt: skip
    ok = {"to": "bob@example.com", "subject": "s"}

    rejected(call(store, to="x@evil.example", subject="s"), "recipient_not_allowed")
    rejected(call(store, **ok, bcc="spy@evil.example"), "recipient_not_allowed")
    rejected(call(store, "default", **ok, attachments=[{"path": str(allowed / "ok.txt")}]),
             "attachment_not_allowed")  # fmt: skip
    for path in (secret, allowed / "looks-fine.txt", f"{allowed}/../id_rsa"):
        rejected(call(store, **ok, attachments=[{"path": str(path)}]), "attachment_not_allowed")
    big = base64.b64encode(b"x" * 101).decode()
    rejected(call(store, **ok, attachments=[{"content": big, "filename": "b.bin"}]),
             "attachment_too_large")  # fmt: skip
    rejected(call(store, **ok, account="nope"), "no_such_account")
    rejected(call(store, to="bob@example.com"), "invalid_input")  # schema: subject missing
    assert server.messages == []

    sent = call(store, **ok, attachments=[{"path": str(allowed / "ok.txt")}])
    assert sent["status"] == "sent", sent
    rejected(call(store, **ok), "quota_exceeded")
    assert len(server.messages) == 1

    rows = tool_rows(store)
    assert len(rows) == 11
    assert all(r["face"] == "tool" and r["detail"]["caller"] in ("bot", "default") for r in rows)
    assert [r["outcome"] for r in rows].count("rejected") == 10
    assert all(PASSWORD not in json.dumps(r) for r in store.audit_rows(1000))


def test_account_policy_and_listing(store: Store, server: RunningServer) -> None:
    add_account_direct(store, server, name="private", email="me@example.com")
    policies.set_policy(store, Policy(caller="bot", accounts=("work",)), face="cli")
    rejected(call(store, to="bob@example.com", subject="s", account="private"),
             "account_not_allowed")  # fmt: skip
    listed = tool.call(store, {"name": "list_accounts", "arguments": {}}, caller="bot")
    assert listed == {
        "status": "ok",
        "accounts": [{"name": "work", "email": "alice@example.com", "default": True}],
    }
    everyone = tool.call(store, {"name": "list_accounts"}, caller="other")
    assert [a["name"] for a in everyone["accounts"]] == ["work", "private"]
    assert all(set(a) == {"name", "email", "default"} for a in everyone["accounts"])


def test_message_status_only_for_the_callers_own_messages(store: Store) -> None:
    sent = call(store, to="bob@example.com", subject="Status", text="x")
    assert sent["status"] == "sent"
    status = tool.call(
        store, {"name": "get_message_status", "arguments": {"message_id": sent["message_id"]}},
        caller="bot",
    )  # fmt: skip
    assert status["state"] == "sent" and status["subject"] == "Status"
    assert status["recipients"][0]["address"] == "bob@example.com"
    assert status["recipients"][0]["status"] == "accepted"
    other = tool.call(
        store, {"name": "get_message_status", "arguments": {"message_id": sent["message_id"]}},
        caller="someone-else",
    )  # fmt: skip
    assert other["status"] == "not_found"


def test_arguments_as_json_text_are_accepted(store: Store) -> None:
    text = json.dumps({"to": "bob@example.com", "subject": "s", "dry_run": True})
    result = tool.call(store, {"name": "send_email", "arguments": text}, caller="bot")
    assert result["status"] == "dry_run"


def test_ask_password_accounts_fail_without_prompting(store: Store, server) -> None:
    from app.core.accounts import model as accounts
    from app.core.accounts.model import PasswordMode

    ask = accounts.get_account(store, "work").with_changes(
        name="asker", password_mode=PasswordMode.ASK
    )
    accounts.add_account(store, ask)
    result = call(store, to="bob@example.com", subject="s", account="asker")
    assert result["status"] == "failed"
    assert result["error"]["code"] == "password_missing"
    assert server.messages == []
