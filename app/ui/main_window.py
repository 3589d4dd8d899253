"""The main window: a sidebar (Compose, History, Outbox, Accounts) and an outbox status bar.

The frame (sidebar, menus, status bar) is cheap and is shown first; the pages pull in the
send path and address checks, so they are added once the window is on screen (issue 9).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.qt import QtCore, QtGui, QTimer, QtWidgets, Signal, Slot
from app.ui.icons import app_icon, standard
from app.ui.widgets import bring_to_front

if TYPE_CHECKING:
    from app.core.paths import Paths
    from app.core.store import Store
    from app.ui.accounts.page import AccountsPage
    from app.ui.compose.form import ComposeForm
    from app.ui.compose.sending import SendService
    from app.ui.history.view import HistoryView
    from app.ui.outbox.view import OutboxView

PAGES = (
    ("Compose", "mail-message-new"),
    ("History", "document-open-recent"),
    ("Outbox", "mail-send"),
    ("Accounts", "system-users"),
)


ACCOUNTS_ROW = 3


class MainWindow(QtWidgets.QMainWindow):
    """The window a person sees; the controller decides what closing it means."""

    close_requested = Signal()
    quit_requested = Signal()
    new_message_requested = Signal()
    quick_send_requested = Signal()
    settings_requested = Signal()
    first_exposed = Signal()  # on screen for the first time: the rest may load now

    # Set by add_pages.
    compose: ComposeForm
    history: HistoryView
    outbox: OutboxView
    accounts: AccountsPage

    def __init__(self) -> None:
        super().__init__()
        self._service: SendService | None = None
        self.paths: Paths | None = None  # set by the controller; None: the default places
        self.setWindowTitle("Relaydesk")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(760, 520)
        self.resize(980, 680)
        self.sidebar = QtWidgets.QListWidget()
        self.sidebar.setAccessibleName("Sections")
        self.sidebar.setIconSize(QtCore.QSize(22, 22))
        self.sidebar.setFixedWidth(150)
        for title, _ in PAGES:
            self.sidebar.addItem(title)  # icons come with the pages: the style's are slow
        self.stack = QtWidgets.QStackedWidget()
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
        self._exposed = False

    def add_pages(self, store: Store, service: SendService) -> None:
        """Build the four pages (once) and start keeping the status bar up to date."""
        from app.ui.accounts.page import AccountsPage
        from app.ui.compose.form import ComposeForm
        from app.ui.history.view import HistoryView
        from app.ui.outbox.view import OutboxView

        self._service = service
        self._store = store
        for row, (_, icon) in enumerate(PAGES):
            self.sidebar.item(row).setIcon(standard(icon))
        self.compose = ComposeForm(store, service)
        self.history = HistoryView(store)
        self.outbox = OutboxView(store)
        self.accounts = AccountsPage(store, service.passwords)
        for page in (self.compose, self.history, self.outbox, self.accounts):
            self.stack.addWidget(page)
        self.stack.setCurrentIndex(self.sidebar.currentRow())  # a click may have come first
        service.outbox_changed.connect(self.on_service_outbox_changed)
        self.outbox.changed.connect(self.on_service_outbox_changed)
        self.accounts.changed.connect(self.on_accounts_changed)
        self.compose.account_missing.connect(self.on_compose_account_missing)
        service.sent.connect(self.on_service_sent)
        self._timer.start()
        self.refresh_status()
        if not self.accounts.has_accounts() and self.sidebar.currentRow() == 0:
            self.show_welcome()  # unless the person already clicked a section

    def show_welcome(self) -> None:
        """No account yet: open on the welcome, its one button ready for Enter."""
        self.sidebar.setCurrentRow(ACCOUNTS_ROW)
        self.accounts.setup_button.setFocus()

    def _menus(self) -> None:
        # setShortcuts, not setShortcut: resolving setShortcut's overloads builds every enum
        # of the Qt namespace (about 15 ms) before the first paint.
        file = self.menuBar().addMenu("&File")
        for text, keys, signal in (
            ("&New message", "Ctrl+N", self.new_message_requested),
            ("&Quick send…", "Ctrl+Shift+N", self.quick_send_requested),
            ("&Settings…", "Ctrl+,", self.settings_requested),
        ):
            action = file.addAction(text)
            action.setShortcuts([QtGui.QKeySequence(keys)])
            action.triggered.connect(signal)
        file.addAction("Mail &merge…").triggered.connect(self.on_merge_triggered)
        file.addSeparator()
        quit_action = file.addAction("&Quit")
        quit_action.setShortcuts([QtGui.QKeySequence("Ctrl+Q")])
        quit_action.triggered.connect(self.quit_requested)
        view = self.menuBar().addMenu("&View")
        for row, (title, _) in enumerate(PAGES):
            action = view.addAction(title)
            action.setShortcuts([QtGui.QKeySequence(f"Ctrl+{row + 1}")])
            action.setData(row)
            action.triggered.connect(self.on_view_action_triggered)
        help_menu = self.menuBar().addMenu("&Help")
        docs = help_menu.addAction("Relaydesk &help (opens the documentation)")
        docs.setShortcuts([QtGui.QKeySequence("F1")])
        docs.triggered.connect(self.on_docs_triggered)
        help_menu.addAction("&Words Relaydesk uses…").triggered.connect(self.on_glossary_triggered)
        help_menu.addAction("Where your &data and logs are…").triggered.connect(
            self.on_places_triggered
        )
        help_menu.addAction("&Report a problem…").triggered.connect(self.on_report_triggered)
        help_menu.addSeparator()
        help_menu.addAction("&About Relaydesk").triggered.connect(self.on_about_triggered)

    def on_merge_triggered(self) -> None:
        """Open the mail merge window (one per main window; shown again if open)."""
        from app.ui.merge.window import MergeWindow

        if getattr(self, "merge_window", None) is None and self._service is not None:
            self.merge_window = MergeWindow(self._store, self._service.passwords)
        if getattr(self, "merge_window", None) is not None:
            bring_to_front(self.merge_window)

    def show_page(self, row: int) -> None:
        """Show one section and put the keyboard focus in it."""
        self.sidebar.setCurrentRow(row)
        page = self.stack.currentWidget()
        if page is not None:  # None only before the pages are added
            page.setFocus()

    @Slot()
    def on_view_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QtGui.QAction):
            self.show_page(int(action.data()))

    @Slot()
    def on_docs_triggered(self) -> None:
        from app.ui.help_menu import DOCS_URL

        self._open_or_show(DOCS_URL)

    @Slot()
    def on_report_triggered(self) -> None:
        from app.ui.help_menu import PROBLEMS_URL

        self._open_or_show(PROBLEMS_URL)

    def _open_or_show(self, url: str) -> None:
        from app.ui.help_menu import open_url

        if not open_url(url):  # no browser here: the address, to open elsewhere
            self.statusBar().showMessage(f"No web browser could be opened. The address: {url}")

    @Slot()
    def on_glossary_triggered(self) -> None:
        from app.ui.help_menu import glossary_dialog

        glossary_dialog(self).open()

    @Slot()
    def on_places_triggered(self) -> None:
        from app.ui.help_menu import PlacesDialog

        self.places = PlacesDialog(self, self.paths)
        self.places.open()

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
        if self._service is None:
            return  # filled in by add_pages
        text = self.outbox.summary()
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
        first = self.compose.account.count() == 0 and self.accounts.has_accounts()
        self.compose.reload_accounts()
        if first:  # the first account is set up: writing a message is the next thing to do
            self.show_page(0)
            self.compose.to.edit.setFocus()

    @Slot()
    def on_compose_account_missing(self) -> None:
        self.show_page(ACCOUNTS_ROW)
        self.accounts.open_wizard()

    def stop_timers(self) -> None:
        self._timer.stop()

    def bring_to_front(self) -> None:
        bring_to_front(self)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        handle = self.windowHandle()
        if not self._exposed and handle is not None:
            handle.installEventFilter(self)  # the platform window says when it is on screen

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt override
        handle = self.windowHandle()
        if (
            watched is handle
            and event.type() == QtCore.QEvent.Type.Expose
            and handle is not None
            and handle.isExposed()
            and not self._exposed
        ):
            self._exposed = True
            handle.removeEventFilter(self)
            # Queued: the window paints in response to this very event, before the slot runs.
            QTimer.singleShot(0, self.first_exposed.emit)
        return super().eventFilter(watched, event)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt override
        # The controller hides the window (close to tray) or quits; Qt must not close it alone.
        event.ignore()
        self.close_requested.emit()
