"""Sending a queued merge run over the account's connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.core.accounts.model import get_account
from app.core.delivery import connections, outbox
from app.core.delivery.attempts import PasswordSource, SendOptions
from app.core.delivery.merge.progress import progress
from app.core.delivery.outbox import SendResult, State
from app.core.delivery.pool import PoolReport, send_with_pool
from app.core.store import Store


def due_in_batch(store: Store, batch_id: int, now: float | None = None) -> list[int]:
    """Ids of the run's messages that may go now, in list order."""
    now = time.time() if now is None else now
    rows = store.execute(
        "SELECT id FROM outbox WHERE batch_id = ? AND state IN (?, ?)"
        " AND coalesce(next_attempt_at, 0) <= ? ORDER BY id",
        (batch_id, State.QUEUED.value, State.RETRYING.value, now),
    ).fetchall()
    return [int(row["id"]) for row in rows]


def send_batch(
    store: Store,
    batch_id: int,
    password: PasswordSource,
    options: SendOptions | None = None,
    *,
    open_store: Callable[[], Store] = Store.open,
    count: int | None = None,
    on_result: Callable[[SendResult], None] | None = None,
    stop: threading.Event | None = None,
) -> PoolReport:
    """Send what is due of run ``batch_id`` over ``count`` connections (the account's
    setting when None); what the quota holds back waits for its slot."""
    outbox.recover(store)
    account = get_account(store, progress(store, batch_id).account)
    wanted = count if count is not None else connections.get_connections(store, account.name)
    return send_with_pool(
        open_store,
        account,
        due_in_batch(store, batch_id),
        password,
        options,
        database=store.path,
        connections=connections.check_connections(wanted),
        on_result=on_result,
        stop=stop,
    )
