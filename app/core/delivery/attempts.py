"""The send path: take outbox items over the network and record what happened.

Every step is committed before it is taken (see ``outbox.record_step``), so the
outcome of a crash can be judged later. Several due items of one account share
one connection, with RSET between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.core import faults, settings
from app.core.accounts import identity
from app.core.accounts.model import Account, get_account
from app.core.delivery import outbox, ratelimit, spool
from app.core.delivery.attempt_record import (
    fail_without_attempt,
    record_delivery,
    record_failure,
    reply_text,
    statuses_of,
)
from app.core.delivery.message import Draft, build
from app.core.delivery.outbox import RecipientStatus, RetryPolicy, SendResult, State
from app.core.errors import QuotaExceeded, RelayError, UsageError
from app.core.smtp.session import BearerToken, Delivery, SmtpSession, Step, Timeouts
from app.core.smtp.transcript import Transcript
from app.core.store import Store

PasswordSource = Callable[[Account], "str | BearerToken | None"]


@dataclass
class SendOptions:
    """How attempts are run; the GUI and CLI fill in what they need."""

    face: str = "cli"
    transcript: Transcript | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    on_step: Callable[[Step], None] | None = None
    on_progress: Callable[[int, int], None] | None = None
    on_session: Callable[[SmtpSession], None] | None = None  # lets a caller cancel
    retry_policy: RetryPolicy | None = None  # None: the user's setting from the store
    check_quota: bool = True
    # PIPELINING / CHUNKING when the server offers them; None: the setting (default on).
    pipelining: bool | None = None
    chunking: bool | None = None


PIPELINING_SETTING = "smtp_pipelining"
CHUNKING_SETTING = "smtp_chunking"


def fast_path_enabled(store: Store, setting: str, option: bool | None) -> bool:
    """The caller's choice, else the stored setting ("off" turns it off), else on."""
    if option is not None:
        return option
    return bool(settings.get(store, setting))


def queue_draft(store: Store, account: Account, draft: Draft, *, face: str) -> int:
    """Validate and build the draft, then commit it to the outbox; nothing is sent yet.

    A draft with a large file attachment is built to a spool file next to the
    database, so it is never whole in memory. The account's signature and default
    Reply-To are added here, for every face.
    """
    outbox.check_recipient_count(len(draft.to) + len(draft.cc) + len(draft.bcc))
    draft = identity.apply(store, account.name, draft)
    kinds = {address: "to" for address in draft.to}
    kinds.update({address: "cc" for address in draft.cc})
    kinds.update({address: "bcc" for address in draft.bcc})
    if not spool.should_spool(draft):
        built = build(draft, sender=account.email, sender_name=account.from_name)
        return outbox.enqueue(store, account, built, face=face, kinds=kinds)
    spooled = spool.build_to_spool(
        draft,
        sender=account.email,
        sender_name=account.from_name,
        directory=store.path.parent / "spool",
    )
    try:
        return outbox.enqueue(store, account, spooled, face=face, kinds=kinds)
    except BaseException:
        spool.remove(spooled.path)
        raise


class _Connection:
    """One session for one account, opened on first use and reused for later items."""

    def __init__(
        self, store: Store, account: Account, password: PasswordSource, options: SendOptions
    ) -> None:
        self._store = store
        self.account = account
        self._password = password
        self._options = options
        self._session: SmtpSession | None = None
        self.item_id = 0

    def _on_step(self, step: Step) -> None:
        outbox.record_step(self._store, self.item_id, step)
        if self._options.on_step:
            self._options.on_step(step)

    def session_for(self, item_id: int) -> SmtpSession:
        """An open session, with the next steps recorded against ``item_id``."""
        self.item_id = item_id
        if self._session is not None:
            if self._session.is_open:
                try:
                    self._session.reset()
                    return self._session
                except RelayError:
                    pass  # the server went away between messages: open a new connection
            self.close()
        session = SmtpSession(
            self.account,
            transcript=self._options.transcript,
            timeouts=self._options.timeouts,
            on_step=self._on_step,
            pipelining=fast_path_enabled(self._store, PIPELINING_SETTING, self._options.pipelining),
            chunking=fast_path_enabled(self._store, CHUNKING_SETTING, self._options.chunking),
        )
        if self._options.on_session:
            self._options.on_session(session)
        session.open(self._password(self.account) if self.account.uses_auth else None)
        # Every face learns the server's SIZE limit here, so compose can warn before sending.
        settings.learn_max_size(self._store, self.account.name, session.max_size)
        self._session = session
        return session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


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
    item = outbox.get_item(store, item_id)
    connection = _Connection(store, get_account(store, item.account), password, options)
    try:
        return _attempt(store, item_id, connection, options, allowed)
    finally:
        connection.close()


