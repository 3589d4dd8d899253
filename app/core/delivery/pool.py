"""Several connections per account, sharing the durable outbox.

Each worker thread holds its own store connection and its own SMTP session
(pipelining and chunking as the server offers). Items are handed out from one
in-memory queue under a lock, and every send still starts with the outbox's
atomic ``claim``, so no message is sent by two connections, nor by this run and
another process at once.

Rules that bind across the connections:

* Quotas: before an item is handed out, the free slots in each quota window
  (counted from the history, as ``ratelimit`` does) must exceed the messages in
  flight, so four connections never overshoot a limit one would respect.
* Refusals: connections open one after another; a 421 or a refused connection
  while at least one other connection is working lowers the count for the
  rest of the run (the server told us its limit), and the item that met it is
  handed to a surviving connection at once.
* Group commits: a worker records the protocol step only where recovery needs
  it (FINAL_DOT, before the bytes that could complete a transaction leave) and
  fsyncs only there, through ``GroupSync``: one fsync per pipelined group, shared
  by the connections that reach that point together, covering the previous
  outcome and this claim as well. See docs/architecture.md.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.accounts.credentials import TokenCredential
from app.core.accounts.model import Account
from app.core.delivery import outbox, ratelimit
from app.core.delivery.attempts import Connection, PasswordSource, SendOptions, attempt_on
from app.core.delivery.outbox import SendResult, State
from app.core.errors import (
    AuthFailed,
    ConnectionLost,
    ConnectionRefused,
    QuotaExceeded,
    RelayError,
    ServerUnreachable,
    TlsError,
    UsageError,
)
from app.core.smtp.steps import Step
from app.core.store import Store

MAX_FAILURES_IN_A_ROW = 5


@dataclass
class PoolReport:
    """What a run over several connections did."""

    results: list[SendResult] = field(default_factory=list)
    opened: int = 0  # connections that were working at once, at most
    lowered_to: int | None = None  # the count after a server refused more
    quota_reached: bool = False
    error: RelayError | None = None  # no connection could be opened at all

    @property
    def sent(self) -> int:
        return sum(1 for r in self.results if r.state is State.SENT)


class _PoolConnection(Connection):
    """A connection that commits only the step recovery needs (see the module doc)."""

    opened = False

    group: GroupSync | None = None

    def _on_step(self, step: Step) -> None:
        if self.item_id and step is Step.FINAL_DOT:
            # The one fsync of the message, shared with the other connections: it makes
            # this step and every earlier commit (the previous outcome, this claim) durable.
            outbox.record_step(self._store, self.item_id, step)
            if self.group is not None:
                self.group.commit_durably()
        if self._options.on_step:
            self._options.on_step(step)

    def warm(self) -> None:
        """Open the session before any item is claimed (a refusal then costs no item)."""
        self.session_for(0)


class GroupSync:
    """Group commit for the workers of one run: one fsync covers every commit before it.

    Workers commit with ``synchronous=NORMAL`` (WAL): the commit is written to the
    log file and survives a crash of the process, but not yet a power cut. Where a
    worker needs durability (before the bytes that could complete a transaction
    leave), it takes a ticket and waits: whoever fsyncs the log next makes every
    commit written before the fsync started durable, so four connections that
    reach that point together share one fsync instead of queueing for four.
    """

    def __init__(self, database: Path) -> None:
        self._log = Path(f"{database}-wal")
        self._syncing = threading.Lock()  # one fsync at a time
        self._counter = threading.Lock()
        self._written = 0  # tickets handed out (each after a commit)
        self._durable = 0  # tickets covered by a finished fsync

    def ticket(self) -> int:
        """Call right after a commit; pass the ticket to ``wait``."""
        with self._counter:
            self._written += 1
            return self._written

    def wait(self, ticket: int) -> None:
        """Return once the commit behind ``ticket`` is on disk."""
        with self._syncing:
            with self._counter:
                if self._durable >= ticket:
                    return  # an fsync that started after our commit has finished
                covering = self._written
            descriptor = os.open(self._log, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            with self._counter:
                self._durable = max(self._durable, covering)

    def commit_durably(self) -> None:
        """Make every commit so far durable."""
        self.wait(self.ticket())


@dataclass
class _SharedStore(Store):
    """A worker's store whose writes take turns with the other workers' in this process.

    SQLite lets one writer in at a time; a second one gets SQLITE_BUSY and its busy
    handler sleeps (1, 2, 5, 10 … ms) before it looks again. Taking turns on a
    lock here wakes the next worker the moment the write before it is done.
    """

    lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock, super().transaction() as db:
            yield db

    def execute(
        self, sql: str, parameters: tuple[Any, ...] | dict[str, Any] = ()
    ) -> sqlite3.Cursor:
        with self.lock:
            return super().execute(sql, parameters)


def group_commits(store: Store) -> None:
    """This connection's commits wait for the group's fsync (WAL, ``synchronous=NORMAL``)."""
    store.connection.execute("PRAGMA synchronous = NORMAL")


def is_refusal(error: RelayError | None) -> bool:
    """A 421 or a refused TCP connection: the server wants fewer sessions from us."""
    if error is None:
        return False
    return isinstance(error, ConnectionRefused) or (
        error.reply is not None and error.reply.code == 421
    )


def free_slots(store: Store, account: Account, now: float | None = None) -> int | None:
    """Messages that may still go now under the account's quota; None without a quota."""
    now = time.time() if now is None else now
    free: int | None = None
    for _, span, limit in ratelimit.get_quota(store, account).limits():
        used = store.execute(
            "SELECT COUNT(*) FROM history WHERE account = ? AND sent_at >= ?",
            (account.name, now - span),
        ).fetchone()[0]
        left = max(0, limit - int(used))
        free = left if free is None else min(free, left)
    return free


