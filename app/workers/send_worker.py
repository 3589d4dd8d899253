"""Send one message on a worker thread: queue the draft if needed, then deliver it."""

from __future__ import annotations

import threading

from app.core.accounts.credentials import resolver_with
from app.core.accounts.model import get_account
from app.core.delivery import outbox
from app.core.delivery.attempts import SendOptions, queue_draft
from app.core.delivery.message import Draft
from app.core.delivery.outbox import State
from app.core.delivery.send import send_now
from app.core.errors import RelayError
from app.core.paths import Paths
from app.core.smtp.session import SmtpSession
from app.core.store import Store
from app.qt import Signal
from app.workers.base import Worker


class SendWorker(Worker):
    """Delivers outbox item ``item_id`` of ``account`` (or first queues ``draft`` for it).

    ``account`` and ``quiet`` are for whoever reads the answer: which account's typed
    password to forget when it is refused, and whether a background attempt's "someone
    else is sending it" is news.
    """

    queued = Signal(int)  # outbox item id, once the message is durable
    progress = Signal(int, int)  # bytes sent, bytes total
    finished = Signal(object)  # app.core.delivery.outbox.SendResult
    failed = Signal(object)  # app.core.errors.RelayError (nothing was sent)

    def __init__(
        self,
        *,
        account: str,
        item_id: int | None = None,
        draft: Draft | None = None,
        password: str | None = None,
        paths: Paths | None = None,
        send: bool = True,
        quiet: bool = False,
    ) -> None:
        super().__init__()
        if (item_id is None) == (draft is None):
            raise ValueError("give either item_id or draft")
        self.item_id = item_id  # set on this worker's thread once a draft is queued
        self.account = account
        self.quiet = quiet
        self._draft = draft
        self._password = password
        self._paths = paths
        self._send = send
        self._lock = threading.Lock()
        self._session: SmtpSession | None = None
        self._cancelled = False
        self._requeue = False

    def cancel(self, *, requeue: bool = False) -> None:
        """Abort before the final dot; ``requeue`` puts the item back as queued (on quit)."""
        with self._lock:
            self._cancelled = True
            self._requeue = requeue
            session = self._session
        if session is not None:
            session.cancel()

    def abandon(self) -> None:
        """On quit: stop before the final dot and leave the message queued for next time."""
        self.cancel(requeue=True)

    def _on_session(self, session: SmtpSession) -> None:
        with self._lock:
            self._session = session
            cancelled = self._cancelled
        if cancelled:
            session.cancel()

    def work(self) -> None:
        try:
            store = Store.open(self._paths)  # this thread's own connection
        except RelayError as error:
            self.failed.emit(error)
            return
        try:
            self._run(store)
        except RelayError as error:
            self.failed.emit(error)
        except Exception as error:  # noqa: BLE001 - a bug: report it rather than leave the window waiting
            self.failed.emit(RelayError(f"Internal error while sending: {error!r}"))
        finally:
            store.close()

    def _run(self, store: Store) -> None:
        if self.item_id is None:
            assert self._draft is not None
            account = get_account(store, self.account)
            self.item_id = queue_draft(store, account, self._draft, face="gui")
            self.queued.emit(self.item_id)
        with self._lock:
            stop = self._cancelled or not self._send
        if stop:
            return  # it is in the outbox; the runner or the next start sends it
        options = SendOptions(
            face="gui", on_progress=self.progress.emit, on_session=self._on_session
        )
        result = send_now(store, self.item_id, resolver_with(store, self._password), options)
        with self._lock:
            requeue = self._requeue
        if requeue and result.state is State.CANCELLED:
            outbox.retry(store, self.item_id, face="gui")
        self.finished.emit(result)
