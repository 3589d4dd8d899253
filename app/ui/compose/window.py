"""A compose form in its own window (send again, edit, mailto:); asks before losing a draft."""

from __future__ import annotations

from app.core.delivery.drafts import SavedDraft
from app.core.delivery.outbox import SendResult, State
from app.core.store import Store
from app.qt import Qt, QtGui, QtWidgets, Slot
from app.ui.compose.form import ComposeForm
from app.ui.compose.prefill import Prefill
from app.ui.compose.sending import SendService
from app.ui.icons import app_icon

WANTED_SIZE = (720, 620)
# Left for the desktop's own panels and the window frame on a 1366x768 screen.
FRAME_MARGIN = 48


def confirm_discard(parent: QtWidgets.QWidget, form: ComposeForm) -> bool:
    """True when there is nothing to lose, or the person agrees to throw the draft away."""
    if form.sending or not form.has_content():
        # A message being sent is already safe in the outbox.
        return True
    box = QtWidgets.QMessageBox(
        QtWidgets.QMessageBox.Icon.Question,
        "Discard this message? — Relaydesk",
        "The message has not been sent. Discard it?",
        parent=parent,
    )
    box.setObjectName("discard-message")
    discard = box.addButton("&Discard message", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("&Keep writing", QtWidgets.QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    if box.clickedButton() is not discard:
        return False
    form.forget_draft()  # thrown away on purpose: not offered again at the next start
    return True


class ComposeWindow(QtWidgets.QWidget):
    """A top-level window holding one ComposeForm; it closes once the message is on its way.

    Esc and Ctrl+W close it (asking first when something would be lost).
    """

    def __init__(
        self,
        store: Store,
        service: SendService,
        prefill: Prefill | None = None,
        *,
        replaces: int | None = None,
        restored: SavedDraft | None = None,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setWindowTitle("New message — Relaydesk")
        self.setWindowIcon(app_icon())
        self.form = ComposeForm(store, service, self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.form)
        if restored is not None:
            self.form.restore(restored)
            self.setWindowTitle(f"{restored.subject or 'Unsent message'} (restored) — Relaydesk")
        if prefill is not None:
            self.form.prefill(prefill, replaces=replaces)
            if prefill.subject:
                self.setWindowTitle(f"{prefill.subject} — Relaydesk")
        self.form.finished.connect(self.on_form_finished)
        self._fit_on_screen()
        self._first_focus(prefill if restored is None else Prefill(to=[restored.to]))

    def _fit_on_screen(self) -> None:
        """The wanted size, or less on a small screen, centred in the free area."""
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        width, height = WANTED_SIZE
        if screen is None:
            self.resize(width, height)
            return
        free = screen.availableGeometry()
        width = min(width, free.width() - FRAME_MARGIN)
        height = min(height, free.height() - FRAME_MARGIN)
        self.resize(width, height)
        self.move(
            free.x() + (free.width() - width) // 2,
            free.y() + max(0, (free.height() - height - FRAME_MARGIN) // 2),
        )

    def _first_focus(self, prefill: Prefill | None) -> None:
        """A link that named the recipients leaves the message text to write."""
        if prefill is not None and (prefill.to or prefill.cc or prefill.bcc):
            editor = self.form.body.editor
            editor.moveCursor(QtGui.QTextCursor.MoveOperation.Start)
            self.setFocusProxy(editor)
            editor.setFocus()
        else:
            self.setFocusProxy(self.form.to.edit)
            self.form.to.edit.setFocus()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt override
        # Keys the fields do not use reach the window: Esc and Ctrl+W close it, as in a dialog.
        closing = event.key() == Qt.Key.Key_Escape or event.matches(
            QtGui.QKeySequence.StandardKey.Close
        )
        if closing:
            self.close()
        else:
            super().keyPressEvent(event)

    @Slot(object)
    def on_form_finished(self, result: SendResult) -> None:
        # Sent, or safe in the outbox (which says why it waits): this window's job is done.
        if result.state in (State.SENT, State.RETRYING, State.QUEUED, State.POSSIBLY_SENT):
            self.form.clear()
            self.close()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt override
        if confirm_discard(self, self.form):
            if not self.form.sending:
                self.form.forget_draft()
            event.accept()
        else:
            event.ignore()
