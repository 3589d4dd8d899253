"""Quick send: a small always-on-top dialog (account, to, subject, text, attach)."""

from __future__ import annotations

from pathlib import Path

from app.core.accounts import model as accounts
from app.core.delivery.message import Draft
from app.core.delivery.outbox import SendResult, State
from app.core.errors import RelayError
from app.core.store import Store
from app.core.wording import sent_line
from app.qt import Qt, QtGui, QtWidgets, Slot
from app.ui import locale_format
from app.ui.compose.attachments import AttachmentList, accept_file_drags, local_paths
from app.ui.compose.send_bar import SendBar
from app.ui.compose.sending import SendService
from app.ui.icons import app_icon
from app.ui.widgets import AddressField
from app.workers.send_worker import SendWorker


class QuickSendDialog(QtWidgets.QDialog):
    """Sends through the same path as Compose; stays open to show the result."""

    def __init__(
        self, store: Store, service: SendService, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Dialog | Qt.WindowType.WindowStaysOnTopHint)
        self._store, self._service = store, service
        self._sender: SendWorker | None = None
        self.setWindowTitle("Quick send — Relaydesk")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(420, 360)
        self.setAcceptDrops(True)
        self.account = QtWidgets.QComboBox()
        self.account.setAccessibleName("From account")
        self.to = AddressField("To")
        self.subject = QtWidgets.QLineEdit()
        self.subject.setAccessibleName("Subject")
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setAccessibleName("Message text")
        self.text.setTabChangesFocus(True)
        self.attachments = AttachmentList()
        close = QtWidgets.QPushButton("&Close")
        self.bar = SendBar(extra=(close,))  # the same bar as Compose
        self.status, self.progress = self.bar.status, self.bar.progress
        self.send_button = self.bar.send_button
        form = QtWidgets.QFormLayout()
        for text, field, widget in (
            ("Fro&m:", self.account, self.account),
            ("&To:", self.to.edit, self.to),
            ("S&ubject:", self.subject, self.subject),
        ):
            label = QtWidgets.QLabel(text)
            label.setBuddy(field)
            form.addRow(label, widget)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.attachments)
        layout.addWidget(self.bar)
        self.to.validity_changed.connect(self._update_send_state)
        self.send_button.clicked.connect(self.on_send_button_clicked)
        close.clicked.connect(self.close)
        shortcut = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Return"), self)
        shortcut.activated.connect(self.on_send_button_clicked)
        self.reload_accounts()
        self.setFocusProxy(self.to.edit)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # Typing starts with the recipient: focus on From would send keys to the account list.
        self.to.edit.setFocus()

    def reload_accounts(self) -> None:
        self.account.clear()
        for account, is_default in accounts.list_accounts(self._store):
            self.account.addItem(f"{account.email}  ({account.name})", account.name)
            if is_default:
                self.account.setCurrentIndex(self.account.count() - 1)
        self._update_send_state()

    def _update_send_state(self) -> None:
        reason = ""
        if self.account.count() == 0:
            reason = "Add account in the main window first (Accounts → Add account…)."
        elif self.to.error is not None:
            reason = self.to.error.message
        elif not self.to.addresses:
            reason = "Add at least one recipient."
        self.bar.set_ready(reason, self._sender is not None)

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        accept_file_drags(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 - Qt override
        self.attachments.add_paths(local_paths(event.mimeData()))
        event.acceptProposedAction()

    def attach(self, paths: list[Path]) -> None:
        self.attachments.add_paths(paths)

    @Slot()
    def on_send_button_clicked(self) -> None:
        if not self.send_button.isEnabled():
            return
        account = accounts.get_account(self._store, self.account.currentData())
        draft = Draft(
            to=self.to.addresses,
            subject=self.subject.text(),
            text=self.text.toPlainText(),
            attachments=self.attachments.attachments(),
        )
        worker = self._service.prepare_draft(account, draft, self)
        if worker is None:
            return
        self._sender = worker
        worker.progress.connect(self.on_sender_progress)
        worker.finished.connect(self.on_sender_finished)
        worker.failed.connect(self.on_sender_failed)
        self._service.start(worker)
        self.bar.set_busy(True, cancellable=False)
        self.status.show_text("Sending…")
        self._update_send_state()

    @Slot(int, int)
    def on_sender_progress(self, done: int, total: int) -> None:
        self.bar.show_progress(done, total)

    @Slot(object)
    def on_sender_finished(self, result: SendResult) -> None:
        self._done()
        if result.state is State.SENT:
            self.status.show_text(
                sent_line(result.accepted, result.refused, locale_format.now_clock()),
                "ok" if not result.refused else "warning",
            )
            self.to.set_text("")
            self.subject.clear()
            self.text.clear()
            self.attachments.clear()
        elif result.error is not None:
            kept = " It stays in the outbox." if result.state is not State.FAILED else ""
            self.status.show_text(f"{result.error.message} {result.error.hint}{kept}", "error")

    @Slot(object)
    def on_sender_failed(self, error: RelayError) -> None:
        self._done()
        self.status.show_text(f"{error.message} {error.hint}", "error")

    def _done(self) -> None:
        self._sender = None
        self.bar.set_busy(False)
        self._update_send_state()
