"""Accounts: list, default, add and edit (the wizard), test, remove (with the keyring entry)."""

from __future__ import annotations

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, PasswordMode
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.errors import RelayError
from app.core.paths import Paths
from app.core.setup import checks
from app.core.setup.checks import TestReport
from app.core.store import Store
from app.qt import Qt, QtWidgets, Signal, Slot
from app.ui.accounts.password_prompt import PasswordCache, password_for
from app.ui.widgets import StatusLine, confirm, row_table
from app.ui.wizard.model import Handover
from app.workers import account_worker
from app.workers.test_worker import TestRunner

# Security is part of Server ("smtp.example.com:587, STARTTLS"): at 800x600 every column shows.
COLUMNS = ("Name", "Address", "Server", "Password", "Default")
_PASSWORD = {
    PasswordMode.KEYRING: "in keyring",
    PasswordMode.ASK: "ask each time",
    PasswordMode.OAUTH2: "signed in",
    PasswordMode.NONE: "no sign-in",
}
_SECURITY = {"starttls": "STARTTLS", "tls": "TLS", "none": "not encrypted"}


def server_text(account: Account) -> str:
    """``smtp.example.com:587, STARTTLS`` (and whether a certificate is pinned)."""
    text = f"{account.host}:{account.port}, {_SECURITY[account.security.value]}"
    if account.pin_sha256:
        text += ", pinned certificate"
    elif account.ca_file:
        text += ", own CA"
    return text


