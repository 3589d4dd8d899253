"""Accounts → Signature and Reply-To…: what this account adds to every message it sends."""

from __future__ import annotations

from app.core.accounts import identity
from app.core.errors import RelayError
from app.core.store import Store
from app.qt import QtWidgets, Slot
from app.ui.wizard.widgets import MessageLabel

FACE = "gui"


class IdentityDialog(QtWidgets.QDialog):
    """Edits one account's signature and default Reply-To (audited)."""

    def __init__(self, store: Store, account: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("account-identity")
        self._store, self.account = store, account
        self.setWindowTitle(f"Signature and Reply-To of “{account}” — Relaydesk")
        current = identity.get(store, account)
        self.signature = QtWidgets.QPlainTextEdit(current.signature)
        self.signature.setAccessibleName("Signature")
        self.signature.setTabChangesFocus(True)
        self.signature.setPlaceholderText("Ada Lovelace\nAnalytical Engines Ltd")
        self.reply_to = QtWidgets.QLineEdit(current.reply_to)
        self.reply_to.setAccessibleName("Reply-To address")
        self.reply_to.setPlaceholderText("Replies go to the sender's address when empty")
        self.problem = MessageLabel("Problem")
        note = QtWidgets.QLabel(
            "Added to every message this account sends — from this window, the command line "
            "and AI tools."
        )
        note.setWordWrap(True)
        form = QtWidgets.QFormLayout()
        form.addRow("&Signature:", self.signature)
        form.addRow("&Reply-To:", self.reply_to)
        buttons = QtWidgets.QDialogButtonBox()
        save = buttons.addButton("&Save", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        save.setDefault(True)
        buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.on_save_clicked)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    @Slot()
    def on_save_clicked(self) -> None:
        try:
            identity.put(
                self._store,
                self.account,
                signature=self.signature.toPlainText(),
                reply_to=self.reply_to.text().strip(),
            )
        except RelayError as error:
            self.problem.show_problem(error.message, error.hint)
            self.reply_to.setFocus()
            return
        self._store.audit(face=FACE, action="account_identity", outcome="ok", account=self.account)
        self.accept()
