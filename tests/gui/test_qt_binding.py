"""The Qt binding in use keeps Python's reference counts straight (a long session relies on it)."""

from __future__ import annotations

import sys

from app.qt import QtWidgets


def test_void_qt_calls_do_not_eat_references_to_none(qtbot) -> None:
    # PySide6 6.12.0 dropped a reference to None on every call of a void method; on CPython
    # 3.11 the process then aborts ("none_dealloc") after some thousands of calls, e.g. when
    # the Outbox view fills a table with 10,000 queued messages.
    label = QtWidgets.QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for n in range(2000):
        label.setText(str(n))
    assert sys.getrefcount(None) >= before - 100
