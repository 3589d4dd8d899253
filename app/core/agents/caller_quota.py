"""Per-caller quotas of the send_email tool, safe against callers racing each other.

Usage is counted from the audit log (tool calls that reached the outbox) plus
*holds*: a call takes a hold inside one write transaction before it sends, so
ten parallel calls against a quota of three see each other and exactly three
go out. The hold is dropped in the same transaction that writes the call's audit
row, so the slot is counted exactly once; it is freed when nothing was queued, or
when the server refused the message outright (state ``failed``: nothing was sent).
A hold left by a killed process still counts until it leaves the window.
"""

from __future__ import annotations

import time

from app.core.agents.policy import TOOL_ACTION, TOOL_FACE, Policy
from app.core.errors import CallerQuotaExceeded
from app.core.store import Store

_HOUR, _DAY = 3600.0, 24 * 3600.0


def sent_count(store: Store, caller: str, since: float) -> int:
    """How many messages the caller queued (or is queuing) through the tool since ``since``."""
    row = store.execute(
        "SELECT (SELECT COUNT(*) FROM audit WHERE face = ? AND action = ? AND at >= ?"
        " AND outbox_id IS NOT NULL AND outcome != 'failed'"
        " AND json_extract(detail, '$.caller') = ?)"
        " + (SELECT COUNT(*) FROM quota_holds WHERE caller = ? AND at >= ?)",
        (TOOL_FACE, TOOL_ACTION, since, caller, caller, since),
    ).fetchone()
    return int(row[0])


def check_quota(store: Store, policy: Policy, now: float | None = None) -> None:
    """CallerQuotaExceeded when one more message would pass the hourly or daily quota."""
    now = time.time() if now is None else now
    for limit, window, label in ((policy.per_hour, _HOUR, "hour"), (policy.per_day, _DAY, "day")):
        if limit is None:
            continue
        used = sent_count(store, policy.caller, now - window)
        if used >= limit:
            raise CallerQuotaExceeded(
                f"Caller “{policy.caller}” has sent {used} messages in the last {label}; "
                f"the limit is {limit}. Nothing was queued.",
                hint="Wait and try again later, or raise the quota with: "
                f"relaydesk policy set {policy.caller} --per-{label} N",
                details={"used": used, "limit": limit, "window": label},
            )


def reserve(store: Store, policy: Policy) -> int:
    """Check the quota and take a hold on one slot, atomically; returns the hold's id."""
    with store.transaction() as db:
        check_quota(store, policy)
        cursor = db.execute(
            "INSERT INTO quota_holds (caller, at) VALUES (?, ?)", (policy.caller, time.time())
        )
        return int(cursor.lastrowid or 0)


def release(store: Store, hold: int) -> None:
    """Drop a hold (inside the caller's transaction, next to the audit row it becomes)."""
    store.execute("DELETE FROM quota_holds WHERE id = ?", (hold,))
