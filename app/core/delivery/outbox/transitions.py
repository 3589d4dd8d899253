"""Every change of an item's state: one transaction, guarded by the states it may leave.

A guard (``WHERE state IN (…)``) that matches nothing means another process
got there first; the change is then not made, rather than made over theirs.
Recording what a delivery ended in (recipient results, the history row, the
new state and the audit row) is one transaction, so after a crash at any point
history and state agree.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.core import faults
from app.core.delivery import history, spool
from app.core.delivery.outbox.model import (
    DISCARDABLE_STATES,
    DUE_STATES,
    RETRYABLE_STATES,
    OutboxItem,
    RecipientStatus,
    State,
    error_json,
)
from app.core.delivery.outbox.queue import get_item
from app.core.errors import RelayError, UsageError
from app.core.smtp.steps import Step
from app.core.store import Store

Statuses = dict[str, tuple[RecipientStatus, str | None]]


def _marks(states: Iterable[State]) -> tuple[str, tuple[str, ...]]:
    values = tuple(state.value for state in states)
    return ", ".join("?" for _ in values), values


def move(
    db: sqlite3.Connection,
    item_id: int,
    expected: Iterable[State],
    state: State,
    *,
    error: RelayError | None = None,
    next_attempt_at: float | None = None,
) -> bool:
    """Inside a transaction: set ``state`` if the item is in one of ``expected``."""
    marks, values = _marks(expected)
    cursor = db.execute(
        "UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ?, owner_pid = NULL,"
        f" updated_at = ? WHERE id = ? AND state IN ({marks})",
        (state.value, error_json(error), next_attempt_at, time.time(), item_id, *values),
    )
    return cursor.rowcount == 1


def claim(store: Store, item_id: int, *, allowed: Iterable[State] = DUE_STATES) -> bool:
    """Atomically mark an item ``sending`` for this process; False if someone else has it."""
    marks, values = _marks(allowed)
    with store.transaction() as db:
        cursor = db.execute(
            f"UPDATE outbox SET state = ?, step = NULL, owner_pid = ?, attempts = attempts + 1,"
            f" updated_at = ? WHERE id = ? AND state IN ({marks})",
            (State.SENDING.value, os.getpid(), time.time(), item_id, *values),
        )
        return cursor.rowcount == 1


def record_step(store: Store, item_id: int, step: Step) -> None:
    """Commit the protocol step reached before it is taken."""
    with store.transaction() as db:
        db.execute(
            "UPDATE outbox SET step = ?, updated_at = ? WHERE id = ? AND state = ?",
            (step.value, time.time(), item_id, State.SENDING.value),
        )
    faults.checkpoint(f"step:{step.value}")


def set_state(
    store: Store,
    item_id: int,
    state: State,
    *,
    error: RelayError | None = None,
    next_attempt_at: float | None = None,
    expected: Iterable[State] = tuple(State),
) -> bool:
    """Commit a new state (and the error that caused it) if the item is in ``expected``."""
    with store.transaction() as db:
        return move(db, item_id, expected, state, error=error, next_attempt_at=next_attempt_at)


def write_statuses(db: sqlite3.Connection | Store, item_id: int, statuses: Statuses) -> None:
    """Per-recipient results of one transaction (inside the caller's transaction)."""
    now = time.time()
    for address, (status, reply) in statuses.items():
        db.execute(
            "UPDATE outbox_recipients SET status = ?, reply = ?, updated_at = ?"
            " WHERE outbox_id = ? AND address = ?",
            (status.value, reply, now, item_id, address),
        )


def set_recipient_status(store: Store, item_id: int, statuses: Statuses) -> None:
    """Commit per-recipient results of one transaction."""
    with store.transaction() as db:
        write_statuses(db, item_id, statuses)


@dataclass(frozen=True)
class Outcome:
    """What an attempt ended in, recorded by ``finish`` in one transaction."""

    state: State
    statuses: Statuses = field(default_factory=dict)
    error: RelayError | None = None
    next_attempt_at: float | None = None
    final_reply: str | None = None
    record_history: bool = False  # the server accepted it for someone: add a history row
    audit: dict[str, Any] = field(default_factory=dict)


def finish(
    store: Store,
    item_id: int,
    outcome: Outcome,
    *,
    face: str,
    expected: Iterable[State] = (State.SENDING,),
) -> None:
    """Commit an attempt's outcome: recipients, history, state and audit row, all or none.

    The item must still be in ``expected`` (by default ``sending``: claimed by
    this attempt); a UsageError says it is not, and nothing is written.
    """
    item = get_item(store, item_id)
    with store.transaction() as db:
        write_statuses(db, item_id, outcome.statuses)
        faults.checkpoint("record:recipients")
        if outcome.record_history:
            _record_history(db, item, outcome.statuses, outcome.final_reply)
            faults.checkpoint("record:history")
        if not move(
            db,
            item_id,
            expected,
            outcome.state,
            error=outcome.error,
            next_attempt_at=outcome.next_attempt_at,
        ):
            raise _not_ours(item_id)
        store.audit(
            face=face,
            action="send_attempt",
            outcome=outcome.state.value,
            account=item.account,
            outbox_id=item_id,
            detail=outcome.audit or None,
        )
    faults.checkpoint("recorded")


def _not_ours(item_id: int) -> UsageError:
    return UsageError(
        f"Outbox item {item_id} was changed by another Relaydesk while this one sent it.",
        hint="See its state with: relaydesk outbox list",
    )


def retry(store: Store, item_id: int, *, face: str) -> None:
    """The user asks to send again now (keeps the same Message-ID)."""
    item = get_item(store, item_id)
    allowed = (*RETRYABLE_STATES, State.QUEUED)
    with store.transaction() as db:
        if not move(db, item_id, allowed, State.QUEUED, next_attempt_at=time.time()):
            raise UsageError(
                f"Outbox item {item_id} is {get_item(store, item_id).state.value}; "
                "it cannot be sent again.",
                hint="Only retrying, failed, possibly sent or cancelled items can be retried.",
            )
        # Recipients with a confirmed delivery are never sent it again; those in a
        # transaction that may have gone through are, because the user asked.
        db.execute(
            "UPDATE outbox_recipients SET status = 'pending' WHERE outbox_id = ?"
            " AND status IN ('deferred', 'uncertain')",
            (item_id,),
        )
        store.audit(
            face=face, action="retry", outcome="queued", account=item.account, outbox_id=item_id
        )


def discard(store: Store, item_id: int, *, face: str) -> None:
    """Remove an unsent item from the outbox for good (never one being sent or sent)."""
    item = get_item(store, item_id)
    marks, values = _marks(DISCARDABLE_STATES)
    with store.transaction() as db:
        row = db.execute("SELECT spool_path FROM outbox WHERE id = ?", (item_id,)).fetchone()
        cursor = db.execute(
            f"DELETE FROM outbox WHERE id = ? AND state IN ({marks})", (item_id, *values)
        )
        if cursor.rowcount != 1:
            state = get_item(store, item_id).state.value
            raise UsageError(
                f"Outbox item {item_id} is {state} and cannot be discarded.",
                hint="Wait until it has finished; sent items are kept in the history.",
            )
        store.audit(
            face=face,
            action="discard",
            outcome="discarded",
            account=item.account,
            outbox_id=item_id,
        )
    # After the commit: a crash here leaves an orphan file, never a row without its file.
    spool.remove(row["spool_path"] if row is not None else None)


def postpone(store: Store, item_id: int, when: float, error: RelayError) -> None:
    """Keep the item's state but move its next attempt (quota reached)."""
    marks, values = _marks(DUE_STATES)
    with store.transaction() as db:
        db.execute(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ?, updated_at = ?"
            f" WHERE id = ? AND state IN ({marks})",
            (when, error_json(error), time.time(), item_id, *values),
        )


def cancel(store: Store, item_id: int, *, face: str) -> None:
    """Stop a queued or retrying item from being sent (it stays visible as cancelled)."""
    item = get_item(store, item_id)
    marks, values = _marks(DUE_STATES)
    with store.transaction() as db:
        cursor = db.execute(
            "UPDATE outbox SET state = ?, owner_pid = NULL, updated_at = ?"
            f" WHERE id = ? AND state IN ({marks})",
            (State.CANCELLED.value, time.time(), item_id, *values),
        )
        if cursor.rowcount != 1:
            state = get_item(store, item_id).state.value
            raise UsageError(
                f"Outbox item {item_id} is {state}; only queued or retrying items "
                "can be cancelled.",
                hint="A message being sent right now is cancelled from the window that sends it.",
            )
        store.audit(
            face=face, action="cancel", outcome="cancelled", account=item.account, outbox_id=item_id
        )


def record_transaction(
    store: Store, item_id: int, statuses: Statuses, *, final_reply: str | None
) -> None:
    """One accepted transaction of several (a server's recipient limit split the list).

    Its recipients and history row are committed together, and the step is
    cleared: the next transaction starts from nothing in flight, so a crash
    before its final dot resends only to those who do not have the message.
    """
    item = get_item(store, item_id)
    with store.transaction() as db:
        write_statuses(db, item_id, statuses)
        _record_history(db, item, statuses, final_reply)
        db.execute(
            "UPDATE outbox SET step = NULL, updated_at = ? WHERE id = ? AND state = ?",
            (time.time(), item_id, State.SENDING.value),
        )


def _record_history(
    db: sqlite3.Connection, item: OutboxItem, statuses: Statuses, final_reply: str | None
) -> None:
    """The History row of one accepted transaction, inside the caller's transaction."""
    history.record(
        db,
        outbox_id=item.id,
        account=item.account,
        message_id=item.message_id,
        subject=item.subject,
        envelope_from=item.envelope_from,
        recipients=[
            {"address": a, "status": s.value, "reply": r} for a, (s, r) in statuses.items()
        ],
        final_reply=final_reply,
        size=item.size,
    )
