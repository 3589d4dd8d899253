"""Account use cases every face calls: create, update, remove (settings + keyring + audit).

The keyring write and the database write succeed together or not at all: a
failed keyring write undoes the row, and a failed row write undoes nothing in
the keyring it has not yet touched. Removing an account removes its password,
its OAuth2 tokens and client secret. Each change leaves one audit row naming
the face (gui, cli, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.accounts import model as accounts
from app.core.accounts import secrets
from app.core.accounts.model import Account, PasswordMode
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.accounts.oauth2 import tokens
from app.core.accounts.oauth2.clients import secret_key
from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.store import Store


@dataclass(frozen=True)
class Secrets:
    """What the face collected for the keyring; None leaves the stored value alone."""

    password: str | None = None
    client_secret: str | None = None


def create_account(
    store: Store,
    account: Account,
    *,
    face: str,
    secret: Secrets | None = None,
    oauth2: OAuth2Settings | None = None,
    make_default: bool = False,
    detail: dict[str, Any] | None = None,
) -> Account:
    """Add ``account``; store its password (keyring accounts) and sign-in settings."""
    account.validate()
    secret = secret or Secrets()
    if account.password_mode is PasswordMode.KEYRING or secret.client_secret:
        secrets.ensure_keyring()  # before anything is written
    accounts.add_account(store, account)
    try:
        _write_secrets(store, account, secret, oauth2)
    except BaseException:
        accounts.remove_account(store, account.name)
        oauth2_config.delete(store, account.name)
        _forget_secrets(account.name)
        raise
    if make_default:
        accounts.set_default_account(store, account.name)
    store.audit(
        face=face,
        action="account_add",
        outcome="ok",
        account=account.name,
        detail={"host": account.host, "port": account.port, "preset": account.preset}
        | {"auth": account.password_mode.value}
        | (detail or {}),
    )
    return account


def update_account(
    store: Store,
    original: Account,
    account: Account,
    *,
    face: str,
    secret: Secrets | None = None,
    oauth2: OAuth2Settings | None = None,
    detail: dict[str, Any] | None = None,
) -> Account:
    """Change an account's settings; a new password replaces the stored one.

    Switching between password and sign-in keeps the account's name, so its
    history and queued messages stay with it.
    """
    account.validate()
    secret = secret or Secrets()
    if secret.password is not None or secret.client_secret:
        secrets.ensure_keyring()
    accounts.update_account(store, account)
    try:
        _write_secrets(store, account, secret, oauth2)
    except BaseException:
        accounts.update_account(store, original)
        raise
    if original.password_mode is PasswordMode.KEYRING is not account.password_mode:
        secrets.delete_password(account.name)  # the person no longer wants it stored
    if original.password_mode is PasswordMode.OAUTH2 is not account.password_mode:
        oauth2_config.delete(store, account.name)
        tokens.forget(account.name)
    store.audit(
        face=face,
        action="account_edit",
        outcome="ok",
        account=account.name,
        detail={
            "host": account.host,
            "port": account.port,
            "security": account.security.value,
            "auth": account.password_mode.value,
            "password": "changed" if secret.password is not None else "kept",
        }
        | (detail or {}),
    )
    return account


def remove_account(store: Store, name: str, *, face: str) -> tuple[Account, bool]:
    """Delete the account, its password and its tokens; (account, a secret was removed)."""
    account = accounts.remove_account(store, name)
    oauth2_config.delete(store, name)
    removed = _forget_secrets(name)
    tokens.lock_path(store, name).unlink(missing_ok=True)
    store.audit(face=face, action="account_remove", outcome="ok", account=name)
    return account, removed


def _write_secrets(
    store: Store, account: Account, secret: Secrets, oauth2: OAuth2Settings | None
) -> None:
    if account.password_mode is PasswordMode.KEYRING and secret.password is not None:
        secrets.store_password(account.name, secret.password)
    if oauth2 is not None and account.password_mode is PasswordMode.OAUTH2:
        if secret.client_secret:
            secrets.store_secret(secret_key(account.name), secret.client_secret)
        previous = oauth2_config.load(store, account.name)
        oauth2_config.save(store, account.name, oauth2)
        if previous is not None and _signs_in_elsewhere(previous, oauth2):
            oauth2_config.mark_needs_signin(store, account.name)  # tokens of another client


def _signs_in_elsewhere(old: OAuth2Settings, new: OAuth2Settings) -> bool:
    return (old.client_id, old.token_url, old.scopes) != (new.client_id, new.token_url, new.scopes)


def _forget_secrets(name: str) -> bool:
    removed = secrets.delete_password(name)
    if secrets.keyring_usable():
        tokens.forget(name)
    return removed
