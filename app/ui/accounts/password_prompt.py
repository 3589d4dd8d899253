"""Passwords for "ask each time" accounts: asked in a dialog, kept in memory for this run."""

from __future__ import annotations

from app.core.accounts.model import Account, PasswordMode
from app.qt import QtWidgets


class PasswordCache:
    """Passwords typed this session; never written anywhere."""

    def __init__(self) -> None:
        self._passwords: dict[str, str] = {}

    def get(self, account: str) -> str | None:
        return self._passwords.get(account)

    def put(self, account: str, password: str) -> None:
        self._passwords[account] = password

    def forget(self, account: str) -> None:
        self._passwords.pop(account, None)


class PasswordPrompt(QtWidgets.QDialog):
    """Asks for one account's password."""

    def __init__(self, account: Account, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Password for {account.name} — Relaydesk")
        self.setMinimumWidth(380)
        intro = QtWidgets.QLabel(
            f"Relaydesk asks for the password of <b>{account.username}</b> at "
            f"<b>{account.host}</b> each time. It is kept in memory until you quit."
        )
        intro.setWordWrap(True)
        self.field = QtWidgets.QLineEdit()
        self.field.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("Password")
        label = QtWidgets.QLabel("&Password:")
        label.setBuddy(self.field)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.field)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(buttons)


def password_for(
    account: Account, cache: PasswordCache, parent: QtWidgets.QWidget | None
) -> tuple[bool, str | None]:
    """(go on?, password) — asks only for "ask" accounts without a remembered password."""
    if account.password_mode is not PasswordMode.ASK:
        return True, None  # keyring or none: the worker gets it off the GUI thread
    remembered = cache.get(account.name)
    if remembered is not None:
        return True, remembered
    dialog = PasswordPrompt(account, parent)
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted or not dialog.field.text():
        return False, None
    cache.put(account.name, dialog.field.text())
    return True, dialog.field.text()
