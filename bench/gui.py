"""Qt helpers shared by the GUI benchmarks: one offscreen QApplication, bounded waits."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.qt import QtCore, QtWidgets

# The offscreen platform says this whenever a window fixes its size; it is a limit of the
# platform, not a finding (tests/gui/conftest.py ignores it too).
QUIET = ("This plugin does not support propagateSizeHints()",)


def _on_qt_message(_kind: object, _context: object, text: str) -> None:
    if text not in QUIET:
        print(f"qt: {text}")


def application() -> QtWidgets.QApplication:
    """The process's QApplication (created on first use)."""
    app = QtWidgets.QApplication.instance()
    if not isinstance(app, QtWidgets.QApplication):
        QtCore.qInstallMessageHandler(_on_qt_message)
        app = QtWidgets.QApplication(["relaydesk-bench"])
    return app


def wait_until(done: Callable[[], bool], timeout: float) -> bool:
    """Run the real event loop until ``done()`` (checked every 5 ms) or ``timeout`` seconds."""
    application()
    if done():
        return True
    loop = QtCore.QEventLoop()
    deadline = time.monotonic() + timeout

    def on_timer_timeout() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()

    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(on_timer_timeout)
    timer.start()
    loop.exec()
    timer.stop()
    return done()


def warm_up() -> None:
    """Show and close one small window so the first measured one pays no one-off setup."""
    widget = QtWidgets.QLabel("warm-up")
    widget.show()
    wait_until(lambda: widget.windowHandle() is not None and widget.windowHandle().isExposed(), 5)
    widget.close()
    widget.deleteLater()
    application().processEvents()
