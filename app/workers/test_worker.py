"""The account credential test on a background thread.

``TestWorker`` runs ``checks.run_test`` and speaks only through signals.
``TestRunner`` lives in the GUI thread, owns the QThread and the worker while
they run, re-emits the worker's signals there, and stops them without ever
blocking on the network.
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
from app.workers.base import park as _park
from app.workers.base import parked as _parked
from app.workers.base import wait_for_parked

__all__ = ["TestRunner", "TestWorker", "_parked", "wait_for_parked"]


class TestWorker(QObject):
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

    @Slot()
    def run(self) -> None:
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
        except Exception as error:  # a bug must still end the test visibly, never hang it
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
    """Starts tests on a QThread and relays their signals in the GUI thread."""

    __test__ = False

    line = Signal(object)
    check = Signal(object)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TestWorker | None = None

    @property
    def thread(self) -> QThread | None:
        """The running test's thread, if any (for shutdown checks and diagnostics)."""
        return self._thread

    @property
    def running(self) -> bool:
        """True from ``start`` until the report has been relayed."""
        return self._worker is not None

    def start(
        self,
        account: Account,
        password: str | FixedToken | None,
        timeouts: Timeouts | None = None,
    ) -> None:
        """Begin a test; the previous one must have finished."""
        if self.running:
            raise RuntimeError("a test is already running")
        thread = QThread()  # no parent: its lifetime is managed here, not by a widget
        thread.setObjectName(f"account-test-{account.name}")
        worker = TestWorker(account, password, timeouts)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.line.connect(self._on_worker_line)
        worker.check.connect(self._on_worker_check)
        worker.finished.connect(self._on_worker_finished)
        worker.finished.connect(thread.quit)
        self._thread, self._worker = thread, worker
        thread.start()

    def cancel(self) -> None:
        """Ask the running test to stop; its (cancelled) report still arrives."""
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self, wait_ms: int = 2000) -> None:
        """Cancel, and wait for the thread briefly; a thread stuck longer is parked."""
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return
        self._thread = self._worker = None
        worker.cancel()
        for signal in (worker.line, worker.check, worker.finished):
            signal.disconnect()
        thread.quit()
        if not thread.wait(wait_ms):
            _park(thread, worker)

    @Slot(object)
    def _on_worker_line(self, line: object) -> None:
        if self.sender() is self._worker:
            self.line.emit(line)

    @Slot(object)
    def _on_worker_check(self, result: object) -> None:
        if self.sender() is self._worker:
            self.check.emit(result)

    @Slot(object)
    def _on_worker_finished(self, report: object) -> None:
        if self.sender() is not self._worker:
            return
        thread = self._thread
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()
            thread.wait()  # run() has returned: only the event loop is left to stop
        self.finished.emit(report)
