"""Autodetection of an address's SMTP settings on a background thread.

``DetectWorker`` runs one detector call and speaks only through signals.
``DetectRunner`` lives in the GUI thread, owns the QThread and the worker while
they run, and relays only the answer for the address asked last: a lookup the
user has moved on from is abandoned (parked until it ends), never waited for.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from functools import partial

from app.core import settings
from app.core.errors import RelayError
from app.core.setup.detect import Detection, detect
from app.core.store import Store
from app.qt import QObject, QThread, Signal, Slot
from app.workers.base import park

Detector = Callable[[str], Detection]
STEP_TIMEOUT = 3.0  # seconds for each of MX, autoconfig and probing


def default_detector() -> Detector:
    """The real lookup: system DNS, HTTPS autoconfig, probes on the network; Thunderbird's
    online database only if the person allowed it (setting ``detect_online_lookup``)."""
    try:
        with Store.open() as store:
            online = bool(settings.get(store, "detect_online_lookup"))
    except RelayError:
        online = False  # an unreadable data file must not widen what is sent out
    return partial(detect, timeout=STEP_TIMEOUT, online=online)


def _takes_cancel(detector: Detector) -> bool:
    """True for a detector that can be told to stop (``app.core.setup.detect.detect`` can)."""
    try:
        parameters = inspect.signature(detector).parameters
    except (TypeError, ValueError):
        return False
    return "cancel" in parameters


class DetectWorker(QObject):
    """Runs ``detector(address)`` once; ends with ``found`` or ``failed``."""

    found = Signal(object)  # app.core.setup.detect.Detection
    failed = Signal(object)  # app.core.errors.RelayError

    def __init__(self, detector: Detector, address: str) -> None:
        super().__init__()
        self._detector = detector
        self._address = address
        self.cancel = threading.Event()  # set when the person moves on

    @Slot()
    def run(self) -> None:
        try:
            if _takes_cancel(self._detector):
                detection = self._detector(self._address, cancel=self.cancel)  # type: ignore[call-arg]
            else:
                detection = self._detector(self._address)
        except RelayError as error:
            self.failed.emit(error)
            return
        except Exception as error:  # a bug must end the lookup visibly, not hang the wizard
            self.failed.emit(
                RelayError(
                    f"The lookup stopped on an unexpected error: {type(error).__name__}.",
                    hint="Enter the server settings from your provider by hand.",
                )
            )
            return
        self.found.emit(detection)


class DetectRunner(QObject):
    """Starts lookups on a QThread and relays the current one's answer in the GUI thread."""

    found = Signal(str, object)  # address, Detection
    failed = Signal(str, object)  # address, RelayError

    def __init__(self, detector: Detector, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._detector = detector
        self._thread: QThread | None = None
        self._worker: DetectWorker | None = None
        self._address = ""

    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def address(self) -> str:
        """The address of the running lookup ("" when none runs)."""
        return self._address if self.running else ""

    def start(self, address: str) -> None:
        """Look ``address`` up; a lookup still running for another address is abandoned."""
        self.abandon()
        thread = QThread()  # no parent: its lifetime is managed here, not by a widget
        thread.setObjectName("detect-settings")
        worker = DetectWorker(self._detector, address)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.found.connect(self._on_worker_found)
        worker.failed.connect(self._on_worker_failed)
        worker.found.connect(thread.quit)
        worker.failed.connect(thread.quit)
        self._thread, self._worker, self._address = thread, worker, address
        thread.start()

    def abandon(self) -> None:
        """Stop listening to the running lookup; its thread ends on its own (bounded)."""
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is None or worker is None:
            return
        worker.found.disconnect(self._on_worker_found)
        worker.failed.disconnect(self._on_worker_failed)
        worker.cancel.set()  # the lookup stops at its next check instead of running out its time
        thread.quit()
        if not thread.wait(20):  # an idle thread ends at once; a blocked lookup is parked
            park(thread, worker)

    def _finish(self) -> str | None:
        """Release the finished lookup's thread; its address, or None if it was abandoned."""
        if self.sender() is not self._worker or self._thread is None:
            return None
        thread = self._thread
        self._thread = self._worker = None
        thread.quit()
        thread.wait()  # run() has returned: only the event loop is left to stop
        return self._address

    @Slot(object)
    def _on_worker_found(self, detection: object) -> None:
        address = self._finish()
        if address is not None:
            self.found.emit(address, detection)

    @Slot(object)
    def _on_worker_failed(self, error: object) -> None:
        address = self._finish()
        if address is not None:
            self.failed.emit(address, error)
