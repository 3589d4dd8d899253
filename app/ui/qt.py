"""The one module that decides how Qt is imported; widgets import Qt from here."""

from PySide6 import QtCore, QtGui, QtNetwork, QtWidgets
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

__all__ = [
    "QObject",
    "QThread",
    "QTimer",
    "Qt",
    "QtCore",
    "QtGui",
    "QtNetwork",
    "QtWidgets",
    "Signal",
    "Slot",
]
