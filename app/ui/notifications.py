"""Desktop notifications through org.freedesktop.Notifications (D-Bus), tray or not.

Stock GNOME has no tray, but every desktop runs a notification service on the
session bus. The Notify call goes out on a worker thread through jeepney, which
writes the exact D-Bus signature the specification asks for (``replaces_id`` is a
UINT32, which QtDBus cannot produce from Python); the click on a notification
(``ActionInvoked``) is received with QtDBus in the GUI thread's event loop.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast

from app.qt import QObject, QtCore, Signal, Slot
from app.workers.base import Worker, WorkerPool

if TYPE_CHECKING:
    from app.qt import QtDBus

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
APP_ID = "io.github.relaydesk.Relaydesk"  # the desktop entry and icon name
CALL_TIMEOUT = 3.0  # seconds: a hung notification service must not keep a thread
_connections = itertools.count(1)

# The Notify call's arguments, signature "susssasa{sv}i": app name, replaces id, icon,
# title, text, actions, hints (name → (D-Bus type, value)), expiry.
Hints: TypeAlias = dict[str, tuple[str, int | str]]
Request: TypeAlias = tuple[str, int, str, str, str, list[str], Hints, int]


class _SlotConnect(Protocol):
    """QDBusConnection.connect as the binding really takes it: PySide6's stub types the
    slot as bytes, but only the str that ``QtCore.SLOT`` returns is accepted."""

    def connect(
        self, service: str, path: str, interface: str, name: str, receiver: QObject, slot: str, /
    ) -> bool: ...


def session_bus_address() -> str | None:
    """Where the session bus is: the environment, else the systemd user bus socket."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return f"unix:path={os.path.join(runtime, 'bus')}"
    return None


class NotifyWorker(Worker):
    """Sends one Notify call; reports the id the service gave it, or why it failed."""

    shown = Signal(int, str)  # notification id, target
    failed = Signal(str)

    def __init__(self, address: str, request: Request, target: str) -> None:
        super().__init__()
        self._address, self._request, self._target = address, request, target

    def work(self) -> None:
        from jeepney import DBusAddress, MessageType, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        try:
            with open_dbus_connection(self._address, auth_timeout=CALL_TIMEOUT) as connection:
                call = new_method_call(
                    DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE),
                    "Notify",
                    "susssasa{sv}i",
                    self._request,
                )
                reply = connection.send_and_get_reply(call, timeout=CALL_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as error:
            self.failed.emit(f"The notification service did not answer: {error}")
            return
        if reply.header.message_type is MessageType.error:
            self.failed.emit(f"The notification service refused: {reply.body}")
            return
        self.shown.emit(int(reply.body[0]), self._target)


class DesktopNotifications(QObject):
    """Shows notifications on the desktop; ``clicked(target)`` when one is clicked."""

    clicked = Signal(str)  # the target given to notify(), e.g. "outbox" or "history"
    problem = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from app.qt import QtDBus

        self._address = session_bus_address()
        self._targets: dict[int, str] = {}
        self._pool = WorkerPool(self)
        self._bus: QtDBus.QDBusConnection | None = None
        if self._address:
            name = f"relaydesk-notifications-{next(_connections)}"
            bus = QtDBus.QDBusConnection.connectToBus(self._address, name)
            if bus.isConnected():
                self._bus = bus
                slot = QtCore.SLOT("on_action_invoked(uint,QString)")
                cast(_SlotConnect, bus).connect("", PATH, SERVICE, "ActionInvoked", self, slot)

    @property
    def available(self) -> bool:
        """True when a notification service runs on the session bus now."""
        if self._bus is None:
            return False
        registered = self._bus.interface().isServiceRegistered(SERVICE)
        return bool(registered.isValid() and registered.value())

    def notify(self, title: str, text: str, *, problem: bool = False, target: str = "") -> bool:
        """Send a notification (on a worker); False when no service runs."""
        if self._address is None or not self.available:
            return False
        hints: Hints = {
            "urgency": ("y", 2 if problem else 1),  # critical stays until seen
            "desktop-entry": ("s", APP_ID),
            "category": ("s", "email.arrived" if not problem else "email"),
        }
        actions = ["default", "Open"] if target else []
        request: Request = ("Relaydesk", 0, APP_ID, title, text, actions, hints, -1)
        worker = NotifyWorker(self._address, request, target)
        worker.shown.connect(self.on_worker_shown)
        worker.failed.connect(self.problem)
        self._pool.start(worker, name="notify")
        return True

    @Slot(int, str)
    def on_worker_shown(self, notification_id: int, target: str) -> None:
        if target:
            self._targets[notification_id] = target

    @Slot("uint", str)
    def on_action_invoked(self, notification_id: int, _action: str) -> None:
        # Every application on the bus hears this signal: act only on our own ids.
        target = self._targets.pop(int(notification_id), None)
        if target is not None:
            self.clicked.emit(target)

    def shutdown(self) -> None:
        self._pool.shutdown()  # a Notify call ends within CALL_TIMEOUT
        if self._bus is not None:
            from app.qt import QtDBus

            QtDBus.QDBusConnection.disconnectFromBus(self._bus.name())
            self._bus = None
