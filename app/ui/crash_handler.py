"""The GUI's final guard: an exception nothing caught becomes a message, not a dead window.

Qt calls ``sys.excepthook`` for an exception that escapes a slot or a virtual
method; Relaydesk writes the redacted report, an audit row, and tells the person
in a dialog (the window keeps running: queued mail stays in the outbox).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

from app.qt import QtCore, QtWidgets

Hook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def install(parent: Callable[[], QtWidgets.QWidget | None] = lambda: None) -> Hook:
    """Make this the process's excepthook; returns the previous one."""
    previous = sys.excepthook
    shown: list[QtWidgets.QMessageBox] = []  # one dialog at a time, kept alive while open

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt | SystemExit):
            previous(kind, error, tb)
            return
        from app.core import crash  # the report writer loads only when there is a crash

        failure = crash.internal_error(error, face="gui", action=None)
        crash.audit_failure(failure, face="gui", action="gui")
        print(f"relaydesk: {failure.message}", file=sys.stderr)
        if shown and shown[0].isVisible():
            return  # a cascade of the same bug: the first dialog already says it
        title = "internal error" if failure.code == "internal_error" else "cannot continue"
        shown[:] = [_dialog(parent(), f"Relaydesk: {title}", failure.message, failure.hint)]
        shown[0].open()

    sys.excepthook = hook
    return previous


def _dialog(
    parent: QtWidgets.QWidget | None, title: str, message: str, hint: str
) -> QtWidgets.QMessageBox:
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(message)
    box.setInformativeText(hint)
    box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Close)
    return box
