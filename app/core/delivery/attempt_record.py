"""Turning what the server said into the outbox's record of an attempt.

Each function builds one ``outbox.Outcome`` and commits it with
``outbox.finish``: recipient results, history row, state and audit row in one
transaction.
"""

from __future__ import annotations

import time

from app.core.delivery import outbox
from app.core.delivery.outbox import Outcome, RecipientStatus, RetryPolicy, SendResult, State
from app.core.errors import PossiblySent, RelayError, StorageError
from app.core.smtp.session import Delivery
from app.core.store import Store


def statuses_of(delivery: Delivery) -> dict[str, tuple[RecipientStatus, str | None]]:
    statuses: dict[str, tuple[RecipientStatus, str | None]] = {}
    if delivery.final is not None:
        for address, reply in delivery.accepted.items():
            statuses[address] = (RecipientStatus.ACCEPTED, str(reply))
    for address, reply in delivery.refused.items():
        status = RecipientStatus.REFUSED if reply.is_permanent else RecipientStatus.DEFERRED
        statuses[address] = (status, str(reply))
    if delivery.error is not None:
        # A later transaction failed after an earlier one went through.
        status = (
            RecipientStatus.UNCERTAIN
            if isinstance(delivery.error, PossiblySent)
            else RecipientStatus.DEFERRED
        )
        for address in delivery.unsent:
            statuses[address] = (status, delivery.error.message)
    return statuses


def reply_text(delivery: Delivery) -> str | None:
    return str(delivery.final) if delivery.final is not None else None


def record_delivery(
    store: Store,
    item: outbox.OutboxItem,
    delivery: Delivery,
    recorded: set[str],
    *,
    face: str,
    policy: RetryPolicy,
) -> SendResult:
    statuses = statuses_of(delivery)
    by_status: dict[RecipientStatus, dict[str, str]] = {}
    for address, (status, reply) in statuses.items():
        by_status.setdefault(status, {})[address] = reply or ""
    accepted = tuple(by_status.get(RecipientStatus.ACCEPTED, {}))
    refused = by_status.get(RecipientStatus.REFUSED, {})
    deferred = by_status.get(RecipientStatus.DEFERRED, {})
    final_reply = reply_text(delivery)

    error: RelayError | None = None
    next_at: float | None = None
    if by_status.get(RecipientStatus.UNCERTAIN):
        state, error = State.POSSIBLY_SENT, delivery.error
    elif deferred:
        state = State.RETRYING
        next_at = time.time() + policy.delay(item.attempts)
    elif accepted or _earlier_accepted(item):
        state = State.SENT
    else:
        state = State.FAILED
        error = outbox.all_refused_error(refused)
    fresh = {a: s for a, s in statuses.items() if a not in recorded}
    outcome = Outcome(
        state,
        statuses=fresh,
        error=error,
        next_attempt_at=next_at,
        final_reply=final_reply,
        record_history=any(s is RecipientStatus.ACCEPTED for s, _ in fresh.values()),
        audit={"accepted": list(accepted), "refused": refused},
    )
    try:
        outbox.finish(store, item.id, outcome, face=face)
    except StorageError as failure:
        return _unrecorded(store, item, failure, face)
    return SendResult(
        item.id, state, item.message_id, accepted, refused, deferred, final_reply, error
    )


def _unrecorded(
    store: Store, item: outbox.OutboxItem, failure: StorageError, face: str
) -> SendResult:
    """The server answered, but the outcome could not be written (disk full).

    The item is settled as possibly sent when even that small write works, so it
    is neither stuck in ``sending`` nor sent a second time; the person is told
    the truth: the server may well have the message.
    """
    try:
        state = outbox.release(store, item.id, face=face)
    except StorageError:
        state = State.SENDING  # the next start settles it (its sender is gone by then)
    error = StorageError(
        f"The server accepted the message, but Relaydesk could not record that in {store.path} "
        "(the disk is full or the folder is read-only).",
        hint="Free some disk space. The message is kept as possibly sent: check your Sent "
        "folder before sending it again.",
        details={"cause": failure.message},
    )
    return SendResult(item.id, state, item.message_id, (), {}, {}, None, error)


def _earlier_accepted(item: outbox.OutboxItem) -> bool:
    """Some recipients got the message in an earlier attempt (a partial delivery)."""
    return any(r.status is RecipientStatus.ACCEPTED for r in item.recipients)


def record_failure(
    store: Store,
    item: outbox.OutboxItem,
    pending: list[str],
    error: RelayError,
    *,
    face: str,
    policy: RetryPolicy,
) -> SendResult:
    state = outbox.state_after_error(error)
    next_at: float | None = None
    if state is State.RETRYING:
        if time.time() - item.created_at > policy.max_age:
            state = State.FAILED
        else:
            next_at = time.time() + policy.delay(item.attempts)
    statuses: dict[str, tuple[RecipientStatus, str | None]] = {}
    if state is State.POSSIBLY_SENT:
        maybe = error.details.get("accepted") or pending
        statuses = {a: (RecipientStatus.UNCERTAIN, None) for a in maybe}
    outcome = Outcome(
        state,
        statuses=statuses,
        error=error,
        next_attempt_at=next_at,
        audit={"error": error.to_dict()},
    )
    outbox.finish(store, item.id, outcome, face=face)
    return SendResult(item.id, state, item.message_id, (), {}, {}, None, error)


def fail_without_attempt(store: Store, item_id: int, error: RelayError, *, face: str) -> SendResult:
    item = outbox.get_item(store, item_id)
    outcome = Outcome(State.FAILED, error=error, audit={"error": error.to_dict()})
    outbox.finish(store, item_id, outcome, face=face, expected=outbox.DUE_STATES)
    return SendResult(item_id, State.FAILED, item.message_id, (), {}, {}, None, error)
