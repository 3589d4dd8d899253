"""Passwords live in the OS keyring and nowhere else.

A keyring backend that would write the secret to a file in plain or merely
encoded form, or that cannot store anything, is refused: the user can instead
choose to be asked for the password each time (kept in memory only).
"""

from __future__ import annotations

import os
from typing import Any

import keyring
import keyring.errors

from app.core.accounts.session_bus import find_session_bus
from app.core.errors import KeyringUnavailable, PasswordMissing
from app.core.redaction import remember_secret

SERVICE = "relaydesk"

find_session_bus()  # before keyring picks a backend: MCP clients and cron give a bare env

# Module prefixes of backends that must never hold a password.
_REFUSED_MODULES = (
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyrings.alt",  # plaintext, base64 "encrypted" file backends
    "keyrings.cryptfile",  # prompts on stdin for its own password
)


def _leaf_backends(backend: Any) -> list[Any]:
    children = getattr(backend, "backends", None)
    if children is not None:  # keyring's ChainerBackend
        return [leaf for child in children for leaf in _leaf_backends(child)]
    return [backend]


def _is_acceptable(backend: Any) -> bool:
    module = type(backend).__module__
    return not module.startswith(_REFUSED_MODULES)


def _backend() -> Any:
    """The active backend; KeyringUnavailable when the one configured cannot load."""
    try:
        return keyring.get_keyring()
    except Exception as error:  # noqa: BLE001 - keyring imports whatever the env names
        chosen = os.environ.get("PYTHON_KEYRING_BACKEND")
        where = f"PYTHON_KEYRING_BACKEND={chosen}" if chosen else "the keyring configuration"
        raise KeyringUnavailable(
            f"The keyring backend chosen by {where} cannot be loaded "
            f"({type(error).__name__}: {error}).",
            hint="Unset PYTHON_KEYRING_BACKEND (or name an installed backend, e.g. "
            "keyring.backends.SecretService.Keyring), or use --ask-password.",
            details={"backend": chosen},
        ) from None


def backend_name() -> str:
    """The active backend's name, for messages and `account list`."""
    try:
        backend = _backend()
    except KeyringUnavailable:
        return "unavailable"
    return f"{type(backend).__module__}.{type(backend).__name__}"


def keyring_usable() -> bool:
    """True when the active keyring can store secrets safely."""
    try:
        leaves = _leaf_backends(_backend())
    except KeyringUnavailable:
        return False
    return bool(leaves) and all(_is_acceptable(leaf) for leaf in leaves)


def _unavailable(detail: str = "") -> KeyringUnavailable:
    reason = f" ({detail})" if detail else ""
    return KeyringUnavailable(
        f"No usable system keyring was found{reason}; Relaydesk will not store "
        "the password in a file.",
        hint="Start your desktop's keyring (GNOME Keyring, KWallet, macOS Keychain, "
        "Windows Credential Locker), or add the account with --ask-password to be "
        "asked for the password each time.",
        details={"backend": backend_name()},
    )


def _failed(error: Exception) -> KeyringUnavailable:
    """What a failed keyring call means to the person.

    Backends talk to another process (the Secret Service over D-Bus, KWallet, …): one that
    went away mid-session raises OSError-like errors rather than KeyringError, and each is
    the same news — the keyring did not do it.
    """
    if isinstance(error, keyring.errors.KeyringLocked):
        return KeyringUnavailable(
            "The system keyring is locked and was not unlocked (the unlock prompt was "
            "dismissed or timed out).",
            hint="Try again and unlock the keyring when your desktop asks, or choose to be "
            "asked for the password each time (--ask-password).",
            details={"backend": backend_name()},
        )
    return _unavailable(type(error).__name__)


def ensure_keyring() -> None:
    """Raise KeyringUnavailable unless a safe keyring is active."""
    _backend()  # a backend that cannot load says so, by name
    if not keyring_usable():
        raise _unavailable()


def store_password(account: str, password: str) -> None:
    """Save the account's password in the keyring."""
    ensure_keyring()
    remember_secret(password)
    try:
        keyring.set_password(SERVICE, account, password)
    except Exception as error:  # noqa: BLE001 - any backend failure means the same: see _failed
        raise _failed(error) from None


def get_password(account: str) -> str:
    """The stored password, or PasswordMissing with what to do."""
    ensure_keyring()
    try:
        password = keyring.get_password(SERVICE, account)
    except Exception as error:  # noqa: BLE001 - any backend failure means the same: see _failed
        raise _failed(error) from None
    remember_secret(password)
    if password is None:
        raise PasswordMissing(
            f"No password for account “{account}” is stored in the keyring.",
            hint=f"Store it again: relaydesk account password {account} --password-stdin, "
            "or re-add the account.",
        )
    return password


def delete_password(account: str) -> bool:
    """Remove the stored password; False when there was none or no keyring."""
    if not keyring_usable():
        return False
    try:
        keyring.delete_password(SERVICE, account)
    except keyring.errors.PasswordDeleteError:
        return False
    except Exception:  # noqa: BLE001 - the keyring went away or stayed locked: nothing removed
        return False
    return True


# --- other secrets (OAuth2 tokens, client secrets) under their own keyring entries ----


def store_secret(key: str, value: str) -> None:
    """Save one secret under ``key``; keyring replaces an existing entry in one call."""
    store_password(key, value)


def get_secret(key: str) -> str | None:
    """The secret under ``key``, or None when there is none."""
    ensure_keyring()
    try:
        value = keyring.get_password(SERVICE, key)
    except Exception as error:  # noqa: BLE001 - any backend failure means the same: see _failed
        raise _failed(error) from None
    remember_secret(value if isinstance(value, str) else None)  # tokens too: never in a report
    return value if isinstance(value, str) else None


def delete_secret(key: str) -> bool:
    """Remove the secret under ``key``; False when there was none."""
    return delete_password(key)
