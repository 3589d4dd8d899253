"""The durable outbox: every message is committed here before it touches the network.

States::

    queued → sending → sent | retrying | failed | possibly_sent | cancelled

Each state change, and the protocol step reached while sending, is committed
(``synchronous=FULL``) before the next network step, so after a crash the
outbox can still tell whether the final dot went out.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.core import settings, spool
from app.core.accounts import Account
from app.core.errors import (
    Cancelled,
    PossiblySent,
    RecipientRefused,
    RelayError,
    ServerUnreachable,
    SignInRequired,
    TemporaryFailure,
    UnreadableFile,
    UsageError,
)
from app.core.message import BuiltMessage
from app.core.smtp.session import Step
from app.core.smtp.source import MessageSource
from app.core.spool import SpooledMessage
from app.core.store import Store


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    POSSIBLY_SENT = "possibly_sent"
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    PENDING = "pending"  # not tried yet
    ACCEPTED = "accepted"  # the server took the message for this recipient
    DEFERRED = "deferred"  # 4xx at RCPT: try again later, for this recipient only
    REFUSED = "refused"  # 5xx at RCPT: permanent
    UNCERTAIN = "uncertain"  # in a transaction whose final reply never came


# States from which a send may start without the user asking again.
DUE_STATES = (State.QUEUED, State.RETRYING)
# States the user may send again explicitly (``outbox retry ID``).
RETRYABLE_STATES = (State.RETRYING, State.FAILED, State.POSSIBLY_SENT, State.CANCELLED)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, giving up after ``max_age`` seconds."""

    base: float = 60.0
    cap: float = 3600.0
    max_age: float = 2 * 24 * 3600.0
    jitter: float = 0.2

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the given number of failed attempts."""
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return float(raw * spread)


RETRY_MAX_AGE_SETTING = "retry_max_age_hours"


def retry_policy(store: Store) -> RetryPolicy:
    """The retry policy, with the give-up age the user chose (default two days)."""
    hours = float(settings.get(store, RETRY_MAX_AGE_SETTING))
    return RetryPolicy(max_age=hours * 3600.0)


@dataclass(frozen=True)
class RecipientState:
    address: str
    kind: str
    status: RecipientStatus
    reply: str | None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    account: str
    message_id: str
    subject: str
    envelope_from: str
    size: int
    smtputf8: bool
    state: State
    step: str | None
    attempts: int
    created_at: float
    updated_at: float
    next_attempt_at: float | None
    last_error: dict[str, Any] | None
    face: str
    recipients: tuple[RecipientState, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``outbox list --json``."""
        return {
            "id": self.id,
            "account": self.account,
            "state": self.state.value,
            "step": self.step,
            "subject": self.subject,
            "message_id": self.message_id,
            "from": self.envelope_from,
            "size": self.size,
            "recipients": [
                {"address": r.address, "kind": r.kind, "status": r.status.value, "reply": r.reply}
                for r in self.recipients
            ],
            "attempts": self.attempts,
            "created_at": self.created_at,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "face": self.face,
        }


@dataclass(frozen=True)
class SendResult:
    """What one send attempt ended in."""

    item_id: int
    state: State
    message_id: str
    accepted: tuple[str, ...]
    refused: dict[str, str]
    deferred: dict[str, str]
    final_reply: str | None
    error: RelayError | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return int(self.error.exit_code)
        return 0 if self.state is State.SENT else 75


def enqueue(
    store: Store,
    account: Account,
    message: BuiltMessage | SpooledMessage,
    *,
    face: str,
    kinds: dict[str, str] | None = None,
) -> int:
    """Commit the message and its envelope as ``queued``; returns the item id.

    A ``SpooledMessage`` is stored as the path of its spool file, which the
    outbox owns from now on (``discard`` deletes it).
    """
    now = time.time()
    data, spool_path = (
        (message.data, None) if isinstance(message, BuiltMessage) else (b"", str(message.path))
    )
    kinds = {address.lower(): kind for address, kind in (kinds or {}).items()}
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO outbox (account, message_id, subject, envelope_from, data, spool_path,"
            " size, smtputf8, state, attempts, created_at, updated_at, next_attempt_at, face)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
            (
                account.name,
                message.message_id,
                message.subject,
                message.envelope_from,
                data,
                spool_path,
                message.size,
                int(message.needs_smtputf8),
                State.QUEUED.value,
                now,
                now,
                now,
                face,
            ),
        )
        item_id = int(cursor.lastrowid or 0)
        db.executemany(
            "INSERT INTO outbox_recipients (outbox_id, position, address, kind, status)"
            " VALUES (?, ?, ?, ?, 'pending')",
            [
                (item_id, position, address, kinds.get(address.lower(), "to"))
                for position, address in enumerate(message.recipients)
            ],
        )
    store.audit(
        face=face,
        action="enqueue",
        outcome="queued",
        account=account.name,
        outbox_id=item_id,
        detail={"recipients": len(message.recipients), "size": message.size},
    )
    return item_id


