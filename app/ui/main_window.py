"""The main window: a sidebar (Compose, History, Outbox, Accounts) and an outbox status bar."""

from __future__ import annotations

from app.core import outbox
from app.core.outbox import State
from app.core.store import Store
from app.ui.accounts_page import AccountsPage
from app.ui.compose import ComposeForm
from app.ui.history_view import HistoryView
from app.ui.icons import app_icon, standard
from app.ui.outbox_view import OutboxView
from app.ui.qt import QtGui, QTimer, QtWidgets, Signal, Slot
from app.ui.sending import SendService
from app.ui.widgets import bring_to_front

PAGES = (
    ("Compose", "mail-message-new"),
    ("History", "document-open-recent"),
    ("Outbox", "mail-send"),
    ("Accounts", "system-users"),
)
_ORDER = (State.QUEUED, State.SENDING, State.RETRYING, State.FAILED, State.POSSIBLY_SENT)


def outbox_summary(counts: dict[State, int]) -> str:
    """ "2 queued, 1 retrying" — or "Outbox empty"."""
    parts = [f"{counts[s]} {s.value.replace('_', ' ')}" for s in _ORDER if counts.get(s)]
    return ", ".join(parts) if parts else "Outbox empty"


class MainWindow(QtWidgets.QMainWindow):
    """The window a person sees; the controller decides what closing it means."""

    close_requested = Signal()
    quit_requested = Signal()
    new_message_requested = Signal()
    quick_send_requested = Signal()
    settings_requested = Signal()

    def __init__(self, store: Store, service: SendService) -> None:
        super().__init__()
        self._store, self._service = store, service
        self.setWindowTitle("Relaydesk")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(760, 520)
        self.resize(980, 680)
        self.compose = ComposeForm(store, service)
        self.history = HistoryView(store)
        self.outbox = OutboxView(store)
        self.accounts = AccountsPage(store, service.passwords)
        self.sidebar = QtWidgets.QListWidget()
        self.sidebar.setAccessibleName("Sections")
        self.sidebar.setIconSize(QtGui.QPixmap(22, 22).size())
        self.sidebar.setFixedWidth(150)
        self.stack = QtWidgets.QStackedWidget()
        for (title, icon), page in zip(
            PAGES, (self.compose, self.history, self.outbox, self.accounts), strict=True
        ):
            self.sidebar.addItem(QtWidgets.QListWidgetItem(standard(icon), title))
            self.stack.addWidget(page)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QHBoxLayout(central)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.sidebar.setCurrentRow(0)
        self.outbox_status = QtWidgets.QLabel()
        self.outbox_status.setAccessibleName("Outbox status")
        self.statusBar().addPermanentWidget(self.outbox_status)
        self._menus()
        self._timer = QTimer(self)
        self._timer.setInterval(2000)
        self._timer.timeout.connect(self.refresh_status)
        self._timer.start()
        service.outbox_changed.connect(self.on_service_outbox_changed)
        self.outbox.changed.connect(self.on_service_outbox_changed)
        self.accounts.changed.connect(self.on_accounts_changed)
        self.compose.account_missing.connect(self.on_compose_account_missing)
        service.sent.connect(self.on_service_sent)
        self.refresh_status()

    def _menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        for text, keys, signal in (
            ("&New message", "Ctrl+N", self.new_message_requested),
            ("&Quick send…", "Ctrl+Shift+N", self.quick_send_requested),
            ("&Settings…", "Ctrl+,", self.settings_requested),
        ):
            action = file.addAction(text)
            action.setShortcut(QtGui.QKeySequence(keys))
            action.triggered.connect(signal)
        file.addSeparator()
        quit_action = file.addAction("&Quit")
        quit_action.setShortcut(QtGui.QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.quit_requested)
        view = self.menuBar().addMenu("&View")
        for row, (title, _) in enumerate(PAGES):
            action = view.addAction(title)
            action.setShortcut(QtGui.QKeySequence(f"Ctrl+{row + 1}"))
            action.setData(row)
            action.triggered.connect(self.on_view_action_triggered)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&About Relaydesk").triggered.connect(self.on_about_triggered)

    def show_page(self, row: int) -> None:
        self.sidebar.setCurrentRow(row)
        self.stack.currentWidget().setFocus()

    @Slot()
    def on_view_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QtGui.QAction):
            self.show_page(int(action.data()))

    @Slot()
    def on_about_triggered(self) -> None:
        from app import __version__

        QtWidgets.QMessageBox.about(
            self,
            "About Relaydesk",
            f"<b>Relaydesk {__version__}</b><p>Send mail through your own SMTP account.</p>",
        )

    @Slot()
    def refresh_status(self) -> None:
        text = outbox_summary(outbox.count_by_state(self._store))
        if self._service.paused:
            text += " — sending paused"
        self.outbox_status.setText(text)

    @Slot()
    def on_service_outbox_changed(self) -> None:
        self.refresh_status()
        self.outbox.reload()

    @Slot()
    def on_service_sent(self) -> None:
        self.history.reload()

    @Slot()
    def on_accounts_changed(self) -> None:
        self.compose.reload_accounts()

    @Slot()
    def on_compose_account_missing(self) -> None:
        self.show_page(3)
        self.accounts.open_wizard()

    def stop_timers(self) -> None:
        self._timer.stop()

    def bring_to_front(self) -> None:
        bring_to_front(self)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        # The controller hides the window (close to tray) or quits; Qt must not close it alone.
        event.ignore()
        self.close_requested.emit()
