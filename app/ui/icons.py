"""The app icon and the few other icons the windows use."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from app.core.resources import resource
from app.qt import QtCore, QtGui, QtWidgets

_ICON_NAME = "relaydesk.svg"


def icon_path() -> Path | None:
    """Where the SVG app icon is, if it shipped."""
    path = Path(str(resource("icons", _ICON_NAME)))
    return path if path.is_file() else None


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


# A mid blue reads on light and dark palettes alike (the style's black arrow vanished on dark).
_OUTBOX_BLUE = "#3d8bfd"


def _outbox_pixmap(size: int, colour: QtGui.QColor) -> QtGui.QPixmap:
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtGui.QColor(0, 0, 0, 0))
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.scale(size / 24, size / 24)
    pen = QtGui.QPen(colour, 2.2)
    pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    tray = QtGui.QPainterPath(QtCore.QPointF(3, 13))
    for x, y in ((3, 20.5), (21, 20.5), (21, 13), (16, 13), (14.5, 16), (9.5, 16), (8, 13)):
        tray.lineTo(x, y)
    tray.closeSubpath()
    painter.drawPath(tray)
    painter.drawLine(QtCore.QPointF(12, 11.5), QtCore.QPointF(12, 2.5))
    painter.drawPolyline([QtCore.QPointF(8, 6.5), QtCore.QPointF(12, 2.5), QtCore.QPointF(16, 6.5)])
    painter.end()
    return pixmap


@cache
def outbox_icon() -> QtGui.QIcon:
    """An outbox (a tray with an arrow leaving it), drawn at every size the sidebar may ask.

    Selected, it is drawn in the selection's text colour: blue on a blue highlight vanished.
    """
    icon = QtGui.QIcon()
    palette = QtWidgets.QApplication.palette()
    selected = palette.color(QtGui.QPalette.ColorRole.HighlightedText)
    for size in (16, 22, 24, 32, 44, 48, 64):
        icon.addPixmap(_outbox_pixmap(size, QtGui.QColor(_OUTBOX_BLUE)))
        icon.addPixmap(_outbox_pixmap(size, selected), QtGui.QIcon.Mode.Selected)
    return icon


def standard(name: str) -> QtGui.QIcon:
    """A theme icon, falling back to the style's built-in one (or one drawn here)."""
    if name == "mail-send":
        return QtGui.QIcon.fromTheme(name, outbox_icon())
    fallbacks = {
        "mail-message-new": QtWidgets.QStyle.StandardPixmap.SP_FileIcon,
        "document-open-recent": QtWidgets.QStyle.StandardPixmap.SP_FileDialogDetailedView,
        "system-users": QtWidgets.QStyle.StandardPixmap.SP_DirHomeIcon,
        "mail-attachment": QtWidgets.QStyle.StandardPixmap.SP_FileLinkIcon,
    }
    style = QtWidgets.QApplication.style()
    fallback = style.standardIcon(fallbacks.get(name, QtWidgets.QStyle.StandardPixmap.SP_FileIcon))
    return QtGui.QIcon.fromTheme(name, fallback)