class AccountsPage(QtWidgets.QWidget):
    """Every account, with the actions a person needs on them."""

    changed = Signal()

    def __init__(
        self,
        store: Store,
        passwords: PasswordCache,
        parent: QtWidgets.QWidget | None = None,
        *,
        paths: Paths | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._remover = account_worker.AccountChanges(self, paths=paths)  # keyring: off-thread
        self._remover.succeeded.connect(self.on_remover_succeeded)
        self._remover.failed.connect(self.on_remover_failed)
        self._passwords = passwords
        self._wizard: QtWidgets.QDialog | None = None
        self._names: list[str] = []
        self.certificate_dialog: QtWidgets.QDialog | None = None
        self.identity_dialog: QtWidgets.QDialog | None = None
        self._signs_in: set[str] = set()
        self.tests = TestRunner(self)
        self.tests.finished.connect(self.on_tests_finished)
        self.table = row_table(COLUMNS, "Accounts")
        header = self.table.horizontalHeader()
        fit = QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, fit)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.empty = self._welcome()
        self.status = StatusLine()
        self.status.setAccessibleName("Account test result")
        self.add = QtWidgets.QPushButton("&Add account…")
        self.edit = QtWidgets.QPushButton("&Edit…")
        self.edit.setToolTip("Change the server, login or password, and test again.")
        self.default = QtWidgets.QPushButton("Make &default")
        self.test = QtWidgets.QPushButton("&Test")
        self.identity = QtWidgets.QPushButton("Si&gnature…")
        self.identity.setToolTip("The signature and Reply-To this account adds to messages.")
        self.certificate = QtWidgets.QPushButton("&Certificate…")
        self.certificate.setToolTip("See and remove the certificate this account trusts.")
        self.remove = QtWidgets.QPushButton("Remo&ve…")
        self.signin = QtWidgets.QPushButton("Sign &in again…")
        self.signin.setToolTip("Sign in with the provider again (accounts that sign in).")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addStretch()
        for button in (
            self.signin,
            self.edit,
            self.default,
            self.test,
            self.identity,
            self.certificate,
            self.remove,
        ):
            buttons.addWidget(button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.add.clicked.connect(self.on_add_clicked)
        self.edit.clicked.connect(self.on_edit_clicked)
        self.table.doubleClicked.connect(self.on_edit_clicked)
        self.default.clicked.connect(self.on_default_clicked)
        self.test.clicked.connect(self.on_test_clicked)
        self.remove.clicked.connect(self.on_remove_clicked)
        self.certificate.clicked.connect(self.on_certificate_clicked)
        self.identity.clicked.connect(self.on_identity_clicked)
        self.signin.clicked.connect(self.on_signin_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.reload()

    def _welcome(self) -> QtWidgets.QWidget:
        """What a first launch shows: what Relaydesk does and one thing to do."""
        box = QtWidgets.QWidget()
        box.setObjectName("welcome")
        text = QtWidgets.QLabel(
            "<h2>Welcome to Relaydesk</h2>"
            "<p>Relaydesk sends mail through the email account you already have — Gmail, "
            "Outlook, your company's server. Give it your address and password: it finds "
            "the settings, checks that they work, and you are ready to send.</p>"
        )
        text.setWordWrap(True)
        text.setAccessibleName("Welcome")
        self.setup_button = QtWidgets.QPushButton("&Set up your email account…")
        self.setup_button.setDefault(True)
        self.setup_button.setAutoDefault(True)
        font = self.setup_button.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.setup_button.setFont(font)
        self.setup_button.setMinimumHeight(40)
        self.setup_button.clicked.connect(self.on_add_clicked)
        layout = QtWidgets.QVBoxLayout(box)
        layout.addStretch(1)
        layout.addWidget(text)
        layout.addSpacing(12)
        layout.addWidget(self.setup_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(2)
        return box

    def has_accounts(self) -> bool:
        return bool(self._names)

    def selected(self) -> str | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self._names[rows.pop()] if len(rows) == 1 else None

    def _selected_account(self) -> Account | None:
        """The selected account's settings; None (after saying why) when they cannot be read."""
        name = self.selected()
        if name is None:
            return None
        try:
            return accounts.get_account(self._store, name)
        except RelayError as error:
            self.status.show_text(f"{error.message} {error.hint}", "error")
            return None

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
                server_text(account),
                self._login_words(account),
                "★ default" if is_default else "",
            )
            for column, value in enumerate(values):
                cell = QtWidgets.QTableWidgetItem(value)
                cell.setToolTip(value)
                self.table.setItem(row, column, cell)
        self.empty.setVisible(not listed)
        self.table.setVisible(bool(listed))
        every = (self.add, self.edit, self.default, self.test, self.identity, self.certificate)
        for button in (*every, self.remove):
            button.setVisible(bool(listed))  # the welcome has one button only
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
        for button in (self.edit, self.default, self.identity, self.certificate):
            button.setEnabled(chosen)
        self.remove.setEnabled(chosen and not self._remover.busy)
        self.test.setEnabled(chosen and not self.tests.running)
        name = self.selected()
        self.signin.setVisible(name is not None and name in self._signs_in)

    def open_wizard(self, account: Account | None = None) -> None:
        """A new account: the one-page setup; ``account``: the step-by-step editor."""
        if account is None:
            self.open_setup()
            return
        from app.ui.wizard.window import AccountWizard

        known = self._passwords.get(account.name)
        wizard = AccountWizard(self, account=account, known_password=known)
        wizard.account_saved.connect(self.on_wizard_account_saved)
        self._wizard = wizard
        wizard.open()

    def open_setup(self) -> None:
        """The one-page setup for a new account."""
        from app.ui.wizard.setup_dialog import SetupDialog

        dialog = SetupDialog(self)
        dialog.account_saved.connect(self.on_wizard_account_saved)
        dialog.step_by_step_requested.connect(self.on_setup_step_by_step_requested)
        self._wizard = dialog
        dialog.open()

    @Slot(object)
    def on_setup_step_by_step_requested(self, handover: Handover) -> None:
        """The one-page setup hands over to sign in: the assistant, with what was typed, the
        provider and the sign-in chosen, on its sign-in step when the provider is known."""
        from app.ui.wizard.window import AccountWizard

        wizard = AccountWizard(self, start=handover)
        wizard.account_saved.connect(self.on_wizard_account_saved)
        self._wizard = wizard
        wizard.open()
        wizard.go_to_sign_in()

    @property
    def wizard(self) -> QtWidgets.QDialog | None:
        """The setup or wizard opened last (add or edit), if any."""
        return self._wizard

    @Slot()
    def on_add_clicked(self) -> None:
        self.open_wizard()

    @Slot()
    def on_edit_clicked(self) -> None:
        account = self._selected_account()
        if account is not None:
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
        from app.ui.wizard.oauth_signin import SignInAgainDialog

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
        checks.remember_limits(self._store, report)
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
        if not confirm(
            self,
            "Remove account? — Relaydesk",
            f"Remove the account “{name}” and its stored password? Sent history is kept.",
            "&Remove account",
            name="remove-account",
        ):
            return
        self.status.show_text(f"Removing “{name}” and its stored password…")
        self._remover.start(account_worker.remove(name), name=f"remove-{name}")
        self._update_buttons()

    @Slot(object)
    def on_remover_succeeded(self, result: tuple[Account, bool]) -> None:
        name = result[0].name
        self._passwords.forget(name)
        self.reload()
        self.status.show_text(f"Account “{name}” removed.", "ok")
        self.changed.emit()

    @Slot(object)
    def on_remover_failed(self, error: RelayError) -> None:
        self.reload()
        self.status.show_text(f"{error.message} {error.hint}", "error")

    @Slot()
    def on_certificate_clicked(self) -> None:
        from app.ui.accounts.certificate import CertificateDialog

        account = self._selected_account()
        if account is None:
            return
        dialog = CertificateDialog(self._store, account, self)
        dialog.trust_removed.connect(self.on_certificate_trust_removed)
        self.certificate_dialog = dialog
        dialog.open()

    @Slot()
    def on_identity_clicked(self) -> None:
        from app.ui.accounts.identity_dialog import IdentityDialog

        name = self.selected()
        if name is None:
            return
        dialog = IdentityDialog(self._store, name, self)
        dialog.accepted.connect(self.changed)  # compose shows the new signature
        self.identity_dialog = dialog
        dialog.open()

    @Slot(str)
    def on_certificate_trust_removed(self, name: str) -> None:
        self.reload()
        self.status.show_text(f"“{name}” no longer trusts its own certificate.", "ok")
        self.changed.emit()

    def shutdown(self) -> None:
        self.tests.shutdown()
        self._remover.shutdown(2000)  # a keyring that does not answer never holds up quitting
