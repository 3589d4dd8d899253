"""The CLI's way to ask for a password (stdin or a terminal prompt); the rules are core's."""

from __future__ import annotations

import getpass
import sys

from app.core.accounts.credentials import CredentialResolver
from app.core.accounts.model import Account
from app.core.errors import PasswordMissing, UsageError
from app.core.redaction import remember_secret
from app.core.store import Store

MAX_PASSWORD = 4096


def read_password_stdin() -> str:
    """The first line of standard input, without its line ending."""
    line = sys.stdin.readline(MAX_PASSWORD + 2)  # a password, not whatever the pipe holds
    if len(line.rstrip("\r\n")) > MAX_PASSWORD:
        raise UsageError(
            f"The password on standard input is longer than {MAX_PASSWORD} characters.",
            hint="Pipe only the password, on the first line.",
        )
    password = line.rstrip("\r\n")
    remember_secret(password)
    if not password:
        raise UsageError(
            "--password-stdin was given but standard input held no password.",
            hint="Pipe it in, e.g.: printf '%s\\n' \"$PASS\" | relaydesk … --password-stdin",
        )
    return password


def prompt_password(account: Account) -> str:
    """Ask on the terminal without echo; refuse when there is no terminal."""
    if not sys.stdin.isatty():
        raise PasswordMissing(
            f"Account “{account.name}” asks for its password each time, and there is no "
            "terminal to ask on.",
            hint="Pass it with --password-stdin, or store it in the keyring: "
            f"relaydesk account password {account.name} --password-stdin",
        )
    password = getpass.getpass(f"Password for {account.username} at {account.host}: ")
    remember_secret(password)
    if not password:
        raise PasswordMissing("No password was entered.", hint="Try again.")
    return password


def password_source(store: Store, *, from_stdin: bool) -> CredentialResolver:
    """The core resolver, asking through stdin (``--password-stdin``) or the terminal."""
    ask = (lambda _account: read_password_stdin()) if from_stdin else prompt_password
    return CredentialResolver(store, ask=ask, ask_first=from_stdin)
