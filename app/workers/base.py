"""Running workers on QThreads: keep references while they run, stop them cleanly."""

from __future__ import annotations

from app.qt import QObject, QtCore, QThread, QTimer, Signal, Slot

# Threads that outlived their owner (a blocking DNS lookup cannot be interrupted) are
# kept here until they end, so no running QThread is ever garbage-collected.
parked: list[tuple[QThread, QObject]] = []


class Worker(QObject):
    """A QObject that does one job (``work``) on its own thread, then emits ``done``."""

    done = Signal()  # always last, whatever happened: the thread may quit

    def work(self) -> None:  # pragma: no cover - subclasses implement it
        raise NotImplementedError

    def cancel(self) -> None:
        """From any thread: ask the job to stop at its next safe point."""

    @Slot()
    def run(self) -> None:
        try:
            self.work()
        finally:
            # Hand the object back to the GUI thread so it can be released there.
            app = QtCore.QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.done.emit()


class WorkerPool(QObject):
    """Owns the threads of running workers (so none is collected while it runs)."""

    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, Worker] = {}

    def start(self, worker: Worker, name: str = "worker") -> None:
        """Move ``worker`` to a new thread and run it."""
        thread = QThread()
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)
        self._running[thread] = worker
        thread.start()

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def workers(self) -> list[Worker]:
        return list(self._running.values())

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread) and thread in self._running:
            thread.wait()
            del self._running[thread]
        if not self._running:
            self.idle.emit()

    def shutdown(self) -> None:
        """Wait for every running worker's thread to end (callers cancel first if they want)."""
        for thread in list(self._running):
            thread.quit()
            thread.wait()
        self._running.clear()


def park(thread: QThread, worker: QObject) -> None:
    """Keep a thread whose owner is going away until it ends (checked every 250 ms)."""
    parked.append((thread, worker))
    QTimer.singleShot(250, _reap)


def _reap() -> None:
    for entry in list(parked):
        if entry[0].isFinished():
            entry[0].wait()
            parked.remove(entry)
    if parked:
        QTimer.singleShot(250, _reap)


def wait_for_parked(timeout_ms: int = 5000) -> bool:
    """At application exit: wait for threads that outlived their window; True if all ended."""
    for entry in list(parked):
        entry[0].quit()
        if entry[0].wait(timeout_ms):
            parked.remove(entry)
    return not parked
