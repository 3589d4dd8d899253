"""The one module that decides how Qt is imported; widgets import Qt from here."""

from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtNetwork, QtWidgets
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

if TYPE_CHECKING:
    from PySide6 import QtDBus
    from PySide6.QtCore import Qt

__all__ = [
    "QObject",
    "QThread",
    "QTimer",
    "Qt",
    "QtCore",
    "QtDBus",
    "QtGui",
    "QtNetwork",
    "QtWidgets",
    "Signal",
    "Slot",
]


def __getattr__(name: str) -> Any:
    # The first touch of the Qt namespace builds all of its Python enums (about 15 ms), so it
    # is handed out on first use: the window frame is on screen before any page needs it.
    if name == "Qt":
        return QtCore.Qt
    if name == "QtDBus":  # only the notifications need it, after the first paint
        from PySide6 import QtDBus

        return QtDBus
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
