"""Accounts: where and how to submit mail. Never holds a secret."""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from app.core.errors import AccountExists, InvalidInput, NoSuchAccount
from app.core.store import Store

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


class Security(StrEnum):
    """How the connection is protected."""

    STARTTLS = "starttls"  # plaintext greeting, then STARTTLS (port 587 style)
    TLS = "tls"  # implicit TLS from the first byte (port 465 style)
    NONE = "none"  # no encryption; only on explicit choice


class PasswordMode(StrEnum):
    """Where the password comes from at send time."""

    KEYRING = "keyring"  # stored in the OS keyring
    ASK = "ask"  # asked each time, kept in memory only
    OAUTH2 = "oauth2"  # signed in with the provider; tokens in the keyring (see oauth2/)
    NONE = "none"  # no authentication (a local relay)


DEFAULT_PORTS = {Security.STARTTLS: 587, Security.TLS: 465, Security.NONE: 25}


@dataclass(frozen=True)
class Account:
    """One SMTP submission account."""

    name: str
    email: str
    host: str
    port: int
    security: Security = Security.STARTTLS
    username: str | None = None
    from_name: str = ""
    password_mode: PasswordMode = PasswordMode.NONE
    ca_file: str | None = None
    pin_sha256: str | None = None  # hex SHA-256 of the server's DER certificate
    allow_plaintext_auth: bool = False  # "send password without encryption"
    preset: str | None = None
    timeout: float = 30.0

    @property
    def uses_auth(self) -> bool:
        return self.username is not None

    def with_changes(self, **changes: object) -> Account:
        """A copy with some fields replaced (validated again)."""
        account = replace(self, **changes)  # type: ignore[arg-type]
        account.validate()
        return account

    def validate(self) -> None:
        """Raise InvalidInput when the settings cannot work."""
        if not _NAME.match(self.name):
            raise InvalidInput(
                f"“{self.name}” is not a usable account name.",
                hint="Use 1–64 letters, digits, dots, dashes or underscores, e.g. “work”.",
            )
        if not _is_host_name(self.host):
            raise InvalidInput(
                f"“{self.host}” is not a host name.",
                hint="Give the SMTP server's host name, e.g. smtp.example.com.",
            )
        # A line break here would be sent in every From header and AUTH command. (Imported
        # here: the window frame loads accounts without the address validator.)
        from app.core.delivery.addresses import check_header_value

        check_header_value("display name", self.from_name)
        check_header_value("username", self.username or "")
        if not 0 < self.port < 65536:
            raise InvalidInput(
                f"Port {self.port} is out of range.",
                hint="SMTP submission uses 587 (STARTTLS) or 465 (TLS).",
            )
        if self.uses_auth and self.password_mode is PasswordMode.NONE:
            raise InvalidInput(
                "A username was given but no way to get the password.",
                hint="Store the password in the keyring or choose to be asked each time.",
            )
        if not self.uses_auth and self.password_mode is not PasswordMode.NONE:
            raise InvalidInput(
                "A password source was set for an account without a username.",
                hint="Give --username, or leave the password out for a local relay.",
            )


# --- persistence (no secrets: the password lives in app.core.accounts.secrets) --------

_COLUMNS = (
    "name, email, host, port, security, username, from_name, password_mode, ca_file,"
    " pin_sha256, allow_plaintext_auth, preset, timeout"
)


def _from_row(row: Any) -> Account:
    return Account(
        name=row["name"],
        email=row["email"],
        host=row["host"],
        port=int(row["port"]),
        security=Security(row["security"]),
        username=row["username"],
        from_name=row["from_name"],
        password_mode=PasswordMode(row["password_mode"]),
        ca_file=row["ca_file"],
        pin_sha256=row["pin_sha256"],
        allow_plaintext_auth=bool(row["allow_plaintext_auth"]),
        preset=row["preset"],
        timeout=float(row["timeout"]),
    )


def _values(account: Account) -> tuple[Any, ...]:
    return (
        account.name,
        account.email,
        account.host,
        account.port,
        account.security.value,
        account.username,
        account.from_name,
        account.password_mode.value,
        account.ca_file,
        account.pin_sha256,
        int(account.allow_plaintext_auth),
        account.preset,
        account.timeout,
    )


