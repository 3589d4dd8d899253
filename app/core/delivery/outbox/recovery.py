"""After a crash, and from time to time: settle orphaned items, prune old spool files."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from app.core import settings
from app.core.delivery import spool
from app.core.delivery.outbox.model import State
from app.core.delivery.outbox.transitions import move
from app.core.errors import PossiblySent
from app.core.smtp.steps import Step
from app.core.store import Store

SPOOL_RETENTION_SETTING = "spool_retention_days"


def recover(store: Store, *, pid_alive: Callable[[int], bool] | None = None) -> list[int]:
    """Items left ``sending`` by a dead process are judged by their step; old spool pruned."""
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
    prune_spool(store)
    return recovered


def release(store: Store, item_id: int, *, face: str) -> State:
    """Settle an item whose attempt ended without a result (crash, interrupt).

    Before the final dot it goes back to ``queued``; once the dot was sent it
    becomes ``possibly_sent`` and waits for the user. One transaction.
    """
    with store.transaction() as db:
        row = db.execute("SELECT step, state FROM outbox WHERE id = ?", (item_id,)).fetchone()
        if row is None or row["state"] != State.SENDING.value:
            return State(row["state"]) if row is not None else State.QUEUED
        after_dot = row["step"] in (Step.FINAL_DOT.value, Step.DONE.value)
        state = State.POSSIBLY_SENT if after_dot else State.QUEUED
        error = None
        if after_dot:
            error = PossiblySent(
                "Relaydesk stopped after the message was handed to the server but before "
                "the server confirmed it.",
                hint="Check the recipient's inbox or your Sent folder; send again only if "
                "it did not arrive.",
            )
            db.execute(
                "UPDATE outbox_recipients SET status = 'uncertain' WHERE outbox_id = ?"
                " AND status IN ('pending', 'deferred')",
                (item_id,),
            )
        move(db, item_id, (State.SENDING,), state, error=error, next_attempt_at=time.time())
        store.audit(face=face, action="recover", outcome=state.value, outbox_id=item_id)
    return state


def prune_spool(store: Store, *, now: float | None = None) -> int:
    """Delete spool files of items sent longer ago than the retention setting.

    Failed and possibly sent items keep theirs until the person resolves them
    (retry or discard). The row keeps everything but the bytes, so history can
    say that the message can no longer be sent again. Returns how many were pruned.
    """
    days = float(settings.get(store, SPOOL_RETENTION_SETTING))
    cutoff = (time.time() if now is None else now) - days * 86400.0
    rows = store.execute(
        "SELECT id, spool_path FROM outbox WHERE state = ? AND spool_path IS NOT NULL"
        " AND updated_at < ?",
        (State.SENT.value, cutoff),
    ).fetchall()
    for row in rows:
        with store.transaction() as db:
            db.execute(
                "UPDATE outbox SET spool_path = NULL, data = X'' WHERE id = ? AND state = ?",
                (row["id"], State.SENT.value),
            )
        spool.remove(row["spool_path"])  # after the commit: never a row naming no file
    return len(rows) + _sweep_orphans(store, cutoff=time.time() - ORPHAN_AGE)


ORPHAN_AGE = 24 * 3600.0  # a file this old that no item names is left from a crash


def _sweep_orphans(store: Store, *, cutoff: float) -> int:
    """Remove spool files no outbox item names (a crash between commit and unlink).

    Only old ones: a file being written right now has no row yet.
    """
    directory = store.path.parent / "spool"
    try:
        files = [p for p in directory.iterdir() if p.suffix in (".eml", ".part")]
    except OSError:
        return 0
    named = {
        row["spool_path"]
        for row in store.execute("SELECT spool_path FROM outbox WHERE spool_path IS NOT NULL")
    }
    removed = 0
    for path in files:
        try:
            if str(path) not in named and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


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
