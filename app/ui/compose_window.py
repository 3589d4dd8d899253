"""A compose form in its own window (send again, edit, mailto:); asks before losing a draft."""

from __future__ import annotations

from app.core.store import Store
from app.ui.compose import ComposeForm
from app.ui.icons import app_icon
from app.ui.prefill import Prefill
from app.ui.qt import Qt, QtGui, QtWidgets
from app.ui.sending import SendService


def confirm_discard(parent: QtWidgets.QWidget, form: ComposeForm) -> bool:
    """True when there is nothing to lose, or the person agrees to throw the draft away."""
    if form.sending or not form.has_content():
        # A message being sent is already safe in the outbox.
        return True
    answer = QtWidgets.QMessageBox.question(
        parent,
        "Discard this message? — Relaydesk",
        "The message has not been sent. Discard it?",
        QtWidgets.QMessageBox.StandardButton.Discard | QtWidgets.QMessageBox.StandardButton.Cancel,
        QtWidgets.QMessageBox.StandardButton.Cancel,
    )
    return answer == QtWidgets.QMessageBox.StandardButton.Discard


class ComposeWindow(QtWidgets.QWidget):
    """A top-level window holding one ComposeForm."""

    def __init__(
        self,
        store: Store,
        service: SendService,
        prefill: Prefill | None = None,
        *,
        replaces: int | None = None,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setWindowTitle("New message — Relaydesk")
        self.setWindowIcon(app_icon())
        self.form = ComposeForm(store, service, self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.form)
        if prefill is not None:
            self.form.prefill(prefill, replaces=replaces)
            if prefill.subject:
                self.setWindowTitle(f"{prefill.subject} — Relaydesk")
        self.resize(720, 620)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        if confirm_discard(self, self.form):
            event.accept()
        else:
            event.ignore()
