"""Background jobs of the merge window: checking, queueing, sending a run."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.core.delivery.outbox import SendResult
from app.core.delivery.pool import PoolReport
from app.core.errors import RelayError
from app.qt import Signal
from app.workers.base import Worker


class CallWorker(Worker):
    """Runs one core function off the GUI thread; its result or RelayError comes back."""

    finished = Signal(object)
    failed = Signal(object)  # RelayError

    def __init__(self, job: Callable[[], object]) -> None:
        super().__init__()
        self._job = job

    def work(self) -> None:
        try:
            result = self._job()
        except RelayError as error:
            self.failed.emit(error)
            return
        self.finished.emit(result)


class RunWorker(Worker):
    """Sends a queued run over the account's connections; ``cancel`` stops after the
    messages in flight (the rest stays queued)."""

    sent_one = Signal(object)  # SendResult, as each message is settled
    finished = Signal(object)  # PoolReport
    failed = Signal(object)  # RelayError

    def __init__(
        self, job: Callable[[Callable[[SendResult], None], threading.Event], PoolReport]
    ) -> None:
        super().__init__()
        self._job = job
        self.stop = threading.Event()

    def cancel(self) -> None:
        self.stop.set()

    def work(self) -> None:
        try:
            report = self._job(self.sent_one.emit, self.stop)
        except RelayError as error:
            self.failed.emit(error)
            return
        self.finished.emit(report)
