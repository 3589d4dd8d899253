"""The account credential test on a background thread.

``TestWorker`` runs ``checks.run_test`` and speaks only through signals.
``TestRunner`` lives in the GUI thread: it runs one test at a time on a ``WorkerPool``,
passes on only the answers of the test it still listens to, and stops a test without
ever blocking on the network.
"""

from __future__ import annotations

import threading

from app.core.accounts.credentials import FixedToken, resolver_with
from app.core.accounts.model import Account
from app.core.errors import RelayError
from app.core.setup.checks import TestReport, run_test
from app.core.smtp.session import SmtpSession, Timeouts
from app.core.smtp.transcript import Transcript
from app.core.store import Store
from app.qt import QObject, QThread, Signal, Slot
from app.workers.base import Worker, WorkerPool


class TestWorker(Worker):
    """Runs one credential test; ``cancel`` may be called from any thread."""

    __test__ = False  # not a pytest test class despite the name

    line = Signal(object)  # app.core.smtp.transcript.TranscriptLine
    check = Signal(object)  # app.core.setup.checks.CheckResult
    finished = Signal(object)  # app.core.setup.checks.TestReport

    def __init__(
        self,
        account: Account,
        password: str | FixedToken | None,
        timeouts: Timeouts | None = None,
    ) -> None:
        super().__init__()
        self._account = account
        self._password = password
        self._timeouts = timeouts
        self._lock = threading.Lock()
        self._session: SmtpSession | None = None
        self._cancelled = False

    def work(self) -> None:
        """Run the test; always ends with ``finished``."""
        transcript = Transcript(on_line=self.line.emit)
        store: Store | None = None
        try:
            # The keyring and the token endpoint are asked here, on the worker thread.
            store = Store.open()
            given = self._password
            credential = (
                given
                if isinstance(given, FixedToken)
                else resolver_with(store, given)(self._account)
            )
            report = run_test(
                self._account,
                credential,
                transcript=transcript,
                timeouts=self._timeouts,
                on_result=self.check.emit,
                on_session=self._attach,
            )
        except RelayError as error:
            report = TestReport(self._account, transcript=transcript)
            report.error = error
        except Exception as error:  # noqa: BLE001 - a bug must still end the test visibly, never hang it
            report = TestReport(self._account, transcript=transcript)
            report.error = RelayError(
                f"The test stopped on an unexpected error: {type(error).__name__}: {error}",
                hint="This is a bug in Relaydesk. Save the report and send it to the developers.",
            )
        finally:
            self._password = None
            if store is not None:
                store.close()
        self.finished.emit(report)

    def cancel(self) -> None:
        """Abort the test as soon as possible (thread-safe)."""
        with self._lock:
            self._cancelled = True
            session = self._session
        if session is not None:
            session.cancel()

    def _attach(self, session: SmtpSession) -> None:
        with self._lock:
            self._session = session
            cancelled = self._cancelled
        if cancelled:
            session.cancel()


class TestRunner(QObject):
    """Runs one test at a time and passes on its signals in the GUI thread."""

    __test__ = False

    line = Signal(object)  # app.core.smtp.transcript.TranscriptLine
    check = Signal(object)  # app.core.setup.checks.CheckResult
    finished = Signal(object)  # app.core.setup.checks.TestReport

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tests = WorkerPool(self)

    @property
    def running_thread(self) -> QThread | None:
        """The running test's thread, if any (for shutdown checks and diagnostics)."""
        workers = self._tests.workers()
        return self._tests.thread_of(workers[0]) if workers else None

    @property
    def running(self) -> bool:
        """True from ``start`` until the report has been passed on."""
        return self._tests.busy

    def start(
        self,
        account: Account,
        password: str | FixedToken | None,
        timeouts: Timeouts | None = None,
    ) -> None:
        """Begin a test; the previous one must have finished."""
        if self.running:
            raise RuntimeError("a test is already running")
        worker = TestWorker(account, password, timeouts)
        worker.line.connect(self._on_worker_line)
        worker.check.connect(self._on_worker_check)
        worker.finished.connect(self._on_worker_finished)
        self._tests.start(worker, name=f"account-test-{account.name}")

    def cancel(self) -> None:
        """Ask the running test to stop; its (cancelled) report still arrives."""
        for worker in self._tests.workers():
            worker.cancel()

    def shutdown(self, wait_ms: int = 2000) -> None:
        """Cancel without passing on the report, and wait for the thread briefly; a thread
        stuck longer ends on its own."""
        self._tests.shutdown(wait_ms)

    @Slot(object)
    def _on_worker_line(self, line: object) -> None:
        if self._tests.is_current(self.sender()):
            self.line.emit(line)

    @Slot(object)
    def _on_worker_check(self, result: object) -> None:
        if self._tests.is_current(self.sender()):
            self.check.emit(result)

    @Slot(object)
    def _on_worker_finished(self, report: object) -> None:
        worker = self.sender()
        if not isinstance(worker, TestWorker) or not self._tests.is_current(worker):
            return
        self._tests.release(worker)  # not running any more when the report is read
        self.finished.emit(report)