def enqueue_in(
    db: sqlite3.Connection,
    account: str,
    message: BuiltMessage,
    *,
    face: str,
    kinds: dict[str, str] | None = None,
    next_attempt_at: float | None = None,
    batch_id: int | None = None,
) -> int:
    """Insert one ``queued`` item inside the caller's open transaction (a merge run
    queues all its messages in one); the caller commits and audits."""
    now = time.time()
    kinds = {address.lower(): kind for address, kind in (kinds or {}).items()}
    cursor = db.execute(
        "INSERT INTO outbox (account, message_id, subject, envelope_from, data, size, smtputf8,"
        " state, attempts, created_at, updated_at, next_attempt_at, face, batch_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
        (
            account,
            message.message_id,
            message.subject,
            message.envelope_from,
            message.data,
            message.size,
            int(message.needs_smtputf8),
            State.QUEUED.value,
            now,
            now,
            now if next_attempt_at is None else next_attempt_at,
            face,
            batch_id,
        ),
    )
    item_id = int(cursor.lastrowid or 0)
    db.executemany(
        "INSERT INTO outbox_recipients (outbox_id, position, address, kind, status)"
        " VALUES (?, ?, ?, ?, 'pending')",
        [
            (item_id, position, address, kinds.get(address.lower(), "to"))
            for position, address in enumerate(message.recipients)
        ],
    )
    return item_id


def _item_from_row(row: Any, recipients: Iterable[Any]) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        account=row["account"],
        message_id=row["message_id"],
        subject=row["subject"],
        envelope_from=row["envelope_from"],
        size=row["size"],
        smtputf8=bool(row["smtputf8"]),
        state=State(row["state"]),
        step=row["step"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        next_attempt_at=row["next_attempt_at"],
        last_error=json.loads(row["last_error"]) if row["last_error"] else None,
        face=row["face"],
        recipients=tuple(
            RecipientState(r["address"], r["kind"], RecipientStatus(r["status"]), r["reply"])
            for r in recipients
        ),
    )


_ITEM_COLUMNS = (
    "id, account, message_id, subject, envelope_from, size, smtputf8, state, step, attempts,"
    " created_at, updated_at, next_attempt_at, last_error, face"
)


