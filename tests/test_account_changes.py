"""The account use cases (create / update / remove) with a real keyring and SQLite file."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from app.core import errors
from app.core.accounts import changes as account_changes
from app.core.accounts import model as accounts
from app.core.accounts.changes import Secrets
from app.core.accounts.credentials import CredentialResolver
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.accounts.oauth2 import tokens
from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.accounts.oauth2.http import TokenSet
from app.core.store import Store


def _account(mode: PasswordMode = PasswordMode.KEYRING) -> Account:
    return Account(
        name="work", email="ada@example.com", host="smtp.example.com", port=587,
        security=Security.STARTTLS, username="ada@example.com", password_mode=mode,
    )  # fmt: skip


SETTINGS = OAuth2Settings(
    "https://login.example.com/authorize", "https://login.example.com/token", ("mail",), "id"
)


def test_create_stores_the_password_and_audits_the_face(secret_service, relaydesk_home) -> None:
    with Store.open() as store:
        account_changes.create_account(store, _account(), face="gui", secret=Secrets("pw-1"))
        assert keyring.get_password("relaydesk", "work") == "pw-1"
        [row] = [r for r in store.audit_rows() if r["action"] == "account_add"]
        assert row["face"] == "gui" and "pw-1" not in str(row)
        assert CredentialResolver(store)(accounts.get_account(store, "work")) == "pw-1"


def test_no_keyring_refuses_before_writing_anything(no_keyring, relaydesk_home: Path) -> None:
    with Store.open() as store:
        with pytest.raises(errors.KeyringUnavailable):
            account_changes.create_account(store, _account(), face="cli", secret=Secrets("pw"))
        assert accounts.list_accounts(store) == []
        # Ask-each-time needs no keyring, and a tool call cannot ask:
        account_changes.create_account(store, _account(PasswordMode.ASK), face="cli")
        resolver = CredentialResolver(store, cannot_ask="a tool call cannot ask")
        with pytest.raises(errors.PasswordMissing, match="a tool call cannot ask"):
            resolver(accounts.get_account(store, "work"))


def test_a_failed_database_write_leaves_the_stored_password_alone(
    secret_service, relaydesk_home
) -> None:
    with Store.open() as store:
        account_changes.create_account(store, _account(), face="cli", secret=Secrets("old"))
        original = accounts.get_account(store, "work")
        with Store.open() as other:  # another process removed the account meanwhile
            other.execute("DELETE FROM accounts WHERE name = 'work'")
        with pytest.raises(errors.NoSuchAccount):
            account_changes.update_account(
                store, original, original.with_changes(port=2525), face="cli",
                secret=Secrets("new"),
            )  # fmt: skip
        assert keyring.get_password("relaydesk", "work") == "old"


def test_switch_to_sign_in_drops_the_password_and_remove_drops_tokens(
    secret_service, relaydesk_home
) -> None:
    with Store.open() as store:
        account_changes.create_account(store, _account(), face="cli", secret=Secrets("pw"))
        original = accounts.get_account(store, "work")
        signed = original.with_changes(password_mode=PasswordMode.OAUTH2)
        account_changes.update_account(store, original, signed, face="cli", oauth2=SETTINGS)
        assert keyring.get_password("relaydesk", "work") is None
        assert oauth2_config.needs_signin(store, "work")
        tokens.save(store, "work", TokenSet("access-1", 2e9, "refresh-1"))
        assert not oauth2_config.needs_signin(store, "work")
        assert keyring.get_password("relaydesk", "work#oauth2-refresh") == "refresh-1"
        assert tokens.access_token(store, "work") == "access-1"
        tokens.lock_path(store, "work").touch()  # as a refresh leaves it

        account_changes.remove_account(store, "work", face="gui")
        assert keyring.get_password("relaydesk", "work#oauth2-refresh") is None
        assert keyring.get_password("relaydesk", "work#oauth2-access") is None
        assert oauth2_config.load(store, "work") is None
        assert not tokens.lock_path(store, "work").exists()
