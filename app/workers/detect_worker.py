"""Autodetection of an address's SMTP settings on a background thread.

``DetectWorker`` runs one detector call and speaks only through signals.
``DetectRunner`` lives in the GUI thread, runs lookups on a ``WorkerPool`` where each
replaces the previous one, and passes on only the answer for the address asked last:
a lookup the person has moved on from is abandoned (it ends on its own), never waited for.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from functools import partial
from typing import Protocol, TypeGuard

from app.core import settings
from app.core.errors import RelayError
from app.core.setup.detect import Detection, detect
from app.core.store import Store
from app.qt import QObject, Signal, Slot
from app.workers.base import ABANDON_WAIT_MS, Worker, WorkerPool

Detector = Callable[[str], Detection]


class CancellableDetector(Protocol):
    """A detector that can be told to stop (``app.core.setup.detect.detect`` can)."""

    def __call__(self, address: str, *, cancel: threading.Event) -> Detection: ...


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


def _takes_cancel(detector: Detector) -> TypeGuard[CancellableDetector]:
    """True for a detector that accepts a ``cancel`` event."""
    try:
        parameters = inspect.signature(detector).parameters
    except (TypeError, ValueError):
        return False
    return "cancel" in parameters


class DetectWorker(Worker):
    """Runs ``detector(address)`` once; ends with ``found`` or ``failed``."""

    found = Signal(object)  # app.core.setup.detect.Detection
    failed = Signal(object)  # app.core.errors.RelayError

    def __init__(self, detector: Detector, address: str) -> None:
        super().__init__()
        self._detector = detector
        self.address = address
        self._cancelled = threading.Event()  # set when the person moves on

    def cancel(self) -> None:
        self._cancelled.set()  # the lookup stops at its next check instead of running out

    def work(self) -> None:
        detector = self._detector
        try:
            if _takes_cancel(detector):
                detection = detector(self.address, cancel=self._cancelled)
            else:
                detection = detector(self.address)
        except RelayError as error:
            self.failed.emit(error)
            return
        except Exception as error:  # noqa: BLE001 - a bug must end the lookup visibly, not hang the wizard
            self.failed.emit(
                RelayError(
                    f"The lookup stopped on an unexpected error: {type(error).__name__}.",
                    hint="Enter the server settings from your provider by hand.",
                )
            )
            return
        self.found.emit(detection)


class DetectRunner(QObject):
    """Runs the lookup for the address asked last and passes on its answer."""

    found = Signal(str, object)  # address, Detection
    failed = Signal(str, object)  # address, RelayError

    def __init__(self, detector: Detector, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._detector = detector
        self._lookups = WorkerPool(self)

    @property
    def running(self) -> bool:
        return self._lookups.busy

    @property
    def address(self) -> str:
        """The address of the running lookup ("" when none runs)."""
        workers = self._lookups.workers()
        return workers[0].address if workers and isinstance(workers[0], DetectWorker) else ""

    def start(self, address: str) -> None:
        """Look ``address`` up; a lookup still running for another address is abandoned."""
        worker = DetectWorker(self._detector, address)
        worker.found.connect(self._on_worker_found)
        worker.failed.connect(self._on_worker_failed)
        self._lookups.replace(worker, name="detect-settings")

    def abandon(self) -> None:
        """Stop listening to the running lookup; its thread ends on its own (bounded)."""
        self._lookups.shutdown(ABANDON_WAIT_MS)

    def _answered(self) -> DetectWorker | None:
        """The lookup that just answered, if it is still the one asked for."""
        worker = self.sender()
        if not isinstance(worker, DetectWorker) or not self._lookups.is_current(worker):
            return None
        self._lookups.release(worker)
        return worker

    @Slot(object)
    def _on_worker_found(self, detection: object) -> None:
        worker = self._answered()
        if worker is not None:
            self.found.emit(worker.address, detection)

    @Slot(object)
    def _on_worker_failed(self, error: object) -> None:
        worker = self._answered()
        if worker is not None:
            self.failed.emit(worker.address, error)
