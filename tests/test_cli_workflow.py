"""The whole CLI workflow through the real entry point, a real server and a real keyring."""

from __future__ import annotations

import base64
import email
import email.policy
import os
from pathlib import Path

import keyring

from tests.cli_runner import Cli
from tests.support.smtp_servers import USERS, RunningServer

USER = "alice@example.test"
PASSWORD = USERS[USER]


def add_custom(cli: Cli, server: RunningServer, *extra: str, name: str = "work") -> None:
    run = cli(
        "account",
        "add",
        name,
        "--email",
        "alice@example.com",
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--security",
        "starttls",
        "--username",
        USER,
        "--ca-file",
        str(server.ca_file),
        "--from-name",
        "Alice Äpfel",
        "--password-stdin",
        *extra,
        stdin=PASSWORD + "\n",
    )
    assert run.code == 0, run.stderr


def secret_forms(password: str, user: str) -> list[bytes]:
    raw = password.encode()
    plain = f"\0{user}\0{password}".encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.b64encode(plain),
        base64.b64encode(password.encode("utf-8")).rstrip(b"="),
    ]


def test_full_workflow_sends_records_and_leaves_no_secret(
    cli: Cli, smtp_server, tmp_path: Path
) -> None:
    server = smtp_server(mode="starttls")
    add_custom(cli, server)

    listed = cli("account", "list", "--json")
    assert listed.code == 0
    [account] = listed.json["accounts"]
    assert account["name"] == "work" and account["password"] == "keyring"
    assert account["default"] is True
    assert keyring.get_password("relaydesk", "work") == PASSWORD

    tested = cli("account", "test", "work", "--transcript")
    assert tested.code == 0, tested.stderr
    assert "Authenticate" in tested.stdout and "Sender address accepted" in tested.stdout
    assert "AUTH PLAIN <redacted>" in tested.stdout
    assert PASSWORD not in tested.stdout
    assert server.messages == []  # a test never sends mail

    attachment = tmp_path / "Prüfbericht.pdf"
    attachment.write_bytes(os.urandom(50_000))
    html = tmp_path / "body.html"
    html.write_text("<p>Hello <b>world</b></p>", encoding="utf-8")
    sent = cli(
        "send",
        "--to",
        "bob@example.com",
        "carol@example.com",
        "--cc",
        "dave@example.com",
        "--bcc",
        "eve@example.com",
        "--subject",
        "Quarterly report",
        "--text",
        "Hello world",
        "--html-file",
        str(html),
        "--attach",
        str(attachment),
        "--json",
    )
    assert sent.code == 0, sent.stderr
    result = sent.json
    assert result["status"] == "sent"
    assert sorted(result["accepted"]) == [
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "eve@example.com",
    ]

    [received] = server.messages
    assert received.authenticated_as == USER
    assert sorted(received.rcpt_tos) == sorted(result["accepted"])
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["Subject"] == "Quarterly report"
    assert message["From"].addresses[0].display_name == "Alice Äpfel"
    assert message["Bcc"] is None and b"eve@example.com" not in received.data
    assert message["Message-ID"] == result["message_id"]
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "Hello world"
    html_part = message.get_body(("html",))
    assert html_part is not None and "<b>world</b>" in html_part.get_content()
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "Prüfbericht.pdf"
    assert attached.get_content() == attachment.read_bytes()

    found = cli("history", "--search", "quarterly", "--json")
    assert found.code == 0
    [entry] = found.json["messages"]
    assert entry["subject"] == "Quarterly report" and entry["message_id"] == result["message_id"]
    assert cli("history", "--search", "nothing-like-this", "--json").json["messages"] == []
    human = cli("history")
    assert "Quarterly report" in human.stdout

    audit = cli("audit", "--json").json["entries"]
    actions = {(row["action"], row["outcome"]) for row in audit}
    assert {("account_add", "ok"), ("account_test", "ok"), ("send_attempt", "sent")} <= actions

    removed = cli("account", "remove", "work")
    assert removed.code == 0 and "keyring" in removed.stdout
    assert keyring.get_password("relaydesk", "work") is None
    assert cli("account", "list", "--json").json["accounts"] == []

    home = Path(cli.env["RELAYDESK_HOME"])
    files = [path for path in home.rglob("*") if path.is_file()]
    assert files, "the workflow should have written a database"
    for path in files:
        content = path.read_bytes()
        for form in secret_forms(PASSWORD, USER):
            assert form not in content, f"{path} holds a form of the password"
        assert b"AUTH PLAIN " not in content or b"<redacted>" in content


