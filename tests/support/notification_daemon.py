"""A small desktop notification service for tests (org.freedesktop.Notifications, spec 1.2).

It owns the well-known name on a private test session bus, answers Notify,
GetCapabilities, GetServerInformation and CloseNotification as a real daemon does,
records every notification, and can "click" one (emit ActionInvoked and
NotificationClosed) — what a person's click on a GNOME or KDE bubble sends.
It is not a mock of Relaydesk: the app talks to it over a real D-Bus connection.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jeepney import HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import DBusAddress

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
EMITTER = DBusAddress(PATH, interface=NAME)


@dataclass
class Notification:
    id: int
    app_name: str
    icon: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, Any]
    timeout: int
    signature: str  # as sent: a daemon rejects anything but "susssasa{sv}i"


@dataclass
class NotificationDaemon:
    address: str
    log: Path | None = None  # each notification as one JSON line, for the test to read
    received: list[Notification] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _outgoing: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="notification-daemon")
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the test notification daemon did not start")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def click(self, notification_id: int, action: str = "default") -> None:
        """What the desktop sends when the person clicks the bubble."""
        with self._lock:
            self._outgoing += [
                new_signal(EMITTER, "ActionInvoked", "us", (notification_id, action)),
                new_signal(EMITTER, "NotificationClosed", "uu", (notification_id, 2)),
            ]

    def _serve(self) -> None:
        with open_dbus_connection(self.address) as connection:
            reply = connection.send_and_get_reply(message_bus.RequestName(NAME))
            assert reply.body[0] == 1, reply.body  # primary owner
            self._ready.set()
            while not self._stop.is_set():
                with self._lock:
                    outgoing, self._outgoing = self._outgoing, []
                for message in outgoing:
                    connection.send(message)
                try:
                    message = connection.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if message.header.message_type is MessageType.method_call:
                    connection.send(self._answer(message))

    def _answer(self, message: Any) -> Any:
        fields = message.header.fields
        member = fields.get(HeaderFields.member)
        if fields.get(HeaderFields.interface) not in (NAME, None):
            return new_error(message, "org.freedesktop.DBus.Error.UnknownInterface")
        if member == "GetCapabilities":
            return new_method_return(message, "as", (["body", "actions"],))
        if member == "GetServerInformation":
            return new_method_return(message, "ssss", ("test-daemon", "relaydesk", "1", "1.2"))
        if member == "CloseNotification":
            return new_method_return(message)
        if member == "Notify":
            signature = fields.get(HeaderFields.signature, "")
            if signature != "susssasa{sv}i":
                error = "org.freedesktop.DBus.Error.InvalidArgs"
                return new_error(message, error, "s", (f"wrong signature {signature}",))
            app, replaces, icon, summary, body, actions, hints, timeout = message.body
            number = replaces or len(self.received) + 1
            hint_values = {key: value[1] for key, value in hints.items()}
            shown = Notification(
                number, app, icon, summary, body, list(actions), hint_values, timeout, signature
            )
            self.received.append(shown)
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(asdict(shown)) + "\n")
            return new_method_return(message, "u", (number,))
        return new_error(message, "org.freedesktop.DBus.Error.UnknownMethod")


class RunningDaemon:
    """The daemon in its own process on the given bus; ``received()`` and ``click(id)``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        log.write_text("")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.notification_daemon",
                env["DBUS_SESSION_BUS_ADDRESS"],
                str(log),
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the test notification daemon did not start")

    def received(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Until ``count`` notifications arrived (the caller runs no event loop meanwhile)."""
        deadline = time.monotonic() + timeout
        while len(self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received()

    def click(self, notification_id: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"click {notification_id}\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def main(address: str, log: str) -> None:
    daemon = NotificationDaemon(address, Path(log))
    daemon.start()
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, value = line.strip().partition(" ")
        if command == "click":
            daemon.click(int(value))
    daemon.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
