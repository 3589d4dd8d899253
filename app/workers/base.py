"""The one way to run a job off the GUI thread.

A ``Worker`` is a QObject that does one job (``work``) on its own QThread and speaks only
through signals. Its owner (a window, a service) keeps a ``WorkerPool`` in the GUI thread:
the pool starts workers, says which answers are still wanted (``is_current``), lets a new
job replace the previous one (``replace``), and stops its jobs on shutdown.

Every thread started here is also kept in this module until it has ended, whatever
becomes of its owner: a window closed while its job blocks (a DNS lookup cannot be
interrupted) never lets a running QThread be garbage-collected, which would abort the
process.
"""

from __future__ import annotations

import time

from app.qt import QObject, QtCore, QThread, Signal, Slot

ABANDON_WAIT_MS = 20  # an idle thread ends at once; a blocked one is left to end on its own


class Worker(QObject):
    """A QObject that does one job (``work``) on its own thread, then emits ``done``."""

    done = Signal()  # always last, whatever happened

    def work(self) -> None:  # pragma: no cover - subclasses implement it
        """The job; it reports through the subclass's own signals."""
        raise NotImplementedError

    def cancel(self) -> None:
        """From any thread: ask the job to stop at its next safe point."""

    def abandon(self) -> None:
        """Its owner lets go of it (shutting down, or a newer job replaces it): stop as
        ``cancel`` does, unless a subclass must leave something resumable instead."""
        self.cancel()

    @Slot()
    def run(self) -> None:
        """Do the job; the pool connects this to the thread's start."""
        try:
            self.work()
        finally:
            # The worker stays with its thread, which is ending: the keeper drops it in
            # the GUI thread only once the thread has ended, when deleting it is safe.
            # (It used to move itself back to the GUI thread here; one test run hung
            # inside that move while the GUI thread waited in the keeper.)
            self.done.emit()


class _Keeper(QObject):
    """Holds every started thread and its worker until the thread has ended."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: dict[QThread, Worker] = {}

    def keep(self, thread: QThread, worker: Worker) -> None:
        self.threads[thread] = worker
        thread.finished.connect(self.on_thread_finished)

    @Slot()
    def on_thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread):
            self.release(thread)

    def release(self, thread: QThread) -> None:
        """Forget an ended thread (the wait only joins the OS thread, which is ending)."""
        if self.threads.pop(thread, None) is not None:
            thread.wait()


_keeper: _Keeper | None = None


def _kept() -> _Keeper:
    global _keeper
    if _keeper is None:  # made on first use, so in the GUI thread
        _keeper = _Keeper()
    return _keeper


def running_threads() -> list[QThread]:
    """Threads started here that have not ended yet, whatever became of their owners."""
    return [thread for thread in _kept().threads if not thread.isFinished()]


def wait_for_threads(timeout_ms: int = 5000) -> bool:
    """At application exit: give every thread still running up to ``timeout_ms`` in all
    to end; True when none is left."""
    deadline = time.monotonic() + timeout_ms / 1000
    keeper = _kept()
    for thread in list(keeper.threads):
        thread.quit()
        left = max(0, int((deadline - time.monotonic()) * 1000))
        if thread.wait(left):
            keeper.release(thread)
    return not running_threads()


class WorkerPool(QObject):
    """The running workers of one owner, each on its own thread.

    Answers reach the owner's slots as queued signals, so one may still arrive after the
    owner let its worker go; slots that must not act on such a late answer check
    ``is_current(self.sender())`` first.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[Worker, QThread] = {}

    def start(self, worker: Worker, name: str = "worker") -> None:
        """Move ``worker`` to a new thread and run it; connect its signals before this."""
        thread = QThread()  # no parent: the keeper, not a widget, decides when it goes
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: the thread stops itself, even while the GUI thread waits for it.
        worker.done.connect(thread.quit, QtCore.Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._running[worker] = thread
        _kept().keep(thread, worker)
        thread.start()

    def replace(self, worker: Worker, name: str = "worker") -> None:
        """Run ``worker`` as the only job: those running are cancelled and their answers,
        even late ones, ignored; a blocked one is not waited for."""
        self.shutdown(ABANDON_WAIT_MS)
        self.start(worker, name)

    @property
    def busy(self) -> bool:
        """True while a job runs that the owner still listens to."""
        return bool(self._running)

    def workers(self) -> list[Worker]:
        """The jobs running for the owner, oldest first."""
        return list(self._running)

    def thread_of(self, worker: Worker) -> QThread | None:
        """The thread ``worker`` runs on while the owner listens to it."""
        return self._running.get(worker)

    def is_current(self, sender: QObject | None) -> bool:
        """True when ``sender`` is a job of this pool that the owner still listens to."""
        return isinstance(sender, Worker) and sender in self._running

    def release(self, worker: Worker, wait_ms: int = 1000) -> None:
        """The owner has ``worker``'s last answer: the job no longer counts as running, and
        its thread, which is ending, is waited for briefly."""
        self._let_go(worker, wait_ms)

    def shutdown(self, wait_ms: int | None = None) -> None:
        """Stop listening to every job, stop it (``Worker.abandon``) and wait for its thread:
        forever by default, else ``wait_ms``; a thread still running then ends on its own."""
        for worker in list(self._running):
            _disconnect_answers(worker)  # first: nothing said while stopping reaches the owner
            worker.abandon()
            self._let_go(worker, wait_ms)

    def _let_go(self, worker: Worker, wait_ms: int | None) -> None:
        thread = self._running.pop(worker, None)
        if thread is None:
            return
        thread.quit()
        ended = thread.wait() if wait_ms is None else thread.wait(wait_ms)
        if ended:
            _kept().release(thread)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        for worker, running in list(self._running.items()):
            if running is thread:
                del self._running[worker]


def _disconnect_answers(worker: Worker) -> None:
    """Disconnect every signal the Worker subclasses declare (``done`` stays: it stops the
    thread)."""
    meta = worker.metaObject()
    while meta.className() != Worker.__name__:
        for index in range(meta.methodOffset(), meta.methodCount()):
            method = meta.method(index)
            if method.methodType() == QtCore.QMetaMethod.MethodType.Signal:
                if worker.isSignalConnected(method):
                    getattr(worker, bytes(method.name().data()).decode()).disconnect()
        meta = meta.superClass()
