"""`relaydesk account edit` (the options of add), switching a password account to OAuth2
sign-in without losing anything, and OAuth2 bad input — through the real entry point."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import keyring
import pytest
import trustme

from tests.cli_runner import Cli
from tests.support.oauth_server import CLIENT_ID, OAuthSmtpHandler, start_auth_server, write_browser

PASSWORD_USER = "bob"  # in tests.support.smtp_servers.USERS
EMAIL = "bob@example.com"


def _add_password_account(cli: Cli, server: Any) -> None:
    run = cli(
        "account", "add", "work", "--email", EMAIL, "--host", "127.0.0.1",
        "--port", str(server.port), "--security", "starttls", "--ca-file", str(server.ca_file),
        "--username", PASSWORD_USER, "--password-stdin",
        stdin="hunter2\n",
    )  # fmt: skip
    assert run.code == 0, run.stderr


def test_edit_changes_only_the_options_given(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    _add_password_account(cli, server)
    edited = cli("account", "edit", "work", "--from-name", "Bob Builder", "--json")
    assert edited.code == 0, edited.stderr
    account = edited.json["account"]
    assert account["from_name"] == "Bob Builder"
    assert account["host"] == "127.0.0.1" and account["port"] == server.port
    assert account["username"] == PASSWORD_USER and account["auth"] == "password"
    assert keyring.get_password("relaydesk", "work") == "hunter2"  # password kept
    assert cli("account", "test", "work").code == 0

    changed = cli("account", "edit", "work", "--password-stdin", stdin="new-secret\n")
    assert changed.code == 0
    assert keyring.get_password("relaydesk", "work") == "new-secret"
    audit_actions = [row for row in _audit(cli) if row[0] == "account_edit"]
    assert len(audit_actions) == 2 and all(row[1] == "cli" for row in audit_actions)


def test_edit_bad_input_is_one_line_and_changes_nothing(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    _add_password_account(cli, server)
    bad = cli("account", "edit", "work", "--port", "99999")
    assert bad.code == 65 and "Traceback" not in bad.stderr
    assert cli("account", "edit", "nobody", "--port", "25").code == 78
    half = cli("account", "edit", "work", "--oauth2-auth-url", "https://x.example/auth")
    assert half.code == 64 and "--oauth2-token-url" in half.stderr
    listed = cli("account", "list", "--json").json["accounts"][0]
    assert listed["port"] == server.port and listed["auth"] == "password"


def test_outlook_without_a_client_id_explains_registration(cli: Cli) -> None:
    run = cli("account", "add", "mail", "--email", "ada@outlook.com", "--json")
    assert run.code == 78
    error = run.json["error"]
    assert error["code"] == "oauth2_client_id_missing"
    assert "--oauth2-client-id" in error["hint"] and "entra.microsoft.com" in error["hint"]
    assert cli("account", "list", "--json").json["accounts"] == []


def test_switching_to_sign_in_keeps_history_and_queued_mail(
    cli: Cli, ca: trustme.CA, tmp_path: Path, smtp_server
) -> None:
    auth = start_auth_server(ca, EMAIL)
    try:
        handler = OAuthSmtpHandler(auth.auth, ("XOAUTH2",))
        server = smtp_server(mode="starttls", handler=handler)
        _add_password_account(cli, server)
        first = cli("send", "--account", "work", "--to", "ann@example.com", "--subject", "s1",
                    "--text", "one")  # fmt: skip
        assert first.code == 0, first.stderr
        queued = cli("send", "--account", "work", "--to", "ann@example.com", "--subject", "s2",
                     "--text", "two", "--queue", "--json")  # fmt: skip
        assert queued.code == 0

        ca_file = tmp_path / "auth-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        cli.env["SSL_CERT_FILE"] = str(ca_file)
        cli.env["BROWSER"] = str(write_browser(tmp_path, ca_file, sys.executable))
        switched = cli(
            "account", "edit", "work", "--oauth2-issuer", auth.base_url,
            "--oauth2-client-id", CLIENT_ID, "--oauth2-scope", "https://mail.test/send",
            "--username", EMAIL, "--json",
        )  # fmt: skip
        assert switched.code == 0, switched.stderr
        assert switched.json["account"]["auth"] == "oauth2"
        assert keyring.get_password("relaydesk", "work") is None  # the password is gone

        assert cli("outbox", "run").code == 0
        assert [m.data.split(b"Subject: ")[1][:2] for m in server.messages] == [b"s1", b"s2"]
        assert handler.accepted_tokens == 1
        history = cli("history", "--json").json["messages"]
        assert sorted(m["subject"] for m in history) == ["s1", "s2"]

        tool = cli("tool", "call", stdin=json.dumps({"name": "send_email", "arguments": {
            "account": "work", "to": ["ann@example.com"], "subject": "s3", "text": "three",
        }}))  # fmt: skip
        assert tool.code == 0, tool.stdout + tool.stderr
        assert len(server.messages) == 3
    finally:
        auth.stop()


def _audit(cli: Cli) -> list[tuple[str, str]]:
    import sqlite3

    home = Path(cli.env["RELAYDESK_HOME"])
    path = next(p for p in home.rglob("*") if p.suffix in (".sqlite", ".db", ".sqlite3"))
    with sqlite3.connect(path) as db:
        return [(a, f) for a, f in db.execute("SELECT action, face FROM audit ORDER BY id")]


@pytest.fixture(autouse=True)
def _keyring_in_this_process(secret_service: dict[str, str]) -> None:
    """keyring.get_password above reads the same Secret Service the CLI wrote to."""


def test_outlook_password_refused_suggests_signing_in_instead(cli: Cli, smtp_server) -> None:
    from tests.support.probing import ProviderAuth

    reply = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
    server = smtp_server(mode="starttls", handler=ProviderAuth(reply))
    added = cli(
        "account", "add", "mail", "--email", "ada@outlook.com", "--preset", "outlook",
        "--host", "127.0.0.1", "--port", str(server.port), "--ca-file", str(server.ca_file),
        "--password-stdin", stdin="old password\n",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    tested = cli("account", "test", "mail", "--json")
    assert tested.code == 77
    assert tested.json["error"]["details"]["fix"] == {"signin": "oauth2", "preset": "outlook"}
    assert "relaydesk account edit mail --oauth2" in tested.json["error"]["hint"]
    plain = cli("account", "test", "mail")
    assert (
        "Suggested fix: sign in with the provider instead: relaydesk account edit mail "
        "--oauth2" in plain.stderr
    )
    # Applying it needs a client ID; this build has none, which is explained, not crashed on.
    applied = cli("account", "test", "mail", "--apply-fix")
    assert applied.code == 78 and "Traceback" not in applied.stderr
    assert "--oauth2-client-id" in applied.stderr
    assert cli("account", "list", "--json").json["accounts"][0]["auth"] == "password"
