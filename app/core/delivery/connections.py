"""How many connections an account may open at once for a run of messages.

Stored per account as a setting (no schema change); the default is one, as a
single desktop client would use, and never more than ``MAX_CONNECTIONS`` (a
submission server counts concurrent sessions per login, and most refuse
beyond a handful with 421).
"""

from __future__ import annotations

from app.core.errors import InvalidInput
from app.core.store import Store

DEFAULT_CONNECTIONS = 1
MAX_CONNECTIONS = 8


def _key(account: str) -> str:
    return f"connections:{account}"


def get_connections(store: Store, account: str) -> int:
    """The account's connection count (1 unless the user chose more)."""
    raw = store.get_setting(_key(account))
    return int(raw) if raw and raw.isdigit() else DEFAULT_CONNECTIONS


def check_connections(count: int) -> int:
    """``count`` if it is allowed; InvalidInput saying the range otherwise."""
    if not 1 <= count <= MAX_CONNECTIONS:
        raise InvalidInput(
            f"{count} connections is out of range.",
            hint=f"Use 1 to {MAX_CONNECTIONS}; most providers refuse more than a few at once.",
        )
    return count


def set_connections(store: Store, account: str, count: int) -> None:
    """Store the account's connection count (1 to MAX_CONNECTIONS)."""
    store.set_setting(_key(account), str(check_connections(count)))
