"""Whether the system keyring can store passwords, asked on a worker and remembered.

Asking loads the keyring backends and talks to the Secret Service over D-Bus, which can
take seconds (or pop an unlock prompt), so the window never asks itself: the
application asks once at startup, each window that offers "store in the keyring" asks
again when it opens (the person may have started their keyring since), and both use the
last "yes" meanwhile. Until an answer is known ``usable`` is None.
"""

from __future__ import annotations

from app.qt import QObject, Signal, Slot
from app.workers.base import ABANDON_WAIT_MS, Worker, WorkerPool


class KeyringProbe(Worker):
    """Asks ``secrets.keyring_usable()`` on its own thread."""

    answered = Signal(bool)

    def work(self) -> None:
        from app.core.accounts import secrets  # keyring loads here, not at window startup

        try:
            usable = secrets.keyring_usable()
        except Exception:  # noqa: BLE001 - a backend that fails to load cannot store anything
            usable = False
        self.answered.emit(usable)


class KeyringStatus(QObject):
    """The last answer (``usable``) and ``answered(bool)`` each time a new one arrives."""

    answered = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.usable: bool | None = None
        self._asking = False  # a question is on its way (its thread may outlive the answer)
        self._pool = WorkerPool(self)

    def check(self) -> None:
        """Ask again on a worker, unless a question is already on its way. Meanwhile a "yes"
        stands, but a "no" does not: the person may have started their keyring since."""
        if self.usable is False:
            self.usable = None
        if self._asking:
            return
        self._asking = True
        probe = KeyringProbe()
        probe.answered.connect(self.on_probe_answered)
        probe.done.connect(self.on_probe_done)
        self._pool.start(probe, name="keyring-probe")

    def forget(self) -> None:
        """Drop the answer and any question on its way (the session's keyring changed)."""
        self._pool.shutdown(ABANDON_WAIT_MS)
        self.usable = None
        self._asking = False

    @Slot(bool)
    def on_probe_answered(self, usable: bool) -> None:
        if self._pool.is_current(self.sender()):
            self._asking = False
            self.usable = usable
            self.answered.emit(usable)

    @Slot()
    def on_probe_done(self) -> None:
        probe = self.sender()
        if self._pool.is_current(probe) and isinstance(probe, Worker):
            self._pool.release(probe)


_status: KeyringStatus | None = None


def keyring_status() -> KeyringStatus:
    """The application's one ``KeyringStatus`` (made on first use, in the GUI thread)."""
    global _status
    if _status is None:
        _status = KeyringStatus()
    return _status
