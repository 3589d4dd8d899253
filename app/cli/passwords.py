"""Where the CLI gets a password: the keyring, standard input, or a prompt."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from app.core import secrets
from app.core.accounts import Account, PasswordMode
from app.core.errors import PasswordMissing, UsageError
from app.core.redaction import remember_secret

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


def password_source(*, from_stdin: bool) -> Callable[[Account], str | None]:
    """A callable the send path asks for the password, only when it needs one."""
    cache: dict[str, str] = {}

    def source(account: Account) -> str | None:
        if account.password_mode is PasswordMode.NONE:
            return None
        if account.name not in cache:
            if from_stdin:
                cache[account.name] = read_password_stdin()
            elif account.password_mode is PasswordMode.KEYRING:
                cache[account.name] = secrets.get_password(account.name)
            else:
                cache[account.name] = prompt_password(account)
        return cache[account.name]

    return source
