"""The secrets this process has handled, so no crash report or log line can hold one."""

from __future__ import annotations

_SECRETS: set[str] = set()


def remember_secret(secret: str | None) -> None:
    """Note a password or token this process holds (crash reports blank it)."""
    if secret:
        _SECRETS.add(secret)


def known_secrets() -> tuple[str, ...]:
    """Every secret noted so far."""
    return tuple(_SECRETS)
