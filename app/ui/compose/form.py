"""Compose: From, To/Cc/Bcc checked as you type, Subject, text or HTML, attachments, Send."""

from __future__ import annotations

from app.core import settings
from app.core.accounts import model as accounts
from app.core.delivery import address_book, outbox
from app.core.delivery.message import Draft
from app.core.delivery.outbox import SendResult, State
from app.core.errors import RelayError, UsageError
from app.core.store import Store
from app.core.wording import sent_line
from app.qt import QtGui, QTimer, QtWidgets, Signal, Slot
from app.ui import locale_format
from app.ui.compose.attachments import AttachmentList, accept_file_drags, local_paths, oversize_box
from app.ui.compose.drafts import DraftKeeping
from app.ui.compose.prefill import Prefill
from app.ui.compose.send_bar import SendBar
from app.ui.compose.sending import SendService
from app.ui.compose.writer import BodyEditor
from app.ui.widgets import AddressField
from app.workers.send_worker import SendWorker

AUTOSAVE_MS = 1500  # a pause in typing this long saves the draft


class ComposeForm(DraftKeeping, QtWidgets.QWidget):
    """One message being written and sent; the result is shown inline, never in a modal."""

    finished = Signal(object)  # SendResult once the send attempt ended
    account_missing = Signal()

    def __init__(
        self, store: Store, service: SendService, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store, self._service = store, service
        self._sender: SendWorker | None = None
        self._replaces: int | None = None  # outbox item this draft supersedes once queued
        self._oversize_ok = False
        self._draft_id: int | None = None  # the row this form saves itself to
        self._signature = ""  # the signature block the text ends with, as inserted
        self._closed_down = False
        self.setAcceptDrops(True)
        self.setMinimumSize(480, 420)
        self._build()
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_draft)
        for edit in (self.to.edit, self.cc.edit, self.bcc.edit, self.subject):
            edit.textEdited.connect(self._autosave.start)
        self.body.editor.textChanged.connect(self.on_body_text_changed)
        self.reload_accounts()
        self.reload_completions()
        self._update_send_state()

    # -- layout ----------------------------------------------------------------
    def _build(self) -> None:
        self.account = QtWidgets.QComboBox()
        self.account.setAccessibleName("From account")
        self.add_account = QtWidgets.QPushButton("Add account…")
        self.add_account.clicked.connect(self.account_missing)
        self.to, self.cc, self.bcc = AddressField("To"), AddressField("Cc"), AddressField("Bcc")
        self.subject = QtWidgets.QLineEdit()
        self.subject.setAccessibleName("Subject")
        self.body = BodyEditor()
        self.attachments = AttachmentList()
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        from_row = QtWidgets.QHBoxLayout()
        from_row.addWidget(self.account, 1)
        from_row.addWidget(self.add_account)
        rows: tuple[tuple[str, QtWidgets.QWidget, QtWidgets.QWidget | QtWidgets.QLayout], ...]
        rows = (
            ("Fro&m:", self.account, from_row),
            ("&To:", self.to.edit, self.to),
            ("&Cc:", self.cc.edit, self.cc),
            ("&Bcc:", self.bcc.edit, self.bcc),
            ("S&ubject:", self.subject, self.subject),
        )
        for text, buddy, row in rows:
            label = QtWidgets.QLabel(text)
            label.setBuddy(buddy)
            form.addRow(label, row)
        self.bar = SendBar()
        self.status, self.progress = self.bar.status, self.bar.progress
        self.send_button, self.cancel_button = self.bar.send_button, self.bar.cancel_button
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.attachments)
        layout.addWidget(self.bar)
        for field in (self.to, self.cc, self.bcc):
            field.validity_changed.connect(self._update_send_state)
            field.edit.textEdited.connect(self.on_address_text_edited)
        self.subject.textEdited.connect(self.on_address_text_edited)
        self.attachments.changed.connect(self._update_send_state)
        self.account.currentIndexChanged.connect(self.on_account_current_index_changed)
        self.send_button.clicked.connect(self.on_send_button_clicked)
        self.cancel_button.clicked.connect(self.on_cancel_button_clicked)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.setContext(QtGui.Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.on_send_button_clicked)
        QtWidgets.QWidget.setTabOrder(self.account, self.to.edit)
        for first, second in (
            (self.to.edit, self.cc.edit),
            (self.cc.edit, self.bcc.edit),
            (self.bcc.edit, self.subject),
            (self.subject, self.body.rich),
            (self.body.rich, self.body.editor),
            (self.body.editor, self.attachments.add_button),
            (self.attachments.add_button, self.send_button),
        ):
            QtWidgets.QWidget.setTabOrder(first, second)

    # -- state -----------------------------------------------------------------
    def reload_accounts(self) -> None:
        current = self.account.currentData()
        self.account.blockSignals(True)
        self.account.clear()
        for account, is_default in accounts.list_accounts(self._store):
            sender = (
                f"{account.from_name} <{account.email}>" if account.from_name else account.email
            )
            self.account.addItem(f"{sender}  ({account.name})", account.name)
            if (current is None and is_default) or account.name == current:
                self.account.setCurrentIndex(self.account.count() - 1)
        self.account.blockSignals(False)
        self.add_account.setVisible(self.account.count() == 0)
        self.on_account_current_index_changed()

    def reload_completions(self) -> None:
        """Offer every address written to before (To, Cc and Bcc) in all three fields."""
        known = address_book.known_addresses(self._store)
        for field in (self.to, self.cc, self.bcc):
            field.completer.set_addresses(known)

    def has_content(self, *, ignore_signature: bool = True) -> bool:
        """True when closing would throw away something the person wrote (an inserted
        signature alone is not something they wrote)."""
        typed = (self.to.text(), self.cc.text(), self.bcc.text(), self.subject.text())
        text, _ = self.body.content()
        wrote = bool(text.strip()) and not (ignore_signature and text == self._signature)
        return any(t.strip() for t in typed) or wrote or bool(self.attachments.attachments())

    @property
    def sending(self) -> bool:
        return self._sender is not None

    def problem(self) -> str:
        """Why Send is disabled (empty when it is enabled)."""
        if self.account.count() == 0:
            return "Add account first: Accounts → Add account…"
        bad = next((f for f in (self.to, self.cc, self.bcc) if f.error is not None), None)
        if bad is not None and bad.error is not None:
            return bad.error.message
        if not (self.to.addresses or self.cc.addresses or self.bcc.addresses):
            return "Add at least one recipient."
        return ""

    def _update_send_state(self) -> None:
        self.bar.set_ready(self.problem(), self.sending)
        self._oversize_ok = False

    def prefill(self, values: Prefill, *, replaces: int | None = None) -> None:
        if values.account is not None:
            index = self.account.findData(values.account)
            if index >= 0:
                self.account.setCurrentIndex(index)
        self.to.set_text(", ".join(values.to))
        self.cc.set_text(", ".join(values.cc))
        self.bcc.set_text(", ".join(values.bcc))
        self.subject.setText(values.subject)
        self.body.set_content(values.text, values.html)
        self.attachments.clear()
        for attachment in values.attachments:
            self.attachments.add_data(attachment)
        self._replaces = replaces
        if values.notice:
            self.status.show_text(values.notice, "warning")

    def clear(self) -> None:
        self.forget_draft()
        self._signature = ""
        self.prefill(Prefill(account=self.account.currentData()))
        self._apply_signature()

    def draft(self) -> Draft:
        text, html = self.body.content()
        return Draft(
            to=self.to.addresses,
            cc=self.cc.addresses,
            bcc=self.bcc.addresses,
            subject=self.subject.text(),
            text=text,
            html=html,
            attachments=self.attachments.attachments(),
        )

    # -- drag and drop -----------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        accept_file_drags(event)

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        accept_file_drags(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802 - Qt override
        problems = self.attachments.add_paths(local_paths(event.mimeData()))
        event.acceptProposedAction()
        if problems:
            self.status.show_text(" ".join(problems), "error")

    # -- slots -----------------------------------------------------------------
    @Slot(str)
    def on_address_text_edited(self, _text: str) -> None:
        if not self.sending:
            self.status.clear_text()  # the last result belongs to the last message

    @Slot()
    def on_account_current_index_changed(self) -> None:
        name = self.account.currentData()
        self.attachments.set_limit(settings.learned_max_size(self._store, name) if name else None)
        self._apply_signature()

    @Slot()
    def on_send_button_clicked(self) -> None:
        if not self.send_button.isEnabled():
            return
        text, _ = self.body.content()
        if self.attachments.over_limit(len(text)) and not self._oversize_ok:
            self._confirm_oversize()
            return
        account = accounts.get_account(self._store, self.account.currentData())
        self.status.show_text("Preparing the message…")
        worker = self._service.prepare_draft(account, self.draft(), self)
        if worker is None:
            self.status.clear_text()
            return
        self._sender = worker
        worker.queued.connect(self.on_sender_queued)
        worker.progress.connect(self.on_sender_progress)
        worker.finished.connect(self.on_sender_finished)
        worker.failed.connect(self.on_sender_failed)
        self._service.start(worker)
        self._set_busy(True)

    def _confirm_oversize(self) -> None:
        box = oversize_box(self, self.attachments)
        box.buttonClicked.connect(self.on_oversize_button_clicked)
        box.open()

    @Slot(QtWidgets.QAbstractButton)
    def on_oversize_button_clicked(self, button: QtWidgets.QAbstractButton) -> None:
        box = self.sender()
        if isinstance(box, QtWidgets.QMessageBox) and button is box.property("send_button"):
            self._oversize_ok = True
            self.on_send_button_clicked()

    @Slot()
    def on_cancel_button_clicked(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            self.cancel_button.setEnabled(False)
            self.status.show_text("Cancelling…")

    @Slot(int)
    def on_sender_queued(self, item_id: int) -> None:
        self.forget_draft()  # the outbox holds it now
        if self._replaces is not None:
            self._discard(self._replaces)
            self._replaces = None
        if self._service.paused:
            self._set_busy(False)
            self.clear()
            self.status.show_text("Queued in the outbox; sending is paused.", "warning")
        else:
            self.status.show_text("Sending…")

    @Slot(int, int)
    def on_sender_progress(self, done: int, total: int) -> None:
        self.bar.show_progress(done, total)

    @Slot(object)
    def on_sender_finished(self, result: SendResult) -> None:
        self._set_busy(False)
        if result.state is State.SENT:
            self.status.show_text(
                sent_line(result.accepted, result.refused, locale_format.now_clock()),
                "ok" if not result.refused else "warning",
            )
            self.clear()
            self.reload_completions()
        elif result.state is State.CANCELLED:
            self._discard(result.item_id)
            self.status.show_text("Sending cancelled; nothing was sent.", "warning")
        elif result.state is State.FAILED:
            self._replaces = result.item_id  # a corrected draft replaces the failed item
            self._show_error(result.error, "Not sent.")
        else:
            self._show_error(result.error, "Not sent yet; it stays in the outbox.")
            self.clear()
        self.finished.emit(result)

    @Slot(object)
    def on_sender_failed(self, error: RelayError) -> None:
        self._set_busy(False)
        self._show_error(error, "Not sent.")

    def _show_error(self, error: RelayError | None, lead: str) -> None:
        detail = f" {error.message} {error.hint}" if error is not None else ""
        self.status.show_text(f"{lead}{detail}", "error")

    def _discard(self, item_id: int) -> None:
        try:
            outbox.discard(self._store, item_id, face="gui")
        except UsageError:
            pass  # it was sent or is sending after all: the outbox view shows it
        self._service.outbox_changed.emit()

    def _set_busy(self, busy: bool) -> None:
        if not busy:
            self._sender = None
        for widget in (self.account, self.to, self.cc, self.bcc, self.subject, self.body):
            widget.setEnabled(not busy)
        self.attachments.setEnabled(not busy)
        self.bar.set_busy(busy)
        self._update_send_state()
