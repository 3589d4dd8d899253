"""The system tray icon: Quick send…, Open Relaydesk, Pause sending, Quit; notifications."""

from __future__ import annotations

from app.qt import QObject, QtWidgets, Signal, Slot
from app.ui.icons import app_icon

NO_TRAY_MESSAGE = (
    "No system tray was found: Relaydesk runs as a normal window (closing it quits, "
    "quick send is in the File menu)."
)


def tray_available() -> bool:
    return QtWidgets.QSystemTrayIcon.isSystemTrayAvailable()


class Tray(QObject):
    """The tray icon and its menu, when the desktop has a tray; inert otherwise."""

    quick_send_requested = Signal()
    open_requested = Signal()
    pause_toggled = Signal(bool)
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = tray_available()
        self.icon: QtWidgets.QSystemTrayIcon | None = None
        self.menu = QtWidgets.QMenu()
        self.menu.setTitle("Relaydesk")
        self.quick_action = self.menu.addAction("&Quick send…")
        self.open_action = self.menu.addAction("&Open Relaydesk")
        self.menu.addSeparator()
        self.pause_action = self.menu.addAction("&Pause sending")
        self.pause_action.setCheckable(True)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("&Quit")
        self.quick_action.triggered.connect(self.quick_send_requested)
        self.open_action.triggered.connect(self.open_requested)
        self.pause_action.toggled.connect(self.pause_toggled)
        self.quit_action.triggered.connect(self.quit_requested)
        if self.available:
            self.icon = QtWidgets.QSystemTrayIcon(app_icon(), self)
            self.icon.setToolTip("Relaydesk")
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self.on_icon_activated)
            self.icon.show()

    @Slot(QtWidgets.QSystemTrayIcon.ActivationReason)
    def on_icon_activated(self, reason: QtWidgets.QSystemTrayIcon.ActivationReason) -> None:
        if reason == QtWidgets.QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    def set_paused(self, paused: bool) -> None:
        if self.pause_action.isChecked() != paused:
            self.pause_action.setChecked(paused)

    def notify(self, title: str, text: str, *, problem: bool = False) -> bool:
        """Show a desktop notification; False when there is no tray to show it from."""
        if self.icon is None:
            return False
        kind = (
            QtWidgets.QSystemTrayIcon.MessageIcon.Warning
            if problem
            else QtWidgets.QSystemTrayIcon.MessageIcon.Information
        )
        self.icon.showMessage(title, text, kind, 8000)
        return True

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()
