"""The app icon and the few other icons the windows use."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from app.ui.qt import QtGui, QtWidgets

_ICON_NAME = "relaydesk.svg"


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    return [
        here.parents[2] / "resources" / "icons" / _ICON_NAME,  # source checkout
        here.parents[1] / "resources" / "icons" / _ICON_NAME,  # installed package data
    ]


def icon_path() -> Path | None:
    """Where the SVG app icon is, if it shipped."""
    return next((path for path in _candidates() if path.is_file()), None)


@cache
def app_icon() -> QtGui.QIcon:
    """The Relaydesk icon at every size (SVG, so HiDPI stays sharp)."""
    path = icon_path()
    if path is None:
        return QtGui.QIcon.fromTheme("mail-send")
    icon = QtGui.QIcon()
    for size in (16, 22, 24, 32, 48, 64, 128, 256):
        icon.addFile(str(path), QtGui.QPixmap(size, size).size())
    return icon


def standard(name: str) -> QtGui.QIcon:
    """A theme icon, falling back to the style's built-in one."""
    fallbacks = {
        "mail-message-new": QtWidgets.QStyle.StandardPixmap.SP_FileIcon,
        "document-open-recent": QtWidgets.QStyle.StandardPixmap.SP_FileDialogDetailedView,
        "mail-send": QtWidgets.QStyle.StandardPixmap.SP_ArrowRight,
        "system-users": QtWidgets.QStyle.StandardPixmap.SP_DirHomeIcon,
        "mail-attachment": QtWidgets.QStyle.StandardPixmap.SP_FileLinkIcon,
    }
    style = QtWidgets.QApplication.style()
    fallback = style.standardIcon(fallbacks.get(name, QtWidgets.QStyle.StandardPixmap.SP_FileIcon))
    return QtGui.QIcon.fromTheme(name, fallback)