def test_database_is_private(cli: Cli, smtp_server) -> None:
    add_custom(cli, smtp_server(mode="starttls"))
    home = Path(cli.env["RELAYDESK_HOME"])
    database = home / "data" / "relaydesk.sqlite3"
    assert database.stat().st_mode & 0o777 == 0o600
    assert (home / "data").stat().st_mode & 0o777 == 0o700


def test_implicit_tls_and_non_ascii_credentials(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="tls")
    user = "jürgen@example.test"
    run = cli(
        "account",
        "add",
        "jurgen",
        "--email",
        "juergen@example.com",
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--security",
        "tls",
        "--username",
        user,
        "--ca-file",
        str(server.ca_file),
        "--password-stdin",
        stdin=USERS[user] + "\n",
    )
    assert run.code == 0, run.stderr
    sent = cli(
        "send",
        "--account",
        "jurgen",
        "--to",
        "bob@example.com",
        "--subject",
        "Grüße",
        "--text",
        "Servus",
    )
    assert sent.code == 0, sent.stderr
    [received] = server.messages
    assert received.authenticated_as == user


def test_local_relay_without_username_sends_without_auth(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    run = cli(
        "account",
        "add",
        "relay",
        "--email",
        "cron@example.com",
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--security",
        "none",
    )
    assert run.code == 0, run.stderr
    sent = cli("send", "--to", "ops@example.com", "--subject", "disk", "--text", "full")
    assert sent.code == 0, sent.stderr
    assert server.messages[0].authenticated_as is None


def test_gmail_preset_fills_in_the_server(cli: Cli) -> None:
    run = cli(
        "account",
        "add",
        "g",
        "--email",
        "someone@gmail.com",
        "--preset",
        "gmail",
        "--password-stdin",
        stdin="app-password\n",
    )
    assert run.code == 0, run.stderr
    [account] = cli("account", "list", "--json").json["accounts"]
    # Implicit TLS first where the provider offers it (RFC 8314).
    assert (account["host"], account["port"], account["security"]) == (
        "smtp.gmail.com",
        465,
        "tls",
    )
    assert account["username"] == "someone@gmail.com" and account["preset"] == "gmail"


def test_preset_is_recognised_from_the_address(cli: Cli) -> None:
    run = cli(
        "account", "add", "y", "--email", "someone@yahoo.com", "--password-stdin", stdin="x\n"
    )
    assert run.code == 0, run.stderr
    [account] = cli("account", "list", "--json").json["accounts"]
    assert account["host"] == "smtp.mail.yahoo.com" and account["preset"] == "yahoo"


def test_send_with_queue_stores_then_outbox_run_delivers(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    add_custom(cli, server)
    queued = cli(
        "send", "--queue", "--to", "bob@example.com", "--subject", "later", "--text", "hi", "--json"
    )
    assert queued.code == 0 and queued.json["status"] == "queued"
    assert server.messages == []
    [item] = cli("outbox", "list", "--json").json
    assert item["state"] == "queued" and item["recipients"][0]["status"] == "pending"
    run = cli("outbox", "run")
    assert run.code == 0, run.stderr
    assert len(server.messages) == 1
    assert cli("outbox", "list", "--json").json == []
