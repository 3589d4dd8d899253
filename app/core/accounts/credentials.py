"""The one answer to "what does this account log in with?", for every face.

A password from the keyring, a password the face asks for (through an ``ask``
callback: a terminal prompt, stdin, a dialog on the GUI thread), or an OAuth2
access token that renews itself. The resolver runs on worker threads in the
GUI: it may read the keyring and the network, so never call it on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.accounts.model import Account, PasswordMode
from app.core.errors import PasswordMissing
from app.core.smtp.sasl import BEARER_MECHANISMS
from app.core.store import Store

Ask = Callable[[Account], str]


class TokenCredential:
    """An OAuth2 access token for one account; ``renew`` after the server refused it."""

    def __init__(self, store: Store, account: Account) -> None:
        self._store = store
        self.account = account
        from app.core.accounts.oauth2 import (
            config as oauth2_config,  # presets: signed-in accounts only
        )

        settings = oauth2_config.load(store, account.name)
        self.mechanisms = settings.mechanisms if settings else BEARER_MECHANISMS

    def token(self) -> str:
        """A current access token (refreshed shortly before expiry)."""
        from app.core.accounts.oauth2 import tokens  # keyring and HTTP: only for signed-in accounts

        return tokens.access_token(self._store, self.account.name)

    def renew(self) -> str:
        """A new access token, even if the cached one looks valid."""
        from app.core.accounts.oauth2 import tokens

        return tokens.access_token(self._store, self.account.name, renew=True)

    def __repr__(self) -> str:
        return f"TokenCredential({self.account.name!r})"


class FixedToken:
    """A token from a sign-in not saved yet (the wizard's live test); it cannot renew."""

    def __init__(self, access_token: str, mechanisms: tuple[str, ...]) -> None:
        self._token = access_token
        self.mechanisms = mechanisms

    def token(self) -> str:
        return self._token

    def renew(self) -> str:
        return self._token

    def __repr__(self) -> str:
        return "FixedToken(<hidden>)"


Credential = str | TokenCredential | FixedToken  # a str is a password


class CredentialResolver:
    """``resolver(account)`` → the credential, asked for at most once per account and run.

    ``ask`` is the face's way to get a password from the person (None: this face
    cannot ask, e.g. an agent's tool call). ``ask_first`` makes the face's answer
    win over the keyring (``--password-stdin``).
    """

    def __init__(
        self,
        store: Store,
        *,
        ask: Ask | None = None,
        ask_first: bool = False,
        cannot_ask: str = "",
    ) -> None:
        self._store = store
        self._ask = ask
        self._ask_first = ask_first
        self._cannot_ask = cannot_ask
        self._cache: dict[str, Credential] = {}

    def __call__(self, account: Account) -> Credential | None:
        if account.password_mode is PasswordMode.NONE or not account.uses_auth:
            return None
        if account.name not in self._cache:
            self._cache[account.name] = self._resolve(account)
        return self._cache[account.name]

    def forget(self, name: str) -> None:
        """Drop what was asked for ``name`` (its password changed)."""
        self._cache.pop(name, None)

    def _resolve(self, account: Account) -> Credential:
        if account.password_mode is PasswordMode.OAUTH2:
            credential = TokenCredential(self._store, account)
            credential.token()  # fail early (sign-in needed) before anything is sent
            return credential
        if self._ask is not None and (self._ask_first or account.password_mode is PasswordMode.ASK):
            return self._ask(account)
        if account.password_mode is PasswordMode.KEYRING:
            # keyring costs ~30 ms to import: accounts without a password never pay it
            from app.core.accounts import secrets

            return secrets.get_password(account.name)
        raise PasswordMissing(
            f"Account “{account.name}” asks for its password each time, and "
            f"{self._cannot_ask or 'nothing here can ask for it'}.",
            hint=f"Store it in the keyring: relaydesk account password {account.name} "
            "--password-stdin",
        )


def resolver_with(store: Store, password: str | None) -> CredentialResolver:
    """A resolver for a face that already holds the password (typed in a dialog)."""
    if password is None:
        return CredentialResolver(store, cannot_ask="no password was entered")
    return CredentialResolver(store, ask=lambda _account: password, ask_first=True)
