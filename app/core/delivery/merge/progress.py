"""Following a queued merge run: counts, estimated end, pause, resume, cancel, export."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from typing import Any, TextIO

from app.core.delivery.outbox import State
from app.core.errors import UsageError
from app.core.store import Store

PAUSED_UNTIL = 253402300799.0  # 9999-12-31: a paused item is never due
_WAITING = (State.QUEUED.value, State.RETRYING.value)


@dataclass(frozen=True)
class Progress:
    """Where a batch stands."""

    batch_id: int
    name: str
    account: str
    total: int
    counts: dict[str, int]  # outbox state → items
    paused: bool
    eta: float | None  # when the last message is expected to go; None when nothing waits

    @property
    def done(self) -> int:
        return sum(n for state, n in self.counts.items() if state not in (*_WAITING, "sending"))

    @property
    def waiting(self) -> int:
        return sum(self.counts.get(state, 0) for state in (*_WAITING, "sending"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "name": self.name,
            "account": self.account,
            "total": self.total,
            "counts": self.counts,
            "paused": self.paused,
            "done": self.done,
            "waiting": self.waiting,
            "eta": self.eta,
        }


def _batch(store: Store, batch_id: int) -> Any:
    row = store.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
    if row is None:
        raise UsageError(
            f"There is no merge run {batch_id}.", hint="Queue one with relaydesk merge."
        )
    return row


def progress(store: Store, batch_id: int, now: float | None = None) -> Progress:
    """Counts by state and the expected end (the later of quota slots and the send rate)."""
    now = time.time() if now is None else now
    batch = _batch(store, batch_id)
    rows = store.execute(
        "SELECT state, COUNT(*) AS n, MAX(next_attempt_at) AS last FROM outbox"
        " WHERE batch_id = ? GROUP BY state",
        (batch_id,),
    ).fetchall()
    counts = {row["state"]: int(row["n"]) for row in rows}
    waiting = sum(counts.get(state, 0) for state in (*_WAITING, "sending"))
    eta = None
    if waiting and not batch["paused"]:
        slots = [row["last"] or now for row in rows if row["state"] in _WAITING]
        last_slot = max(slots, default=now)
        eta = max(last_slot, now + waiting * _seconds_per_message(store, batch_id))
    return Progress(
        batch_id,
        batch["name"],
        batch["account"],
        int(batch["total"]),
        counts,
        bool(batch["paused"]),
        eta,
    )


def _seconds_per_message(store: Store, batch_id: int) -> float:
    row = store.execute(
        "SELECT COUNT(*) AS n, MIN(h.sent_at) AS first, MAX(h.sent_at) AS last FROM history h"
        " JOIN outbox o ON o.id = h.outbox_id WHERE o.batch_id = ?",
        (batch_id,),
    ).fetchone()
    if row["n"] < 2:
        return 0.1  # nothing measured yet: a guess for a typical submission server
    return (float(row["last"]) - float(row["first"])) / (int(row["n"]) - 1)


def pause(store: Store, batch_id: int, *, face: str) -> int:
    """Hold every waiting message of the run; returns how many were held."""
    _batch(store, batch_id)
    with store.transaction() as db:
        db.execute("UPDATE batches SET paused = 1 WHERE id = ?", (batch_id,))
        held = db.execute(
            "UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE batch_id = ?"
            " AND state IN (?, ?)",
            (PAUSED_UNTIL, time.time(), batch_id, *_WAITING),
        ).rowcount
    store.audit(face=face, action="merge_pause", outcome="paused", detail={"batch": batch_id})
    return int(held)


def resume(store: Store, batch_id: int, *, face: str) -> int:
    """Let the held messages go again (the quota still spaces them); returns how many."""
    _batch(store, batch_id)
    with store.transaction() as db:
        db.execute("UPDATE batches SET paused = 0 WHERE id = ?", (batch_id,))
        freed = db.execute(
            "UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE batch_id = ?"
            " AND state IN (?, ?) AND next_attempt_at >= ?",
            (time.time(), time.time(), batch_id, *_WAITING, PAUSED_UNTIL),
        ).rowcount
    store.audit(face=face, action="merge_resume", outcome="resumed", detail={"batch": batch_id})
    return int(freed)


def cancel_rest(store: Store, batch_id: int, *, face: str) -> int:
    """Cancel every message of the run not sent yet; returns how many."""
    _batch(store, batch_id)
    with store.transaction() as db:
        cancelled = db.execute(
            "UPDATE outbox SET state = ?, owner_pid = NULL, updated_at = ? WHERE batch_id = ?"
            " AND state IN (?, ?)",
            (State.CANCELLED.value, time.time(), batch_id, *_WAITING),
        ).rowcount
    store.audit(
        face=face,
        action="merge_cancel",
        outcome="cancelled",
        detail={"batch": batch_id, "cancelled": cancelled},
    )
    return int(cancelled)


RESULT_COLUMNS = ("row", "address", "result", "outbox_id", "detail")


def results(store: Store, batch_id: int) -> Any:
    """Per-row results, in list order: (row, address, result, outbox id, detail)."""
    _batch(store, batch_id)
    for row in store.execute(
        "SELECT r.row_number, r.address, r.outbox_id, r.note, o.state, o.last_error"
        " FROM batch_rows r LEFT JOIN outbox o ON o.id = r.outbox_id"
        " WHERE r.batch_id = ? ORDER BY r.row_number",
        (batch_id,),
    ):
        result = row["state"] or (row["note"] or "discarded")
        detail = ""
        if row["last_error"]:
            detail = str(json.loads(row["last_error"]).get("message", ""))
        yield (row["row_number"], row["address"], result, row["outbox_id"] or "", detail)


def export_results(store: Store, batch_id: int, out: TextIO) -> int:
    """Write the per-row results as CSV (with a header row); returns the rows written."""
    writer = csv.writer(out)
    writer.writerow(RESULT_COLUMNS)
    written = 0
    for entry in results(store, batch_id):
        writer.writerow(entry)
        written += 1
    return written


def latest_batches(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent merge runs, newest first."""
    rows = store.execute(
        "SELECT id, name, account, total, paused, created_at FROM batches ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [dict(row) for row in rows]