def get_item(store: Store, item_id: int) -> OutboxItem:
    """One outbox item, or UsageError when there is none with that id."""
    row = store.execute(f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise UsageError(
            f"There is no outbox item {item_id}.",
            hint="List the outbox with: relaydesk outbox list",
        )
    recipients = store.execute(
        "SELECT * FROM outbox_recipients WHERE outbox_id = ? ORDER BY position", (item_id,)
    ).fetchall()
    return _item_from_row(row, recipients)


def list_items(
    store: Store, states: Iterable[State] | None = None, *, limit: int | None = None
) -> list[OutboxItem]:
    """Outbox items, oldest first; all states unless ``states`` is given; at most ``limit``.

    Two queries whatever the count (items, then their recipients), so a run of
    10,000 queued messages lists in well under a second.
    """
    where = ""
    parameters: tuple[str, ...] = ()
    if states is not None:
        wanted = tuple(state.value for state in states)
        where = f" WHERE state IN ({', '.join('?' for _ in wanted)})"
        parameters = wanted
    bound = "" if limit is None else f" LIMIT {int(limit)}"
    rows = store.execute(
        f"SELECT {_ITEM_COLUMNS} FROM outbox{where} ORDER BY id{bound}", parameters
    ).fetchall()
    if not rows:
        return []
    recipients: dict[int, list[Any]] = {}
    for row in store.execute(
        "SELECT * FROM outbox_recipients WHERE outbox_id BETWEEN ? AND ?"
        " ORDER BY outbox_id, position",
        (rows[0]["id"], rows[-1]["id"]),
    ):
        recipients.setdefault(int(row["outbox_id"]), []).append(row)
    return [_item_from_row(row, recipients.get(int(row["id"]), ())) for row in rows]


def count_by_state(store: Store) -> dict[State, int]:
    """How many items are in each state (for the status bar)."""
    rows = store.execute("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state").fetchall()
    return {State(row["state"]): int(row["n"]) for row in rows}


def _due_rows(store: Store, now: float | None, limit: int | None = None) -> list[Any]:
    now = time.time() if now is None else now
    bound = "" if limit is None else f" LIMIT {int(limit)}"
    return store.execute(
        "SELECT id, account FROM outbox WHERE state IN (?, ?)"
        f" AND coalesce(next_attempt_at, 0) <= ? ORDER BY next_attempt_at, id{bound}",
        (State.QUEUED.value, State.RETRYING.value, now),
    ).fetchall()


def due_items(store: Store, now: float | None = None, *, limit: int | None = None) -> list[int]:
    """Ids of items whose next attempt is due, oldest first (at most ``limit``)."""
    return [int(row["id"]) for row in _due_rows(store, now, limit)]


def due_by_account(store: Store, now: float | None = None) -> dict[str, list[int]]:
    """Due item ids grouped by account, oldest first within each account."""
    grouped: dict[str, list[int]] = {}
    for row in _due_rows(store, now):
        grouped.setdefault(row["account"], []).append(int(row["id"]))
    return grouped


def next_attempt_at(store: Store) -> float | None:
    """When the soonest queued or retrying item is due (None: nothing waits); one query."""
    row = store.execute(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE state IN (?, ?)",
        (State.QUEUED.value, State.RETRYING.value),
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def message_data(store: Store, item_id: int) -> bytes:
    """The stored message bytes, exactly as they will be transmitted (all in memory)."""
    return message_source(store, item_id).read_all()


def message_source(store: Store, item_id: int) -> MessageSource:
    """The stored message as a source that can be read in chunks (spool file or bytes)."""
    row = store.execute("SELECT data, spool_path FROM outbox WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise UsageError(f"There is no outbox item {item_id}.")
    if row["spool_path"] is None:
        return MessageSource.of_bytes(bytes(row["data"]))
    try:
        return MessageSource.of_file(Path(row["spool_path"]))
    except OSError as error:
        raise UnreadableFile(
            f"The message file of outbox item {item_id} is missing ({error.strerror}).",
            hint="Discard the item and send the message again.",
        ) from None


# --- claiming and state changes ----------------------------------------------------


def claim(store: Store, item_id: int, *, allowed: Iterable[State] = DUE_STATES) -> bool:
    """Atomically mark an item ``sending`` for this process; False if someone else has it."""
    wanted = [state.value for state in allowed]
    marks = ", ".join("?" for _ in wanted)
    with store.transaction() as db:
        cursor = db.execute(
            f"UPDATE outbox SET state = ?, step = NULL, owner_pid = ?, attempts = attempts + 1,"
            f" updated_at = ? WHERE id = ? AND state IN ({marks})",
            (State.SENDING.value, os.getpid(), time.time(), item_id, *wanted),
        )
        return cursor.rowcount == 1


def record_step(store: Store, item_id: int, step: Step) -> None:
    """Commit the protocol step reached before it is taken."""
    with store.transaction() as db:
        db.execute(
            "UPDATE outbox SET step = ?, updated_at = ? WHERE id = ?",
            (step.value, time.time(), item_id),
        )


def set_state(
    store: Store,
    item_id: int,
    state: State,
    *,
    error: RelayError | None = None,
    next_attempt_at: float | None = None,
) -> None:
    """Commit a new state (and the error that caused it)."""
    with store.transaction() as db:
        db.execute(
            "UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ?, owner_pid = NULL,"
            " updated_at = ? WHERE id = ?",
            (
                state.value,
                json.dumps(error.to_dict(), ensure_ascii=False) if error else None,
                next_attempt_at,
                time.time(),
                item_id,
            ),
        )


def set_recipient_status(
    store: Store, item_id: int, statuses: dict[str, tuple[RecipientStatus, str | None]]
) -> None:
    """Commit per-recipient results of one transaction."""
    now = time.time()
    with store.transaction() as db:
        db.executemany(
            "UPDATE outbox_recipients SET status = ?, reply = ?, updated_at = ?"
            " WHERE outbox_id = ? AND address = ?",
            [
                (status.value, reply, now, item_id, address)
                for address, (status, reply) in statuses.items()
            ],
        )


def retry(store: Store, item_id: int, *, face: str) -> None:
    """The user asks to send again now (keeps the same Message-ID)."""
    item = get_item(store, item_id)
    if item.state not in RETRYABLE_STATES and item.state is not State.QUEUED:
        raise UsageError(
            f"Outbox item {item_id} is {item.state.value}; it cannot be sent again.",
            hint="Only retrying, failed, possibly sent or cancelled items can be retried.",
        )
    with store.transaction() as db:
        # Recipients with a confirmed delivery are never sent it again; those in a
        # transaction that may have gone through are, because the user asked.
        db.execute(
            "UPDATE outbox_recipients SET status = 'pending' WHERE outbox_id = ?"
            " AND status IN ('deferred', 'uncertain')",
            (item_id,),
        )
    set_state(store, item_id, State.QUEUED, next_attempt_at=time.time())
    store.audit(
        face=face, action="retry", outcome="queued", account=item.account, outbox_id=item_id
    )


def discard(store: Store, item_id: int, *, face: str) -> None:
    """Remove an unsent item from the outbox for good."""
    item = get_item(store, item_id)
    if item.state in (State.SENDING, State.SENT):
        raise UsageError(
            f"Outbox item {item_id} is {item.state.value} and cannot be discarded.",
            hint="Wait until it has finished; sent items are kept in the history.",
        )
    row = store.execute("SELECT spool_path FROM outbox WHERE id = ?", (item_id,)).fetchone()
    with store.transaction() as db:
        db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
    spool.remove(row["spool_path"] if row is not None else None)
    store.audit(
        face=face, action="discard", outcome="discarded", account=item.account, outbox_id=item_id
    )


def recover(store: Store, *, pid_alive: Callable[[int], bool] | None = None) -> list[int]:
    """After a crash: items left ``sending`` by a dead process are judged by their step."""
    alive = pid_alive or _pid_alive
    rows = store.execute(
        "SELECT id, owner_pid FROM outbox WHERE state = ?", (State.SENDING.value,)
    ).fetchall()
    recovered = []
    for row in rows:
        if row["owner_pid"] and alive(int(row["owner_pid"])):
            continue
        release(store, int(row["id"]), face="system")
        recovered.append(int(row["id"]))
    return recovered


def release(store: Store, item_id: int, *, face: str) -> State:
    """Settle an item whose attempt ended without a result (crash, interrupt).

    Before the final dot it goes back to ``queued``; once the dot was sent it
    becomes ``possibly_sent`` and waits for the user.
    """
    row = store.execute("SELECT step FROM outbox WHERE id = ?", (item_id,)).fetchone()
    after_dot = row is not None and row["step"] in (Step.FINAL_DOT.value, Step.DONE.value)
    state = State.POSSIBLY_SENT if after_dot else State.QUEUED
    error = None
    if after_dot:
        error = PossiblySent(
            "Relaydesk stopped after the message was handed to the server but before "
            "the server confirmed it.",
            hint="Check the recipient's inbox or your Sent folder; send again only if "
            "it did not arrive.",
        )
        store.execute(
            "UPDATE outbox_recipients SET status = 'uncertain' WHERE outbox_id = ?"
            " AND status IN ('pending', 'deferred')",
            (item_id,),
        )
    set_state(store, item_id, state, error=error, next_attempt_at=time.time())
    store.audit(face=face, action="recover", outcome=state.value, outbox_id=item_id)
    return state


def postpone(store: Store, item_id: int, when: float, error: RelayError) -> None:
    """Keep the item's state but move its next attempt (quota reached)."""
    with store.transaction() as db:
        db.execute(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
            (when, json.dumps(error.to_dict(), ensure_ascii=False), time.time(), item_id),
        )


def cancel(store: Store, item_id: int, *, face: str) -> None:
    """Stop a queued or retrying item from being sent (it stays visible as cancelled)."""
    item = get_item(store, item_id)
    if item.state not in DUE_STATES:
        raise UsageError(
            f"Outbox item {item_id} is {item.state.value}; only queued or retrying items "
            "can be cancelled.",
            hint="A message being sent right now is cancelled from the window that sends it.",
        )
    with store.transaction() as db:
        cursor = db.execute(
            "UPDATE outbox SET state = ?, owner_pid = NULL, updated_at = ? WHERE id = ?"
            " AND state IN (?, ?)",
            (State.CANCELLED.value, time.time(), item_id, *[s.value for s in DUE_STATES]),
        )
        changed = cursor.rowcount == 1
    if changed:
        store.audit(
            face=face, action="cancel", outcome="cancelled", account=item.account, outbox_id=item_id
        )


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def state_after_error(error: RelayError) -> State:
    """Which state a failed attempt leaves the item in."""
    if isinstance(error, PossiblySent):
        return State.POSSIBLY_SENT
    if isinstance(error, Cancelled):
        return State.CANCELLED
    if isinstance(error, SignInRequired):
        return State.RETRYING  # kept: it goes out after `relaydesk account login`
    if isinstance(error, TemporaryFailure | ServerUnreachable):
        return State.RETRYING
    return State.FAILED


def all_refused_error(refused: dict[str, str]) -> RecipientRefused:
    """The error for a message no recipient would take."""
    listing = "; ".join(f"{address}: {reply}" for address, reply in refused.items())
    return RecipientRefused(
        f"The server refused every recipient ({listing}).",
        hint="Check the addresses for typos; nothing was sent.",
        details={"refused": refused},
    )
