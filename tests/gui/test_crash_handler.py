"""A bug in a slot becomes a dialog, a redacted report and an audit row; the window lives on."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from app.core.store import Store
from app.qt import QtCore, QtWidgets
from app.ui import crash_handler


def test_an_exception_in_a_slot_is_reported_not_fatal(
    qtbot, account, controller, relaydesk_home: Path
) -> None:
    previous = crash_handler.install(lambda: controller.window)
    try:

        def broken_slot() -> None:
            raise RuntimeError("password=hunter2 went wrong")

        QtCore.QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: _box() is not None, timeout=5000)
    finally:
        sys.excepthook = previous
    box = _box()
    assert box is not None and box.windowTitle() == "Relaydesk: internal error"
    assert "internal error (RuntimeError)" in box.text()
    [report] = (relaydesk_home / "state" / "crash-reports").glob("crash-*.txt")
    assert str(report) in box.text()
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert "hunter2" not in report.read_text() and "Face:     gui" in report.read_text()
    with Store.open() as store:
        [row] = [r for r in store.audit_rows() if r["face"] == "gui"]
    assert row["outcome"] == "error" and row["detail"]["error"] == "internal_error"
    box.close()
    assert controller.window.isVisible()


def _box() -> QtWidgets.QMessageBox | None:
    for widget in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(widget, QtWidgets.QMessageBox) and widget.isVisible():
            return widget
    return None
