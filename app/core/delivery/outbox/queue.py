"""Putting messages into the outbox and reading them back."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core.accounts.model import Account
from app.core.delivery.message import BuiltMessage
from app.core.delivery.outbox.model import DUE_STATES, OutboxItem, State, item_from_row
from app.core.delivery.spool import SpooledMessage
from app.core.errors import InvalidInput, UnreadableFile, UsageError
from app.core.smtp.source import MessageSource
from app.core.store import Store

# The most recipients one message may have. Servers take 100 to 1,000 per transaction
# (Postfix: 1,000) and the outbox sends larger lists in several transactions on one
# connection, but a list this long is a mailing, better sent one message per person
# (`relaydesk merge`), so each recipient sees only their own address.
MAX_RECIPIENTS = 5000


def check_recipient_count(count: int) -> None:
    """InvalidInput when a message has more recipients than one message may have."""
    if count > MAX_RECIPIENTS:
        raise InvalidInput(
            f"The message has {count:,} recipients; Relaydesk sends one message to at most "
            f"{MAX_RECIPIENTS:,}.",
            hint="Split the list into several messages, or send one message per person "
            "with `relaydesk merge`.",
        )


def enqueue(
    store: Store,
    account: Account,
    message: BuiltMessage | SpooledMessage,
    *,
    face: str,
    kinds: dict[str, str] | None = None,
) -> int:
    """Commit the message, its envelope and its audit row as ``queued``; returns the item id.

    A ``SpooledMessage`` is stored as the path of its spool file, which the
    outbox owns from now on (``discard`` and retention delete it).
    """
    with store.transaction() as db:
        item_id = enqueue_in(db, account.name, message, face=face, kinds=kinds)
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
    message: BuiltMessage | SpooledMessage,
    *,
    face: str,
    kinds: dict[str, str] | None = None,
    next_attempt_at: float | None = None,
    batch_id: int | None = None,
) -> int:
    """Insert one ``queued`` item inside the caller's open transaction; the caller audits.

    A merge run queues all its messages in one transaction this way.
    """
    check_recipient_count(len(message.recipients))
    now = time.time()
    data, spool_path = (
        (message.data, None) if isinstance(message, BuiltMessage) else (b"", str(message.path))
    )
    kinds = {address.lower(): kind for address, kind in (kinds or {}).items()}
    cursor = db.execute(
        "INSERT INTO outbox (account, message_id, subject, envelope_from, data, spool_path,"
        " size, smtputf8, state, attempts, created_at, updated_at, next_attempt_at, face,"
        " batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
        (
            account,
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


ITEM_COLUMNS = (
    "id, account, message_id, subject, envelope_from, size, smtputf8, state, step, attempts,"
    " created_at, updated_at, next_attempt_at, last_error, face"
)


def get_item(store: Store, item_id: int) -> OutboxItem:
    """One outbox item, or UsageError when there is none with that id."""
    row = store.execute(f"SELECT {ITEM_COLUMNS} FROM outbox WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise UsageError(
            f"There is no outbox item {item_id}.",
            hint="List the outbox with: relaydesk outbox list",
        )
    recipients = store.execute(
        "SELECT * FROM outbox_recipients WHERE outbox_id = ? ORDER BY position", (item_id,)
    ).fetchall()
    return item_from_row(row, recipients)


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
        f"SELECT {ITEM_COLUMNS} FROM outbox{where} ORDER BY id{bound}", parameters
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
    return [item_from_row(row, recipients.get(int(row["id"]), ())) for row in rows]


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
        (*(state.value for state in DUE_STATES), now),
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


def next_due_at(store: Store) -> float | None:
    """When the earliest queued or retrying item is due (None: nothing waits)."""
    row = store.execute(
        "SELECT MIN(coalesce(next_attempt_at, 0)) FROM outbox WHERE state IN (?, ?)",
        tuple(state.value for state in DUE_STATES),
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
