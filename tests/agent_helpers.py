"""Shared setup for the sendmail, tool, policy and MCP tests: accounts on a real server."""

from __future__ import annotations

import base64
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts import secrets
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.store import Store
from tests.cli_runner import Cli
from tests.support.smtp_servers import USERS, RunningServer

USER = "alice@example.test"
PASSWORD = USERS[USER]


def add_account_cli(
    cli: Cli, server: RunningServer, name: str = "work", email: str = "alice@example.com"
) -> None:
    """`relaydesk account add` against the test server, password into the real keyring."""
    run = cli(
        "account", "add", name, "--email", email, "--host", server.host,
        "--port", str(server.port), "--security", "starttls", "--username", USER,
        "--ca-file", str(server.ca_file), "--from-name", "Alice Äpfel", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert run.code == 0, run.stderr


def add_relay_cli(cli: Cli, port: int, name: str = "relay", email: str = "me@example.com") -> None:
    """`relaydesk account add` for a local relay on 127.0.0.1 that needs no login."""
    run = cli(
        "account", "add", name, "--email", email, "--host", "127.0.0.1",
        "--port", str(port), "--security", "none",
    )  # fmt: skip
    assert run.code == 0, run.stderr


def add_account_direct(
    store: Store, server: RunningServer, name: str = "work", email: str = "alice@example.com"
) -> Account:
    """The same account, added in-process (faster for tests that call the core directly)."""
    account = Account(
        name=name,
        email=email,
        host=server.host,
        port=server.port,
        security=Security.STARTTLS,
        username=USER,
        from_name="Alice",
        password_mode=PasswordMode.KEYRING,
        ca_file=str(server.ca_file),
        timeout=10,
    )
    accounts.add_account(store, account)
    secrets.store_password(name, PASSWORD)
    return account


def password_forms() -> list[bytes]:
    """The password as it could leak: raw, base64, and inside an AUTH PLAIN payload."""
    raw = PASSWORD.encode()
    return [raw, base64.b64encode(raw), base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())]


def assert_no_password(home: Path, *texts: str) -> None:
    """Neither the given outputs nor any file under RELAYDESK_HOME holds the password."""
    for text in texts:
        for form in password_forms():
            assert form.decode() not in text
    for path in home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for form in password_forms():
                assert form not in content, f"{path} holds a form of the password"
