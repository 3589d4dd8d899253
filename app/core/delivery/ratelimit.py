"""Sending quotas per account: per minute, hour and day.

Counted from the history (messages the server accepted), so the count survives
restarts and is shared by the GUI, the CLI and sendmail. Defaults come from the
provider preset's documented daily limit; the user may change them.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from app.core.accounts.model import Account
from app.core.errors import InvalidInput, QuotaExceeded
from app.core.store import Store

WINDOWS = (("minute", 60.0), ("hour", 3600.0), ("day", 86400.0))


@dataclass(frozen=True)
class Quota:
    """Limits on messages accepted per window; None means no limit."""

    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None

    def limits(self) -> list[tuple[str, float, int]]:
        """(window name, seconds, limit) for each limit that is set."""
        values = (self.per_minute, self.per_hour, self.per_day)
        return [
            (name, span, limit)
            for (name, span), limit in zip(WINDOWS, values, strict=True)
            if limit is not None
        ]


def _key(account: str) -> str:
    return f"quota:{account}"


def default_quota(account: Account) -> Quota:
    """The provider's documented daily limit, when the account came from a preset."""
    if account.preset:
        from app.core.setup.presets import get_preset  # the provider data: only for preset accounts

        try:
            preset = get_preset(account.preset)
        except Exception:  # noqa: BLE001 - a preset removed in a later version: no default
            return Quota()
        return Quota(per_day=preset.daily_limit)
    return Quota()


def get_quota(store: Store, account: Account) -> Quota:
    """The account's quota: the user's setting, else the preset's default."""
    raw = store.get_setting(_key(account.name))
    if raw is None:
        return default_quota(account)
    return Quota(**json.loads(raw))


def set_quota(store: Store, account: str, quota: Quota) -> None:
    """Store the user's limits for the account."""
    for name, _, limit in quota.limits():
        if limit < 1:
            raise InvalidInput(
                f"A per-{name} limit must be at least 1.",
                hint="Leave it out for no limit.",
            )
    store.set_setting(_key(account), json.dumps(asdict(quota)))


def sent_since(store: Store, account: str, since: float) -> list[float]:
    """Send times of accepted messages since ``since``, oldest first."""
    rows = store.execute(
        "SELECT sent_at FROM history WHERE account = ? AND sent_at >= ? ORDER BY sent_at",
        (account, since),
    ).fetchall()
    return [float(row["sent_at"]) for row in rows]


def next_free_slot(store: Store, account: Account, now: float | None = None) -> float | None:
    """None when a message may go now; else the earliest time one may."""
    now = time.time() if now is None else now
    latest: float | None = None
    for _, span, limit in get_quota(store, account).limits():
        times = sent_since(store, account.name, now - span)
        if len(times) >= limit:
            # The slot frees when the oldest message that still counts leaves the window.
            frees_at = times[len(times) - limit] + span
            latest = frees_at if latest is None else max(latest, frees_at)
    return latest


def check(store: Store, account: Account, now: float | None = None) -> None:
    """Raise QuotaExceeded (with the time of the next slot) when the account is at its limit."""
    now = time.time() if now is None else now
    slot = next_free_slot(store, account, now)
    if slot is None:
        return
    quota = get_quota(store, account)
    described = ", ".join(f"{limit} per {name}" for name, _, limit in quota.limits())
    when = time.strftime("%H:%M", time.localtime(slot))
    raise QuotaExceeded(
        f"“{account.name}” has reached its sending limit ({described}); the message waits "
        f"in the outbox until {when}.",
        hint="It will be sent automatically then. Change the limit with "
        f"`relaydesk account quota {account.name}` if your provider allows more.",
        details={"next_attempt_at": slot},
    )
