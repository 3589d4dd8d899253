"""The one send path of the GUI: compose, quick-send, outbox and the runner all use it.

A window that follows its send connects its slots to the ``SendWorker`` itself (queued,
progress, finished, failed) between ``prepare_draft`` and ``start``; this service hears
the same signals and tells the rest of the application.
"""

from __future__ import annotations

from app.core.accounts.model import Account, get_account
from app.core.delivery.message import Draft
from app.core.delivery.outbox import SendResult, State
from app.core.errors import AuthFailed, PasswordMissing, RelayError, UsageError
from app.core.paths import Paths
from app.core.store import Store
from app.qt import QObject, QtWidgets, Signal, Slot
from app.ui.accounts.password_prompt import PasswordCache, password_for
from app.workers.base import WorkerPool
from app.workers.send_worker import SendWorker


class SendService(QObject):
    """Starts send workers, remembers "ask" passwords, and reports every outcome."""

    outbox_changed = Signal()
    sent = Signal(object)  # SendResult with state SENT
    problem = Signal(object, object)  # (SendResult | None, RelayError)
    paused_changed = Signal(bool)

    def __init__(self, store: Store, paths: Paths | None = None) -> None:
        super().__init__()
        self._store = store
        self._paths = paths
        self.passwords = PasswordCache()
        self._pool = WorkerPool(self)
        self.paused = False

    @property
    def busy(self) -> bool:
        return self._pool.busy

    def _sends(self) -> list[SendWorker]:
        return [w for w in self._pool.workers() if isinstance(w, SendWorker)]

    @property
    def preparing(self) -> bool:
        """A draft is being queued: its item id is not known yet."""
        return any(worker.item_id is None for worker in self._sends())

    def active_items(self) -> set[int]:
        return {worker.item_id for worker in self._sends() if worker.item_id is not None}

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.paused_changed.emit(paused)

    def prepare_draft(
        self, account: Account, draft: Draft, parent: QtWidgets.QWidget | None = None
    ) -> SendWorker | None:
        """The worker that queues ``draft`` and (unless paused) sends it, not started yet;
        None when the person cancelled the password prompt."""
        go, password = password_for(account, self.passwords, parent)
        if not go:
            return None
        return SendWorker(
            account=account.name,
            draft=draft,
            password=password,
            paths=self._paths,
            send=not self.paused,
        )

    def send_item(
        self,
        item_id: int,
        account_name: str,
        parent: QtWidgets.QWidget | None = None,
        *,
        quiet: bool = False,
    ) -> SendWorker | None:
        """Send an outbox item now (after retry or when due); ``quiet``: no busy errors."""
        if item_id in self.active_items():
            return None
        account = get_account(self._store, account_name)
        go, password = password_for(account, self.passwords, parent)
        if not go:
            return None
        worker = SendWorker(
            account=account_name,
            item_id=item_id,
            password=password,
            paths=self._paths,
            quiet=quiet,
        )
        self.start(worker)
        return worker

    def start(self, worker: SendWorker) -> None:
        """Run a worker from ``prepare_draft`` once the window has connected its slots."""
        # Each receiver gets its own queued call; connected last, the service hears an
        # outcome after the window, so when it announces one the window shows it already.
        worker.queued.connect(self._on_worker_queued)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        self._pool.start(worker, name=f"send-{worker.account}")

    @Slot(int)
    def _on_worker_queued(self, _item_id: int) -> None:
        self.outbox_changed.emit()

    @Slot(object)
    def _on_worker_finished(self, result: SendResult) -> None:
        if result.state is State.SENT:
            self.sent.emit(result)
        elif result.error is not None:
            self._forget_rejected_password(result.error)
            self.problem.emit(result, result.error)
        self.outbox_changed.emit()

    @Slot(object)
    def _on_worker_failed(self, error: RelayError) -> None:
        worker = self.sender()
        if isinstance(worker, SendWorker) and worker.quiet and isinstance(error, UsageError):
            return
        self._forget_rejected_password(error)
        self.problem.emit(None, error)
        self.outbox_changed.emit()

    def _forget_rejected_password(self, error: RelayError) -> None:
        """A refused "ask" password is asked again next time, not reused."""
        worker = self.sender()
        if isinstance(error, AuthFailed | PasswordMissing) and isinstance(worker, SendWorker):
            self.passwords.forget(worker.account)

    def shutdown(self) -> None:
        """On quit: stop before the final dot (the item goes back to queued) and wait; no
        answer reaches a window after this."""
        self._pool.shutdown()
