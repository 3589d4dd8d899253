"""The send path: take an outbox item over the network and record what happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core import history, outbox
from app.core.accounts import Account, get_account
from app.core.errors import RelayError, UsageError
from app.core.message import Draft, build
from app.core.outbox import RecipientStatus, RetryPolicy, SendResult, State
from app.core.smtp.session import Delivery, SmtpSession, Step, Timeouts
from app.core.smtp.transcript import Transcript
from app.core.store import Store

PasswordSource = Callable[[Account], str | None]


@dataclass
class SendOptions:
    """How one attempt is run; the GUI and CLI fill in what they need."""

    face: str = "cli"
    transcript: Transcript | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    on_step: Callable[[Step], None] | None = None
    on_progress: Callable[[int, int], None] | None = None
    on_session: Callable[[SmtpSession], None] | None = None  # lets a caller cancel
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)


def send_item(
    store: Store,
    item_id: int,
    password: PasswordSource,
    options: SendOptions | None = None,
    *,
    allowed: tuple[State, ...] = outbox.DUE_STATES,
) -> SendResult:
    """One attempt at delivering outbox item ``item_id`` to its pending recipients."""
    options = options or SendOptions()
    if not outbox.claim(store, item_id, allowed=allowed):
        item = outbox.get_item(store, item_id)
        raise outbox_busy(item)
    item = outbox.get_item(store, item_id)
    store.audit(
        face=options.face,
        action="send_attempt",
        outcome="started",
        account=item.account,
        outbox_id=item_id,
        detail={"attempt": item.attempts},
    )
    pending = [
        r.address
        for r in item.recipients
        if r.status in (RecipientStatus.PENDING, RecipientStatus.DEFERRED)
    ]
    try:
        account = get_account(store, item.account)
        delivery = _transmit(store, item, account, pending, password, options)
    except RelayError as error:
        return _record_failure(store, item, pending, error, options)
    except BaseException as error:
        # A bug or an interrupt: leave the item where a person can see and retry it.
        outbox.set_state(
            store,
            item_id,
            State.FAILED,
            error=RelayError(f"Internal error while sending: {type(error).__name__}"),
        )
        raise
    return _record_delivery(store, item, delivery, options)


def outbox_busy(item: outbox.OutboxItem) -> RelayError:
    """The error for an item that is not in a state to be sent now."""
    return UsageError(
        f"Outbox item {item.id} is {item.state.value}; it is not due for sending.",
        hint="Use `relaydesk outbox retry ID` to send a failed or possibly sent item again.",
    )


def _transmit(
    store: Store,
    item: outbox.OutboxItem,
    account: Account,
    recipients: list[str],
    password: PasswordSource,
    options: SendOptions,
) -> Delivery:
    def on_step(step: Step) -> None:
        outbox.record_step(store, item.id, step)
        if options.on_step:
            options.on_step(step)

    data = outbox.message_data(store, item.id)
    session = SmtpSession(
        account, transcript=options.transcript, timeouts=options.timeouts, on_step=on_step
    )
    if options.on_session:
        options.on_session(session)
    with session:
        session.open(password(account) if account.uses_auth else None)
        return session.send(
            item.envelope_from,
            recipients,
            data,
            smtputf8=item.smtputf8,
            on_progress=options.on_progress,
        )


def _record_delivery(
    store: Store, item: outbox.OutboxItem, delivery: Delivery, options: SendOptions
) -> SendResult:
    statuses: dict[str, tuple[RecipientStatus, str | None]] = {}
    accepted = tuple(delivery.accepted) if delivery.final is not None else ()
    refused = {a: str(r) for a, r in delivery.refused.items() if r.is_permanent}
    deferred = {a: str(r) for a, r in delivery.refused.items() if not r.is_permanent}
    for address in accepted:
        statuses[address] = (RecipientStatus.ACCEPTED, str(delivery.accepted[address]))
    for address, reply in refused.items():
        statuses[address] = (RecipientStatus.REFUSED, reply)
    for address, reply in deferred.items():
        statuses[address] = (RecipientStatus.DEFERRED, reply)
    outbox.set_recipient_status(store, item.id, statuses)

    final_reply = str(delivery.final) if delivery.final is not None else None
    if accepted:
        history.record(
            store,
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
    error: RelayError | None = None
    if deferred:
        state = State.RETRYING
        next_at: float | None = time.time() + options.retry_policy.delay(item.attempts)
    elif accepted:
        state, next_at = State.SENT, None
    else:
        state, next_at = State.FAILED, None
        error = outbox.all_refused_error(refused)
    outbox.set_state(store, item.id, state, error=error, next_attempt_at=next_at)
    _audit_outcome(store, item, state, options, accepted=len(accepted), refused=refused)
    return SendResult(
        item.id, state, item.message_id, accepted, refused, deferred, final_reply, error
    )


def _record_failure(
    store: Store,
    item: outbox.OutboxItem,
    pending: list[str],
    error: RelayError,
    options: SendOptions,
) -> SendResult:
    state = outbox.state_after_error(error)
    next_at: float | None = None
    if state is State.RETRYING:
        age = time.time() - item.created_at
        if age > options.retry_policy.max_age:
            state = State.FAILED
        else:
            next_at = time.time() + options.retry_policy.delay(item.attempts)
    if state is State.POSSIBLY_SENT:
        maybe = error.details.get("accepted") or pending
        outbox.set_recipient_status(
            store, item.id, {a: (RecipientStatus.UNCERTAIN, None) for a in maybe}
        )
    outbox.set_state(store, item.id, state, error=error, next_attempt_at=next_at)
    _audit_outcome(store, item, state, options, error=error.to_dict())
    return SendResult(item.id, state, item.message_id, (), {}, {}, None, error)


def _audit_outcome(
    store: Store, item: outbox.OutboxItem, state: State, options: SendOptions, **detail: Any
) -> None:
    store.audit(
        face=options.face,
        action="send_attempt",
        outcome=state.value,
        account=item.account,
        outbox_id=item.id,
        detail=detail,
    )


def queue_draft(store: Store, account: Account, draft: Draft, *, face: str) -> int:
    """Validate and build the draft, then commit it to the outbox; nothing is sent yet."""
    built = build(draft, sender=account.email, sender_name=account.from_name)
    kinds = {address: "to" for address in draft.to}
    kinds.update({address: "cc" for address in draft.cc})
    kinds.update({address: "bcc" for address in draft.bcc})
    return outbox.enqueue(store, account, built, face=face, kinds=kinds)
