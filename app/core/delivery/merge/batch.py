"""Queueing a merge run as one batch, and following it: progress, pause, cancel, export.

The whole run is inserted in ONE transaction: either every row that passed the
check is in the outbox, or (on a crash or a full disk) none is and the run can
simply be started again. Items get their send time from the account's quota
up front, so a run larger than the daily limit is spread over the days it
needs and the last slot is known at once.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.core.accounts.model import Account
from app.core.delivery import outbox, ratelimit
from app.core.delivery.merge.plan import CheckReport, MergeRun, rendered_rows
from app.core.delivery.merge.recipients import Row
from app.core.delivery.message import BuiltMessage
from app.core.errors import InvalidInput
from app.core.store import Store


@dataclass(frozen=True)
class QueuedRun:
    """What ``queue`` did."""

    batch_id: int
    queued: int
    report: CheckReport
    last_slot: float  # when the last message may go under the quota (now if no quota)

    def to_dict(self) -> dict[str, object]:
        return {
            "batch": self.batch_id,
            "queued": self.queued,
            "last_slot": self.last_slot,
            **self.report.to_dict(),
        }


def quota_slots(store: Store, account: Account, now: float | None = None) -> Iterator[float]:
    """The earliest send time of each next message under the account's quota, in order."""
    now = time.time() if now is None else now
    windows = [
        (span, limit, deque(ratelimit.sent_since(store, account.name, now - span)))
        for _, span, limit in ratelimit.get_quota(store, account).limits()
    ]
    slot = now
    while True:
        moved = True
        while moved:
            moved = False
            for span, limit, times in windows:
                while times and times[0] <= slot - span:
                    times.popleft()
                if len(times) >= limit:
                    slot = max(slot, times[len(times) - limit] + span)
                    moved = True
        for _, _, times in windows:
            times.append(slot)
        yield slot


def queue(
    store: Store,
    run: MergeRun,
    *,
    name: str,
    face: str,
    skip_invalid: bool = False,
    before_commit: Callable[[sqlite3.Connection, int, int], None] | None = None,
) -> QueuedRun:
    """Check and queue every row in one transaction; InvalidInput if a row fails and
    ``skip_invalid`` is not set (then nothing is queued).

    ``before_commit(db, batch_id, queued)`` runs inside that transaction (holding the
    write lock): a caller's quota can be checked and counted there, race-free; raising
    rolls the whole run back.
    """
    report = CheckReport()
    slots = quota_slots(store, run.account)
    now = time.time()
    queued = 0
    last = now
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO batches (name, account, face, created_at) VALUES (?, ?, ?, ?)",
            (name, run.account.name, face, now),
        )
        batch_id = int(cursor.lastrowid or 0)
        pending: list[tuple[object, ...]] = []  # batch_rows, written in groups
        for row, message in rendered_rows(run, report):
            if report.problem_count and not skip_invalid:
                continue  # it will all be rolled back: only count the problems
            item_id = None
            if message is not None:
                last = next(slots)
                item_id = outbox.enqueue_in(
                    db,
                    run.account.name,
                    message,
                    face=face,
                    kinds={a: "cc" for a in message.recipients[1:]},  # the first is the To
                    next_attempt_at=last,
                    batch_id=batch_id,
                )
                queued += 1
            pending.append(
                (batch_id, row.number, run.address_of(row), item_id, _note(run, row, message))
            )
            if len(pending) >= ROWS_PER_WRITE:
                _write_rows(db, pending)
        _write_rows(db, pending)
        if report.problem_count and not skip_invalid:
            raise refusal(report)  # rolls the whole run back
        if queued == 0:
            raise InvalidInput(
                "No row of the list can be sent.",
                hint="Check the address column and the unsubscribe list.",
            )
        db.execute("UPDATE batches SET total = ? WHERE id = ?", (queued, batch_id))
        if before_commit is not None:
            before_commit(db, batch_id, queued)
    store.audit(
        face=face,
        action="merge_queue",
        outcome="queued",
        account=run.account.name,
        detail={"batch": batch_id, "queued": queued, "problems": report.problem_count},
    )
    return QueuedRun(batch_id, queued, report, last)


ROWS_PER_WRITE = 500


def _write_rows(db: sqlite3.Connection, pending: list[tuple[object, ...]]) -> None:
    db.executemany(
        "INSERT INTO batch_rows (batch_id, row_number, address, outbox_id, note)"
        " VALUES (?, ?, ?, ?, ?)",
        pending,
    )
    pending.clear()


def _note(run: MergeRun, row: Row, message: BuiltMessage | None) -> str | None:
    if message is not None:
        return None
    address = run.address_of(row)
    return "unsubscribed" if address.lower() in run.unsubscribed else "problem"


def refusal(report: CheckReport) -> InvalidInput:
    """The error for a run whose rows have problems (nothing is queued)."""
    first = report.problems[0]
    return InvalidInput(
        f"{report.problem_count} of {report.rows} rows cannot be sent (row {first.row}: "
        f"{first.message}); nothing was queued.",
        hint="Fix the rows listed by --dry-run, or queue the rest with --skip-invalid.",
        details={"problems": [p.to_dict() for p in report.problems[:50]]},
    )
