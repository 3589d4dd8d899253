"""Accounts: list, default, add and edit (the wizard), test, remove (with the keyring entry)."""

from __future__ import annotations

from app.core import account_changes, accounts, settings
from app.core.accounts import Account, PasswordMode
from app.core.checks import TestReport
from app.core.errors import RelayError
from app.core.oauth2 import config as oauth2_config
from app.core.store import Store
from app.ui.password_prompt import PasswordCache, password_for
from app.ui.qt import QtWidgets, Signal, Slot
from app.ui.widgets import StatusLine
from app.workers.test_worker import TestRunner

COLUMNS = ("Name", "Address", "Server", "Security", "Password", "Default")
_PASSWORD = {
    PasswordMode.KEYRING: "keyring",
    PasswordMode.ASK: "ask each time",
    PasswordMode.OAUTH2: "signed in",
    PasswordMode.NONE: "none",
}


class AccountsPage(QtWidgets.QWidget):
    """Every account, with the actions a person needs on them."""

    changed = Signal()

    def __init__(
        self, store: Store, passwords: PasswordCache, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._passwords = passwords
        self._wizard: QtWidgets.QWizard | None = None
        self._names: list[str] = []
        self._signs_in: set[str] = set()
        self.tests = TestRunner(self)
        self.tests.finished.connect(self.on_tests_finished)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Accounts")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in ((0, 90), (1, 250), (2, 170), (3, 80), (4, 110)):
            self.table.setColumnWidth(column, width)
        self.empty = QtWidgets.QLabel(
            "<h3>No account yet</h3><p>Add the SMTP account you send mail with: Relaydesk "
            "recognises common providers and tests the settings before saving.</p>"
        )
        self.empty.setWordWrap(True)
        self.status = StatusLine()
        self.status.setAccessibleName("Account test result")
        self.add = QtWidgets.QPushButton("&Add account…")
        self.edit = QtWidgets.QPushButton("&Edit…")
        self.edit.setToolTip("Change the server, login or password, and test again.")
        self.default = QtWidgets.QPushButton("Make &default")
        self.test = QtWidgets.QPushButton("&Test")
        self.remove = QtWidgets.QPushButton("Remo&ve…")
        self.signin = QtWidgets.QPushButton("Sign &in again…")
        self.signin.setToolTip("Sign in with the provider again (accounts that sign in).")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addStretch()
        for button in (self.signin, self.edit, self.default, self.test, self.remove):
            buttons.addWidget(button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.add.clicked.connect(self.on_add_clicked)
        self.edit.clicked.connect(self.on_edit_clicked)
        self.table.doubleClicked.connect(self.on_edit_clicked)
        self.default.clicked.connect(self.on_default_clicked)
        self.test.clicked.connect(self.on_test_clicked)
        self.remove.clicked.connect(self.on_remove_clicked)
        self.signin.clicked.connect(self.on_signin_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.reload()

    def selected(self) -> str | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self._names[rows.pop()] if len(rows) == 1 else None

    def reload(self) -> None:
        listed = accounts.list_accounts(self._store)
        self._names = [account.name for account, _ in listed]
        self._signs_in = {
            account.name for account, _ in listed if account.password_mode is PasswordMode.OAUTH2
        }
        self.table.setRowCount(len(listed))
        for row, (account, is_default) in enumerate(listed):
            values = (
                account.name,
                f"{account.from_name} <{account.email}>" if account.from_name else account.email,
                f"{account.host}:{account.port}",
                account.security.value.upper() if account.security.value != "none" else "none",
                self._login_words(account),
                "★ default" if is_default else "",
            )
            for column, value in enumerate(values):
                self.table.setItem(row, column, QtWidgets.QTableWidgetItem(value))
        self.empty.setVisible(not listed)
        self.table.setVisible(bool(listed))
        self._update_buttons()
        stale = [name for name in sorted(self._signs_in)
                 if oauth2_config.needs_signin(self._store, name)]  # fmt: skip
        if stale:
            self.status.show_text(
                f"{', '.join(f'“{n}”' for n in stale)} must sign in again before mail can go "
                "out; waiting messages stay in the outbox. Select it and click Sign in again.",
                "error",
            )

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        for button in (self.edit, self.default, self.remove):
            button.setEnabled(chosen)
        self.test.setEnabled(chosen and not self.tests.running)
        name = self.selected()
        self.signin.setVisible(name is not None and name in self._signs_in)

    def open_wizard(self, account: Account | None = None) -> None:
        """The account wizard: a new account, or ``account`` to edit."""
        try:
            from app.ui.wizard import AccountWizard
        except ImportError:
            self.status.show_text("The account wizard is not available in this build.", "error")
            return
        known = self._passwords.get(account.name) if account is not None else None
        wizard = AccountWizard(self, account=account, known_password=known)
        wizard.account_saved.connect(self.on_wizard_account_saved)
        self._wizard = wizard
        wizard.open()

    @property
    def wizard(self) -> QtWidgets.QWizard | None:
        """The wizard opened last (add or edit), if any."""
        return self._wizard

    @Slot()
    def on_add_clicked(self) -> None:
        self.open_wizard()

    @Slot()
    def on_edit_clicked(self) -> None:
        name = self.selected()
        if name is None:
            return
        try:
            account = accounts.get_account(self._store, name)
        except RelayError as error:
            self.status.show_text(f"{error.message} {error.hint}", "error")
            return
        self.open_wizard(account)

    @Slot(str)
    def on_wizard_account_saved(self, name: str) -> None:
        wizard = self.sender()
        if getattr(wizard, "password_changed", False):
            self._passwords.forget(name)  # an ask-each-time password typed earlier is stale
        self.reload()
        self.status.show_text(f"Account “{name}” saved.", "ok")
        self.changed.emit()

    @Slot()
    def on_default_clicked(self) -> None:
        name = self.selected()
        if name:
            accounts.set_default_account(self._store, name)
            self.reload()
            self.changed.emit()

    def _login_words(self, account: Account) -> str:
        """How the account logs in; "sign-in needed" when the provider revoked it."""
        if account.password_mode is PasswordMode.OAUTH2 and oauth2_config.needs_signin(
            self._store, account.name
        ):
            return "sign-in needed"
        return _PASSWORD[account.password_mode]

    @Slot()
    def on_signin_clicked(self) -> None:
        name = self.selected()
        settings = oauth2_config.load(self._store, name) if name else None
        if name is None or settings is None:
            return
        from app.ui.oauth_signin import SignInAgainDialog

        dialog = SignInAgainDialog(name, settings, self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.reload()
            self.status.show_text(f"“{name}” is signed in again; waiting mail goes out now.", "ok")
            self.changed.emit()

    @Slot()
    def on_test_clicked(self) -> None:
        name = self.selected()
        if name is None or self.tests.running:
            return
        try:
            account = accounts.get_account(self._store, name)
            # Only "ask each time" is asked here; the worker reads the keyring or tokens.
            go, password = password_for(account, self._passwords, self)
        except RelayError as error:
            self.status.show_text(f"{error.message} {error.hint}", "error")
            return
        if not go:
            return
        self.status.show_text(f"Testing “{name}” against {account.host}…")
        self.tests.start(account, password)
        self._update_buttons()

    @Slot(object)
    def on_tests_finished(self, report: TestReport) -> None:
        limit = report.facts.get("max_size")
        settings.learn_max_size(self._store, report.account.name, int(limit) if limit else None)
        if report.error is None:
            steps = ", ".join(f"{r.label} ({r.seconds * 1000:.0f} ms)" for r in report.results)
            self.status.show_text(f"“{report.account.name}” works: {steps}.", "ok")
        else:
            self.status.show_text(f"{report.error.message} {report.error.hint}", "error")
        self._update_buttons()
        self.changed.emit()

    @Slot()
    def on_remove_clicked(self) -> None:
        name = self.selected()
        if name is None:
            return
        answer = QtWidgets.QMessageBox.question(
            self,
            "Remove account? — Relaydesk",
            f"Remove the account “{name}” and its stored password? Sent history is kept.",
        )
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            return
        try:
            account_changes.remove_account(self._store, name, face="gui")
        except RelayError as error:
            self.status.show_text(f"{error.message} {error.hint}", "error")
            return
        self._passwords.forget(name)
        self.reload()
        self.status.show_text(f"Account “{name}” removed.", "ok")
        self.changed.emit()

    def shutdown(self) -> None:
        self.tests.shutdown()
