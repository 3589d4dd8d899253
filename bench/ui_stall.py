"""ui_stall: the longest GUI event-loop stall during a 25 MB GUI send and a hanging connect."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import trustme

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery.message import Attachment, Draft
from app.core.paths import Paths
from app.core.smtp.session import SmtpSession
from app.core.store import Store
from app.qt import Qt, QTimer
from app.ui.compose.sending import SendService
from bench.gui import application, wait_until
from tests.support import smtp_servers
from tests.support.fast_server import fast_controller

SIZE = 25 * 1024 * 1024
TICK_MS = 2
TIMEOUT = 60.0  # every wait ends by itself; the hanging connect ends at ~10 s (greeting)


class StallProbe:
    """A 2 ms timer; the longest gap between two of its ticks is the longest stall."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    @contextmanager
    def running(self) -> Iterator[StallProbe]:
        self.gaps.clear()
        self._last = time.perf_counter()
        self._timer.start()
        try:
            yield self
        finally:
            self._timer.stop()

    def summary(self) -> str:
        gaps = sorted(self.gaps) or [0.0]
        worst, p99 = gaps[-1] * 1000, gaps[int(len(gaps) * 0.99)] * 1000
        return f"longest {worst:8.1f} ms  p99 {p99:6.1f} ms  ticks {len(gaps):6}"


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port whose listener never accepts: the kernel connects, nobody greets."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=1)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def send_in_gui(service: SendService, account: Account, draft: Draft) -> str:
    """The real GUI path: SendService starts a SendWorker on a QThread; wait for its outcome."""
    outcome: list[str] = []
    worker = service.prepare_draft(account, draft)
    assert worker is not None
    # These run on the worker's thread; appending to a list is all they do.
    worker.finished.connect(
        lambda result: outcome.append(
            result.state.value + (f": {result.error.message}" if result.error else "")
        )
    )
    worker.failed.connect(lambda error: outcome.append(f"failed: {error.message}"))
    service.start(worker)
    assert wait_until(lambda: bool(outcome) and not service.busy, TIMEOUT), "send did not end"
    return outcome[0]


def send_on_gui_thread(account: Account, data: bytes) -> str:
    """The naive way: SmtpSession called straight from a slot on the GUI thread."""
    outcome: list[str] = []

    def on_timer_timeout() -> None:
        try:
            with SmtpSession(account) as session:
                session.open()
                session.send(account.email, ["b@example.com"], data)
            outcome.append("sent")
        except Exception as error:  # noqa: BLE001 - the peer only reports how it ended
            outcome.append(f"failed: {getattr(error, 'message', error)}")

    QTimer.singleShot(0, on_timer_timeout)
    assert wait_until(lambda: bool(outcome), TIMEOUT), "send did not end"
    return outcome[0]


def _measure(label: str, action: Callable[[], str], lines: list[str]) -> None:
    probe = StallProbe()
    started = time.monotonic()
    with probe.running():
        outcome = action()
    lines.append(
        f"{label:44} {probe.summary()}  {time.monotonic() - started:5.1f} s  ({outcome[:40]})"
    )


def run() -> list[str]:
    application()
    lines = [f"QTimer probe every {TICK_MS} ms on the GUI thread (offscreen); gap between ticks"]
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
        home = Path(tmp)
        attachment = home / "big.bin"
        attachment.write_bytes(os.urandom(SIZE))
        smtp_servers._Controller = fast_controller(("PIPELINING", "CHUNKING"))  # type: ignore[misc]
        server = smtp_servers.start_server(
            mode="plain", users=None, ca=trustme.CA(), tmp_path=home, data_size_limit=None
        )
        paths = Paths(config=home / "config", data=home / "data", state=home / "state")
        store = Store.open(paths)
        service = SendService(store, paths)
        try:
            with silent_server() as silent_port:
                live, silent = _accounts(store, server.port, silent_port)
                draft = Draft(
                    to=("b@example.com",),
                    subject="25 MB",
                    text="see attached",
                    attachments=(Attachment.from_path(attachment),),
                )
                small = Draft(to=("b@example.com",), subject="hello", text="hi")
                data = _message_bytes(attachment)
                _measure("idle event loop (1 s)", lambda: _idle(1.0), lines)
                _measure(
                    "Relaydesk GUI send, 25 MB",
                    lambda: send_in_gui(service, live, draft),
                    lines,
                )
                _measure(
                    "Relaydesk GUI send, server never greets",
                    lambda: send_in_gui(service, silent, small),
                    lines,
                )
                _measure(
                    "peer: SmtpSession in a slot, 25 MB",
                    lambda: send_on_gui_thread(live, data),
                    lines,
                )
                _measure(
                    "peer: SmtpSession in a slot, never greets",
                    lambda: send_on_gui_thread(silent, b"Subject: hi\r\n\r\nhi\r\n"),
                    lines,
                )
            received = [len(m.data) for m in server.messages]
            lines.append(f"server received {len(received)} messages of {received} bytes")
        finally:
            service.shutdown()
            store.close()
            server.stop()
    lines.append("target: Relaydesk longest stall <= 16 ms")
    return lines


def _accounts(store: Store, port: int, silent_port: int) -> tuple[Account, Account]:
    made = []
    for name, account_port in (("live", port), ("silent", silent_port)):
        account = Account(
            name=name,
            email="a@example.com",
            host="127.0.0.1",
            port=account_port,
            security=Security.NONE,
        )
        accounts.add_account(store, account)
        made.append(account)
    return made[0], made[1]


def _message_bytes(attachment: Path) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "25 MB"
    message.set_content("see attached")
    message.add_attachment(
        attachment.read_bytes(), maintype="application", subtype="octet-stream", filename="big.bin"
    )
    return message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _idle(seconds: float) -> str:
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() > end, seconds + 1)
    return "idle"
