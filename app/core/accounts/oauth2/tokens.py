"""An account's tokens: refresh token in the OS keyring only, access token cached.

The access token is kept in memory and in the keyring (so one CLI run after
another need not refresh); it is renewed shortly before it expires, and on
demand when the SMTP server refuses it. A rotated refresh token replaces the
old one in one keyring write. A refresh the provider refuses with
``invalid_grant`` marks the account as needing a new sign-in.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from app.core.accounts import secrets
from app.core.accounts.oauth2 import config, http
from app.core.accounts.oauth2.clients import resolve_client, secret_key
from app.core.accounts.oauth2.http import OAuthProblem, TokenSet
from app.core.accounts.oauth2.problems import signin_hint
from app.core.errors import SignInRequired
from app.core.store import Store

REFRESH_SUFFIX = "#oauth2-refresh"
ACCESS_SUFFIX = "#oauth2-access"
EARLY = 120.0  # renew this many seconds before the provider's expiry

_lock = threading.Lock()  # one refresh at a time per process: rotation must not race
_memory: dict[str, tuple[str, float]] = {}


def _refresh_key(account: str) -> str:
    return account + REFRESH_SUFFIX


def _access_key(account: str) -> str:
    return account + ACCESS_SUFFIX


def save(store: Store, account: str, tokens: TokenSet) -> None:
    """Keep what a sign-in returned and clear the "needs sign-in" mark."""
    if tokens.refresh_token:
        secrets.store_secret(_refresh_key(account), tokens.refresh_token)
    _remember(account, tokens)
    config.mark_signed_in(store, account)


def forget(account: str) -> None:
    """Remove every token and the client secret of ``account`` (account removed)."""
    with _lock:
        _memory.pop(account, None)
    for key in (_refresh_key(account), _access_key(account), secret_key(account)):
        secrets.delete_secret(key)


def access_token(store: Store, account: str, *, renew: bool = False) -> str:
    """A usable access token; ``renew`` forces a refresh (the server refused the last one)."""
    with _lock:
        if not renew:
            cached = _memory.get(account) or _stored_access(account)
            if cached is not None and cached[1] - EARLY > time.time():
                _memory[account] = cached
                return cached[0]
        refused = _memory.get(account)
        with _refresh_lock(lock_path(store, account)):
            # Another process may have refreshed while this one waited for the lock.
            stored = _stored_access(account)
            if stored is not None and stored != refused and stored[1] - EARLY > time.time():
                _memory[account] = stored
                return stored[0]
            return _refresh(store, account).access_token


def lock_path(store: Store, account: str) -> Path:
    """The (empty) file that serialises refreshes of ``account`` across processes."""
    return store.path.parent / f"oauth2-{account}.lock"


@contextlib.contextmanager
def _refresh_lock(path: Path) -> Iterator[None]:
    """One refresh at a time across processes (CLI, cron's sendmail, the GUI), where possible."""
    try:
        import fcntl
    except ImportError:  # Windows: the retry with the newer refresh token covers the race
        yield
        return
    with open(path, "a") as handle:  # an empty file; it holds nothing secret
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _refresh(store: Store, account: str) -> TokenSet:
    settings = config.load(store, account)
    if settings is None or config.needs_signin(store, account):
        raise _signin_required(account)
    refresh_token = secrets.get_secret(_refresh_key(account))
    if not refresh_token:
        raise _signin_required(account)
    client = resolve_client(account, settings)
    try:
        tokens = http.refresh(settings, client, refresh_token)
    except OAuthProblem as problem:
        if problem.error == "invalid_grant":
            # Another process may have rotated the token meanwhile: try the newer one once.
            newer = secrets.get_secret(_refresh_key(account))
            if newer and newer != refresh_token:
                try:
                    tokens = http.refresh(settings, client, newer)
                except OAuthProblem as again:
                    problem = again
                else:
                    return _keep(account, tokens, newer)
        if problem.error == "invalid_grant":
            config.mark_needs_signin(store, account)
            _drop_access(account)
        raise http.fail(account, problem) from None
    return _keep(account, tokens, refresh_token)


def _keep(account: str, tokens: TokenSet, used: str) -> TokenSet:
    if tokens.refresh_token and tokens.refresh_token != used:
        secrets.store_secret(_refresh_key(account), tokens.refresh_token)  # rotated
    _remember(account, tokens)
    return tokens


def _remember(account: str, tokens: TokenSet) -> None:
    _memory[account] = (tokens.access_token, tokens.expires_at)
    payload = json.dumps({"token": tokens.access_token, "expires_at": tokens.expires_at})
    secrets.store_secret(_access_key(account), payload)


def _stored_access(account: str) -> tuple[str, float] | None:
    raw = secrets.get_secret(_access_key(account))
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return str(data["token"]), float(data["expires_at"])
    except (ValueError, KeyError, TypeError):
        return None


def _drop_access(account: str) -> None:
    _memory.pop(account, None)
    secrets.delete_secret(_access_key(account))


def _signin_required(account: str) -> SignInRequired:
    return SignInRequired(
        f"Account “{account}” must sign in again before it can send.",
        hint=signin_hint(account),
        details={"account": account},
    )