def run_due(
    store: Store, password: PasswordSource, options: SendOptions | None = None
) -> list[SendResult]:
    """Send everything that is due, one connection per account."""
    options = options or SendOptions()
    results: list[SendResult] = []
    for name, item_ids in outbox.due_by_account(store).items():
        try:
            account = get_account(store, name)
        except RelayError as error:
            results += [fail_without_attempt(store, i, error, face=options.face) for i in item_ids]
            continue
        try:
            if account.uses_auth:
                password(account)  # asked once here; the source keeps it for the session
        except RelayError as error:
            # No one to ask (a background run), a locked keyring, a sign-in to renew:
            # the messages wait as they are, rather than fail for what the person can fix.
            results += [_waiting_for_password(store, i, error) for i in item_ids]
            continue
        connection = _Connection(store, account, password, options)
        try:
            for item_id in item_ids:
                result = _attempt(store, item_id, connection, options, outbox.DUE_STATES)
                results.append(result)
                if result.error is not None:
                    connection.close()  # a fresh connection for the next item
                if isinstance(result.error, QuotaExceeded):
                    break  # the rest of this account's items wait too
        finally:
            connection.close()
    return results


def _waiting_for_password(store: Store, item_id: int, error: RelayError) -> SendResult:
    item = outbox.get_item(store, item_id)
    return SendResult(item_id, item.state, item.message_id, (), {}, {}, None, error)


def _attempt(
    store: Store,
    item_id: int,
    connection: _Connection,
    options: SendOptions,
    allowed: tuple[State, ...],
) -> SendResult:
    # The connection was made for this item's account (send_item, run_due's grouping).
    if options.check_quota:
        try:
            ratelimit.check(store, connection.account)
        except QuotaExceeded as error:
            return _wait_for_quota(store, outbox.get_item(store, item_id), error, options)
    if not outbox.claim(store, item_id, allowed=allowed):
        raise outbox_busy(outbox.get_item(store, item_id))
    faults.checkpoint("claimed")
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
    recorded: set[str] = set()

    def record_part(part: Delivery) -> None:
        statuses = statuses_of(part)
        outbox.record_transaction(store, item_id, statuses, final_reply=reply_text(part))
        recorded.update(part.accepted)

    try:
        session = connection.session_for(item_id)
        delivery = session.send(
            item.envelope_from,
            pending,
            outbox.message_source(store, item_id),
            smtputf8=item.smtputf8,
            on_progress=options.on_progress,
            on_transaction=record_part,
        )
        faults.checkpoint("replied")
    except RelayError as error:
        return record_failure(
            store, item, pending, error, face=options.face, policy=_policy(store, options)
        )
    except BaseException as error:
        # A bug or an interrupt: judge it like a crash, by the step reached.
        outbox.release(store, item_id, face=options.face)
        store.audit(
            face=options.face,
            action="send_attempt",
            outcome="interrupted",
            account=item.account,
            outbox_id=item_id,
            detail={"error": type(error).__name__},
        )
        raise
    return record_delivery(
        store, item, delivery, recorded, face=options.face, policy=_policy(store, options)
    )


def outbox_busy(item: outbox.OutboxItem) -> RelayError:
    """The error for an item that is not in a state to be sent now."""
    return UsageError(
        f"Outbox item {item.id} is {item.state.value}; it is not due for sending.",
        hint="Use `relaydesk outbox retry ID` to send a failed or possibly sent item again.",
    )


def _wait_for_quota(
    store: Store, item: outbox.OutboxItem, error: QuotaExceeded, options: SendOptions
) -> SendResult:
    slot = float(error.details["next_attempt_at"])
    outbox.postpone(store, item.id, slot, error)
    store.audit(
        face=options.face,
        action="send_attempt",
        outcome="over_quota",
        account=item.account,
        outbox_id=item.id,
        detail={"next_attempt_at": slot},
    )
    return SendResult(item.id, item.state, item.message_id, (), {}, {}, None, error)


def _policy(store: Store, options: SendOptions) -> RetryPolicy:
    return options.retry_policy or outbox.retry_policy(store)


# --- for the multi-connection runner (app.core.delivery.pool) -------------------------------

Connection = _Connection


def attempt_on(
    store: Store, item_id: int, connection: _Connection, options: SendOptions
) -> SendResult:
    """One attempt at a due item on a connection the caller holds open for its account."""
    return _attempt(store, item_id, connection, options, outbox.DUE_STATES)