class _Pool:
    def __init__(
        self,
        open_store: Callable[[], Store],
        account: Account,
        password: PasswordSource,
        options: SendOptions,
        connections: int,
        item_ids: list[int],
        on_result: Callable[[SendResult], None] | None,
        stop: threading.Event,
        database: Path,
    ) -> None:
        self._open_store = open_store
        self._account = account
        self._password = password
        self._options = options
        self._on_result = on_result
        self._stop = stop
        self._queue = deque(item_ids)
        self._lock = threading.Lock()
        self._inflight = 0
        self._alive = 0
        self._limit = max(1, connections)
        self._requeued: set[int] = set()
        self._turns = [threading.Event() for _ in range(self._limit + 1)]
        self._turns[0].set()
        self.report = PoolReport()
        self._group = GroupSync(database)
        self._writes = threading.RLock()

    def run(self) -> PoolReport:
        threads = [
            threading.Thread(target=self._worker, args=(n,), name=f"relaydesk-conn-{n}")
            for n in range(self._limit)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.report

    def _worker(self, index: int) -> None:
        self._turns[index].wait()  # connections open one after another
        opened = self._open_store()
        store = _SharedStore(opened.connection, opened.path, self._writes)
        group_commits(store)
        connection = _PoolConnection(store, self._account, self._source_for(store), self._options)
        connection.group = self._group
        try:
            if not self._open(index, connection):
                return
            self._work(store, connection)
        finally:
            connection.close()
            self._group.commit_durably()  # the last outcomes of this connection
            store.close()
            with self._lock:
                self._alive -= 1 if connection.opened else 0

    def _source_for(self, store: Store) -> PasswordSource:
        """The credential resolved before the run, for this worker's thread.

        An OAuth2 token renews itself through the store, and a store belongs to one
        thread: each worker gets a token object of its own over its own store.
        """
        credential = self._password(self._account)  # cached by the resolver: no lookup
        if isinstance(credential, TokenCredential):
            local = TokenCredential(store, self._account)
            return lambda _account: local
        return lambda _account: credential

    def _open(self, index: int, connection: _PoolConnection) -> bool:
        try:
            if index >= self._limit or self._stop.is_set() or not self._queue:
                return False
            connection.warm()
        except RelayError as error:
            with self._lock:
                if self._alive == 0:
                    self.report.error = error  # the server takes no connection at all
                    self._stop.set()
                else:
                    self._lower(index)
            return False
        finally:
            self._turns[index + 1].set()
        with self._lock:
            connection.opened = True
            self._alive += 1
            self.report.opened = max(self.report.opened, self._alive)
        return True

    def _lower(self, count: int) -> None:
        if count < self._limit:
            self._limit = count
            self.report.lowered_to = count

    def _work(self, store: Store, connection: _PoolConnection) -> None:
        failures = 0  # in a row: a server that went away for good ends the run
        while (item_id := self._take(store)) is not None:
            try:
                result = attempt_on(store, item_id, connection, self._options)
            except UsageError:
                result = None  # cancelled, or taken by another process meanwhile
            finally:
                with self._lock:
                    self._inflight -= 1
            if result is None:
                continue
            failures = failures + 1 if _connection_trouble(result.error) else 0
            if failures >= MAX_FAILURES_IN_A_ROW:
                with self._lock:
                    self.report.error = self.report.error or result.error
                self._stop.set()
            if not self._settle(result, connection):
                return

    def _settle(self, result: SendResult, connection: _PoolConnection) -> bool:
        """Record the result; False when this connection should stop."""
        if result.error is not None:
            connection.close()  # a fresh session for the next item
        with self._lock:
            again = result.state is State.RETRYING and result.item_id not in self._requeued
            if again:  # a dropped connection or a 452: another connection tries at once
                self._requeued.add(result.item_id)
                self._queue.append(result.item_id)
            else:
                self.report.results.append(result)
            if isinstance(result.error, QuotaExceeded):
                self.report.quota_reached = True
                self._stop.set()
            if is_refusal(result.error) and self._alive > 1:
                self._alive -= 1
                connection.opened = False
                self._lower(self._alive)
                return False
        if not again and self._on_result is not None:
            self._on_result(result)
        return True

    def _take(self, store: Store) -> int | None:
        while True:
            with self._lock:
                if self._stop.is_set() or not self._queue or self._alive > self._limit:
                    return None
                free = free_slots(store, self._account)
                if free is not None and free <= self._inflight:
                    self.report.quota_reached = True
                    return None
                item_id = self._queue.popleft()
                if not _still_due(store, item_id, any_time=item_id in self._requeued):
                    continue  # paused, cancelled or sent elsewhere since the run began
                self._inflight += 1
                return item_id


def _connection_trouble(error: RelayError | None) -> bool:
    return isinstance(error, ServerUnreachable | ConnectionLost | AuthFailed | TlsError)


def _still_due(store: Store, item_id: int, *, any_time: bool) -> bool:
    due_by = float("inf") if any_time else time.time() + 1
    row = store.execute(
        "SELECT 1 FROM outbox WHERE id = ? AND state IN (?, ?)"
        " AND coalesce(next_attempt_at, 0) <= ?",
        (item_id, State.QUEUED.value, State.RETRYING.value, due_by),
    ).fetchone()
    return row is not None


def send_with_pool(
    open_store: Callable[[], Store],
    account: Account,
    item_ids: list[int],
    password: PasswordSource,
    options: SendOptions | None = None,
    *,
    database: Path,
    connections: int = 1,
    on_result: Callable[[SendResult], None] | None = None,
    stop: threading.Event | None = None,
) -> PoolReport:
    """Send ``item_ids`` (all of ``account``) over up to ``connections`` sessions at once.

    ``database`` is the store's file (``store.path``): its log is what the group fsyncs.

    ``open_store`` gives each worker its own database connection (SQLite
    connections are per thread). ``stop`` ends the run after the messages in
    flight; the rest stay queued.
    """
    try:
        password(account)  # resolved once, here, in the caller's thread (and asked only once)
    except RelayError as error:
        return PoolReport(error=error)
    pool = _Pool(
        open_store,
        account,
        password,
        options or SendOptions(),
        connections,
        item_ids,
        on_result,
        stop or threading.Event(),
        database,
    )
    return pool.run()
