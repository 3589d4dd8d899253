"""startup: process start to the main window's first expose, vs a bare PySide6 QMainWindow."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 7

# Both children print time.monotonic() (system-wide on Linux) at the first Expose event of
# the window they show and quit; the parent subtracts the moment it started the process.
# The spy watches only that window's QWindow. An application-wide Python event filter would
# make PySide wrap every object that receives an event, building its Python type and enums
# on first sight: a cost that grows with the number of widgets and that no real launch pays.
EXPOSE_SPY = """
import os, sys, time
from PySide6 import QtCore, QtGui, QtWidgets

class FirstExpose(QtCore.QObject):
    def eventFilter(self, watched, event):
        if (event.type() == QtCore.QEvent.Type.Expose and watched.isExposed()
                and not hasattr(self, "seen")):
            self.seen = True
            print(f"exposed {time.monotonic()!r} {watched.title()!r}", flush=True)
            QtCore.QTimer.singleShot(0, QtWidgets.QApplication.quit)
        return False

spy = FirstExpose()
show = QtWidgets.QWidget.show
def show_and_watch(widget):
    show(widget)  # the platform window is exposed later, from the event loop
    widget.windowHandle().installEventFilter(spy)
QtWidgets.QWidget.show = show_and_watch
"""
CHILDREN = {
    "bare PySide6 QMainWindow": EXPOSE_SPY
    + """
app = QtWidgets.QApplication(sys.argv[:1])
window = QtWidgets.QMainWindow()
window.setWindowTitle("bare")
window.resize(980, 680)
window.show()
sys.exit(app.exec())
""",
    # The real entry point (`relaydesk` with no command), unchanged.
    "Relaydesk (relaydesk, no command)": EXPOSE_SPY
    + """
from app.cli.main import main
sys.exit(main([]))
""",
}


def launch(code: str, home: Path) -> float:
    """Seconds from starting a child interpreter to its window's first expose."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "RELAYDESK_HOME": str(home)}
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    stamps = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("exposed ")]
    assert stamps, f"no window was shown: {out.stdout} {out.stderr}"
    return float(stamps[0]) - started


def run() -> list[str]:
    lines = [
        f"process start to first expose of the main window; median of {RUNS} runs "
        "(one warm-up each, runs alternate)"
    ]
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
        home = Path(tmp)
        times: dict[str, list[float]] = {label: [] for label in CHILDREN}
        for code in CHILDREN.values():
            launch(code, home)  # warm-up: page cache, and the data folder is created once
        for _ in range(RUNS):
            for label, code in CHILDREN.items():
                times[label].append(launch(code, home))
    medians = {label: statistics.median(values) for label, values in times.items()}
    bare = medians["bare PySide6 QMainWindow"]
    for label, median in medians.items():
        spread = f"{min(times[label]) * 1000:.0f}-{max(times[label]) * 1000:.0f}"
        lines.append(
            f"{label:36} {median * 1000:6.0f} ms  (range {spread} ms)  {median / bare:5.2f}x"
        )
    lines.append("target: Relaydesk <= 1.3x the bare QMainWindow")
    return lines
