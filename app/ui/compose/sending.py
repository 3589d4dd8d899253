"""The one send path of the GUI: compose, quick-send, outbox and the runner all use it."""

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


class SendJob(QObject):
    """One send as the GUI sees it; lives in the GUI thread and relays the worker's signals."""

    queued = Signal(int)
    progress = Signal(int, int)
    finished = Signal(object)  # SendResult
    failed = Signal(object)  # RelayError

    def __init__(self, worker: SendWorker, account: str | None) -> None:
        super().__init__()
        self.worker = worker
        self.account = account
        self.item_id: int | None = worker.item_id
        self.quiet = False  # a background attempt: "someone else is sending it" is no news
        worker.queued.connect(self._on_worker_queued)
        worker.progress.connect(self._on_worker_progress)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)

    def cancel(self) -> None:
        self.worker.cancel()

    def detach(self) -> None:
        """Stop relaying: after shutdown nobody is left to show a result."""
        for signal in (
            self.worker.queued,
            self.worker.progress,
            self.worker.finished,
            self.worker.failed,
        ):
            signal.disconnect()

    @Slot(int)
    def _on_worker_queued(self, item_id: int) -> None:
        self.item_id = item_id
        self.queued.emit(item_id)

    @Slot(int, int)
    def _on_worker_progress(self, done: int, total: int) -> None:
        self.progress.emit(done, total)

    @Slot(object)
    def _on_worker_finished(self, result: object) -> None:
        self.finished.emit(result)

    @Slot(object)
    def _on_worker_failed(self, error: object) -> None:
        self.failed.emit(error)


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
        self._jobs: list[SendJob] = []
        self.paused = False

    @property
    def busy(self) -> bool:
        return self._pool.busy

    @property
    def preparing(self) -> bool:
        """A draft is being queued: its item id is not known yet."""
        return any(job.item_id is None for job in self._jobs)

    def active_items(self) -> set[int]:
        return {job.item_id for job in self._jobs if job.item_id is not None}

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.paused_changed.emit(paused)

    def send_draft(
        self, account: Account, draft: Draft, parent: QtWidgets.QWidget | None = None
    ) -> SendJob | None:
        """Queue ``draft`` and (unless paused) send it; None when the user cancelled."""
        go, password = password_for(account, self.passwords, parent)
        if not go:
            return None
        worker = SendWorker(
            account=account.name,
            draft=draft,
            password=password,
            paths=self._paths,
            send=not self.paused,
        )
        return self._start(worker, account.name)

    def send_item(
        self,
        item_id: int,
        account_name: str,
        parent: QtWidgets.QWidget | None = None,
        *,
        quiet: bool = False,
    ) -> SendJob | None:
        """Send an outbox item now (after retry or when due); ``quiet``: no busy errors."""
        if item_id in self.active_items():
            return None
        account = get_account(self._store, account_name)
        go, password = password_for(account, self.passwords, parent)
        if not go:
            return None
        worker = SendWorker(item_id=item_id, password=password, paths=self._paths)
        job = self._start(worker, account_name)
        job.quiet = quiet
        return job

    def _start(self, worker: SendWorker, account: str) -> SendJob:
        job = SendJob(worker, account)
        job.queued.connect(self._on_job_queued)
        job.finished.connect(self._on_job_finished)
        job.failed.connect(self._on_job_failed)
        worker.done.connect(self._on_worker_done)
        self._jobs.append(job)
        self._pool.start(worker, name=f"send-{account}")
        return job

    @Slot(int)
    def _on_job_queued(self, _item_id: int) -> None:
        self.outbox_changed.emit()

    @Slot(object)
    def _on_job_finished(self, result: SendResult) -> None:
        if result.state is State.SENT:
            self.sent.emit(result)
        elif result.error is not None:
            self._forget_rejected_password(result.error)
            self.problem.emit(result, result.error)
        self.outbox_changed.emit()

    @Slot(object)
    def _on_job_failed(self, error: RelayError) -> None:
        job = self.sender()
        if isinstance(job, SendJob) and job.quiet and isinstance(error, UsageError):
            return
        self._forget_rejected_password(error)
        self.problem.emit(None, error)
        self.outbox_changed.emit()

    @Slot()
    def _on_worker_done(self) -> None:
        worker = self.sender()
        self._jobs = [job for job in self._jobs if job.worker is not worker]

    def _forget_rejected_password(self, error: RelayError) -> None:
        """A refused "ask" password is asked again next time, not reused."""
        job = self.sender()
        if isinstance(error, AuthFailed | PasswordMissing) and isinstance(job, SendJob):
            if job.account:
                self.passwords.forget(job.account)

    def shutdown(self) -> None:
        """On quit: stop before the final dot (the item goes back to queued) and wait."""
        for job in self._jobs:
            job.detach()
            job.worker.cancel(requeue=True)
        self._pool.shutdown()
        self._jobs.clear()