def add_account(store: Store, account: Account) -> None:
    """Insert a new account; the first one becomes the default."""
    account.validate()
    now = time.time()
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM accounts WHERE name = ?", (account.name,)).fetchone():
            raise AccountExists(
                f"An account named “{account.name}” already exists.",
                hint="Pick another name, or remove the old account first.",
            )
        is_first = db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0
        db.execute(
            f"INSERT INTO accounts ({_COLUMNS}, is_default, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_values(account), int(is_first), now, now),
        )


def update_account(store: Store, account: Account) -> None:
    """Replace the stored settings of an existing account."""
    account.validate()
    with store.transaction() as db:
        names = [column.strip() for column in _COLUMNS.split(",")][1:]
        assignments = ", ".join(f"{column} = ?" for column in names)
        cursor = db.execute(
            f"UPDATE accounts SET {assignments}, updated_at = ? WHERE name = ?",
            (*_values(account)[1:], time.time(), account.name),
        )
        if cursor.rowcount == 0:
            raise _no_such_account(store, account.name)


def get_account(store: Store, name: str | None = None) -> Account:
    """The named account, or the default one when name is None."""
    if name is None:
        row = store.execute(
            f"SELECT {_COLUMNS} FROM accounts ORDER BY is_default DESC, created_at LIMIT 1"
        ).fetchone()
        if row is None:
            raise NoSuchAccount(
                "No account is set up yet.",
                hint="Add one: relaydesk account add NAME --email ADDRESS --preset gmail "
                "(or open the Relaydesk window).",
            )
        return _from_row(row)
    row = store.execute(f"SELECT {_COLUMNS} FROM accounts WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise _no_such_account(store, name)
    return _from_row(row)


def list_accounts(store: Store) -> list[tuple[Account, bool]]:
    """Every account with whether it is the default, in creation order."""
    rows = store.execute(
        f"SELECT {_COLUMNS}, is_default FROM accounts ORDER BY created_at, name"
    ).fetchall()
    return [(_from_row(row), bool(row["is_default"])) for row in rows]


def find_account_by_email(store: Store, email: str) -> Account | None:
    """The account whose address is ``email`` (case-insensitive), if any."""
    row = store.execute(
        f"SELECT {_COLUMNS} FROM accounts WHERE lower(email) = lower(?)"
        " ORDER BY is_default DESC LIMIT 1",
        (email,),
    ).fetchone()
    return _from_row(row) if row else None


def set_default_account(store: Store, name: str) -> None:
    """Make ``name`` the account used when none is given."""
    with store.transaction() as db:
        if not db.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone():
            raise _no_such_account(store, name)
        db.execute("UPDATE accounts SET is_default = (name = ?)", (name,))


def remove_account(store: Store, name: str) -> Account:
    """Delete the account's settings (the caller removes its keyring entry)."""
    account = get_account(store, name)
    with store.transaction() as db:
        db.execute("DELETE FROM accounts WHERE name = ?", (name,))
        db.execute(
            "UPDATE accounts SET is_default = 1 WHERE name = (SELECT name FROM accounts"
            " ORDER BY created_at LIMIT 1) AND NOT EXISTS"
            " (SELECT 1 FROM accounts WHERE is_default = 1)"
        )
    return account


def _no_such_account(store: Store, name: str) -> NoSuchAccount:
    names = [row["name"] for row in store.execute("SELECT name FROM accounts ORDER BY name")]
    known = ", ".join(names) if names else "none yet"
    return NoSuchAccount(
        f"There is no account named “{name}”.",
        hint=f"Accounts: {known}. See them with: relaydesk account list",
    )


def _is_host_name(host: str) -> bool:
    """A name the resolver can look up (no space, no empty or over-long label), or an IP."""
    if not host or any(c.isspace() for c in host):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        host.rstrip(".").encode("idna")  # what getaddrinfo does; refuses "a..b" and 64+ labels
    except UnicodeError:
        return False
    return True
