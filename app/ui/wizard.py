"""The account wizard: address → server → password → live test → save."""

from __future__ import annotations

from pathlib import Path

from app.core import accounts, secrets
from app.core.accounts import Account, PasswordMode, Security
from app.core.checks import TestReport
from app.core.errors import AccountExists, NoSuchAccount, RelayError
from app.core.smtp.session import Timeouts
from app.core.store import Store
from app.ui.qt import QtWidgets, Signal
from app.ui.wizard_pages import AddressPage, PasswordPage, ServerPage
from app.ui.wizard_test_page import TestPage

FACE = "gui"


class AccountWizard(QtWidgets.QWizard):
    """Adds one account; emits ``account_saved(name)`` once it is stored."""

    account_saved = Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add account — Relaydesk")
        self.setWizardStyle(QtWidgets.QWizard.WizardStyle.ModernStyle)
        self.setOption(QtWidgets.QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setMinimumSize(620, 560)
        self.test_timeouts: Timeouts | None = None  # None: the core's defaults
        self.pin_sha256: str | None = None  # set only after the user trusts a certificate
        self.address_page = AddressPage()
        self.server_page = ServerPage()
        self.password_page = PasswordPage()
        self.test_page = TestPage()
        for page in (self.address_page, self.server_page, self.password_page, self.test_page):
            self.addPage(page)
        self.setButtonText(QtWidgets.QWizard.WizardButton.FinishButton, "&Save account")
        self.setButtonText(QtWidgets.QWizard.WizardButton.NextButton, "&Next >")
        self.setButtonText(QtWidgets.QWizard.WizardButton.BackButton, "< &Back")

    # -- what the pages hold ------------------------------------------------------

    def build_account(self) -> Account:
        """The account as entered so far (not yet validated or stored)."""
        address, server, password = self.address_page, self.server_page, self.password_page
        ca_file = server.ca_file.text().strip()
        login = not password.no_login.isChecked() and bool(server.username.text().strip())
        if not login:
            mode = PasswordMode.NONE
        elif password.keeps_in_keyring():
            mode = PasswordMode.KEYRING
        else:
            mode = PasswordMode.ASK
        preset = address.preset()
        return Account(
            name=address.account_name.text().strip(),
            email=address.email.text().strip(),
            host=server.host.text().strip(),
            port=server.port.value(),
            security=server.current_security(),
            username=server.username.text().strip() if login else None,
            from_name=address.from_name.text().strip(),
            password_mode=mode,
            ca_file=str(Path(ca_file).expanduser()) if ca_file else None,
            allow_plaintext_auth=server.allow_plaintext.isChecked(),
            preset=None if preset.is_custom else preset.id,
            pin_sha256=self.pin_sha256,
        )

    def password(self) -> str | None:
        """The typed password (memory only), or None for an account without login."""
        if self.build_account().password_mode is PasswordMode.NONE:
            return None
        return self.password_page.password.text()

    def name_problem(self, name: str) -> tuple[str, str] | None:
        """(message, hint) when ``name`` cannot be used for a new account."""
        try:
            Account(name=name, email="x@example.com", host="h", port=1).validate()
            with Store.open() as store:
                accounts.get_account(store, name)
        except NoSuchAccount:
            return None  # the name is free
        except RelayError as error:  # not a usable name, or the data file is unreadable
            return error.message, error.hint
        return (
            f"An account named “{name}” already exists.",
            "Pick another name, or remove the old account first.",
        )

    def apply_fix(self, changes: dict[str, object]) -> None:
        """Put a diagnosis's suggested settings into the server page (a pin only with consent)."""
        server = self.server_page
        if "pin_sha256" in changes:
            pin = str(changes["pin_sha256"])
            answer = QtWidgets.QMessageBox.warning(
                self,
                "Trust this certificate?",
                "Relaydesk will accept this server's certificate even though no trusted "
                "authority vouches for it, and will refuse any other certificate later.\n\n"
                f"SHA-256: {pin}\n\nOnly do this for your own or your company's server, "
                "after comparing the fingerprint with what its administrator gave you.",
                QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
                QtWidgets.QMessageBox.StandardButton.No,
            )
            if answer == QtWidgets.QMessageBox.StandardButton.Yes:
                self.pin_sha256 = pin
            return
        if "security" in changes:
            index = server.security.findData(Security(str(changes["security"])).value)
            server.security.setCurrentIndex(index)
        if "port" in changes:
            server.port.setValue(int(str(changes["port"])))
        if "host" in changes:
            server.host.setText(str(changes["host"]))

    # -- storing ------------------------------------------------------------------

    def record_test(self, report: TestReport) -> None:
        """Audit one finished test (the account may not exist yet)."""
        with Store.open() as store:
            store.audit(
                face=FACE,
                action="account_test",
                outcome="ok" if report.ok else "failed",
                account=report.account.name,
                detail={"error": report.error.code} if report.error else None,
            )

    def save(self) -> bool:
        """Store the account (and its password); False with the reason shown otherwise."""
        account = self.build_account()
        try:
            with Store.open() as store:
                self._store(store, account)
        except AccountExists as error:
            self._show_on_address_page(error)
            return False
        except RelayError as error:
            self.test_page.save_problem.show_problem(error.message, error.hint)
            return False
        self.account_saved.emit(account.name)
        return True

    def _store(self, store: Store, account: Account) -> None:
        accounts.add_account(store, account)
        if account.password_mode is PasswordMode.KEYRING:
            try:
                secrets.store_password(account.name, self.password_page.password.text())
            except BaseException:
                accounts.remove_account(store, account.name)
                raise
        tested = self.test_page.report
        store.audit(
            face=FACE,
            action="account_add",
            outcome="ok",
            account=account.name,
            detail={
                "host": account.host,
                "port": account.port,
                "preset": account.preset,
                "tested": bool(tested and tested.ok),
            },
        )

    def _show_on_address_page(self, error: RelayError) -> None:
        while self.currentPage() is not self.address_page:
            self.back()
        self.address_page.show_name_problem(error.message, error.hint)

    # -- closing ------------------------------------------------------------------

    def done(self, result: int) -> None:
        """Stop a running test before the window goes away (never blocks on a socket)."""
        if result != QtWidgets.QDialog.DialogCode.Accepted:
            self.test_page.stop_test()
        super().done(result)  # QWizard validates (and so saves) the last page in here
        if not self.isVisible():
            self.password_page.password.clear()
