"""The account wizard: address → server → password → live test → save.

The same pages add a new account or edit a stored one (``account=``). When a
new address's domain has no preset, its settings are looked up on a worker
(``detector=``, injectable for tests) while the person is on the server page.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.accounts import changes as account_changes
from app.core.accounts import model as accounts
from app.core.accounts.credentials import FixedToken
from app.core.accounts.model import Account, PasswordMode
from app.core.errors import AccountExists, NoSuchAccount, RelayError
from app.core.setup import choice
from app.core.setup.checks import TestReport
from app.core.setup.detect import Detection
from app.core.setup.fixes import Fix, TrustFix
from app.core.smtp.session import Timeouts
from app.core.store import Store
from app.qt import QtCore, QTimer, QtWidgets, Signal, Slot
from app.ui.accounts.certificate_view import confirm_trust
from app.ui.wizard.model import Choices, Handover
from app.ui.wizard.pages import AddressPage, ServerPage
from app.ui.wizard.password_page import PasswordPage
from app.ui.wizard.test_page import TestPage
from app.workers import account_worker, detect_worker
from app.workers.detect_worker import Detector, DetectRunner

FACE = "gui"
Button = QtWidgets.QWizard.WizardButton
_FIELD_PAGES = (AddressPage, ServerPage, PasswordPage)  # the pages where something is typed
DETECT_PATIENCE_MS = 12_000  # after this the lookup is ignored and the person types


class AccountWizard(QtWidgets.QWizard):
    """Adds one account, or edits ``account``; emits ``account_saved(name)`` once stored."""

    account_saved = Signal(str)

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        *,
        account: Account | None = None,
        known_password: str | None = None,
        detector: Detector | None = None,
        start: Handover | None = None,
    ) -> None:
        super().__init__(parent)
        self.original = account
        self._handover = start  # what the one-page setup passed on, if it handed over
        self.password_changed = False
        self.setWindowTitle(
            f"Edit account “{account.name}” — Relaydesk" if account else "Add account — Relaydesk"
        )
        self.setWizardStyle(QtWidgets.QWizard.WizardStyle.ModernStyle)
        self.setOption(QtWidgets.QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setMinimumSize(620, 560)
        self.test_timeouts: Timeouts | None = None  # None: the core's defaults
        self.pin_sha256: str | None = None  # set only after the user trusts a certificate
        self._pinned_host = ""  # the pin belongs to this host's certificate
        self.detector = DetectRunner(detector or detect_worker.default_detector(), self)
        self._detections: dict[str, Detection | str] = {}  # address → answer or why none
        self._patience = QTimer(self)
        self._patience.setSingleShot(True)
        self._patience.setInterval(DETECT_PATIENCE_MS)
        self.address_page = AddressPage(self)
        self.server_page = ServerPage(self)
        self.password_page = PasswordPage(self)
        self.test_page = TestPage(self)
        for page in (self.address_page, self.server_page, self.password_page, self.test_page):
            self.addPage(page)
        finish = "&Save changes" if account else "&Save account"
        self.setButtonText(QtWidgets.QWizard.WizardButton.FinishButton, finish)
        self.setButtonText(QtWidgets.QWizard.WizardButton.NextButton, "&Next >")
        self.setButtonText(QtWidgets.QWizard.WizardButton.BackButton, "< &Back")
        self.detector.found.connect(self.on_detector_found)
        self.detector.failed.connect(self.on_detector_failed)
        self._patience.timeout.connect(self.on_patience_timeout)
        self.currentIdChanged.connect(self.on_current_id_changed)
        self._saver = account_worker.AccountChanges(self)  # the keyring is written off-thread
        self._saver.succeeded.connect(self.on_saver_succeeded)
        self._saver.failed.connect(self.on_saver_failed)
        self._saved = False
        if account is not None:
            self._prefill(account, known_password)
        elif start is not None:
            self._start_from(start)

    @property
    def editing(self) -> bool:
        return self.original is not None

    def _prefill(self, account: Account, known_password: str | None) -> None:
        self.address_page.prefill(account)
        self.server_page.prefill(account)
        self.server_page.fill_key(self.address_page.preset().id, account.email)
        self.password_page.prefill(account, known_password)
        self.pin_sha256, self._pinned_host = account.pin_sha256, account.host

    def _start_from(self, handover: Handover) -> None:
        """Continue what the one-page setup began: its address, name and provider."""
        self.address_page.email.setText(handover.email)
        self.address_page.from_name.setText(handover.from_name)
        if handover.preset:
            self.address_page.choose_preset(handover.preset, keep=True)

    def go_to_sign_in(self) -> None:
        """After a handover to sign in: on to the sign-in step when the provider is known
        (its server settings are published); the address page stays when it is not, or when
        something there needs the person (a name already taken)."""
        if self._handover is None or self.address_page.preset().is_custom:
            return
        while self.currentPage() in (self.address_page, self.server_page):
            page = self.currentPage()
            if not page.isComplete():
                return  # something to type first (QWizard.next() would not ask)
            self.next()
            if self.currentPage() is page:
                return  # the page refused (and says why)

    # -- what the pages hold (the AccountDraft the pages are given) ----------------

    def choices(self) -> Choices:
        """The address, provider, server and username chosen so far."""
        address, server = self.address_page, self.server_page
        return Choices(
            email=address.email.text().strip(),
            account_name=address.account_name.text().strip(),
            preset=address.preset(),
            host=server.host.text().strip(),
            username=server.username.text().strip(),
            sign_in_wanted=self._handover is not None and self._handover.sign_in,
        )

    def build_account(self) -> Account:
        """The account as entered so far (not yet validated or stored)."""
        address, server, password = self.address_page, self.server_page, self.password_page
        ca_file = server.ca_file.text().strip()
        email, signin = address.email.text().strip(), password.uses_signin()
        login = signin or not password.no_login.isChecked()
        username, mode = choice.login(
            username=server.username.text().strip() if login else None,
            email=email,
            sign_in=signin,
            store_wanted=password.keeps_in_keyring(),
            # The page offers the keyring only when one is usable (and says so otherwise).
            keyring_usable=True,
        )
        preset = address.preset()
        host = server.host.text().strip()
        fields: dict[str, Any] = {
            "name": address.account_name.text().strip(),
            "email": email,
            "host": host,
            "port": server.port.value(),
            "security": server.current_security(),
            "username": username,
            "from_name": address.from_name.text().strip(),
            "password_mode": mode,
            "ca_file": str(Path(ca_file).expanduser()) if ca_file else None,
            "allow_plaintext_auth": server.allow_plaintext.isChecked(),
            "preset": self._found_preset(email) if preset.is_custom else preset.id,
            # A pin is one certificate's fingerprint: it means nothing for another host.
            "pin_sha256": self.pin_sha256 if host == self._pinned_host else None,
        }
        if self.original is not None:  # keep what the wizard does not show (the timeout)
            return replace(self.original, **fields)
        return Account(**fields)

    def _found_preset(self, email: str) -> str | None:
        """The provider a lookup found for ``email`` (the database, an MX host) and filled in:
        the account keeps it, as `account add` does (its advice, limits and diagnoses)."""
        answer = self._detections.get(email)
        if self.editing or not isinstance(answer, Detection) or answer.best is None:
            return None
        if self.server_page.host_typed:
            return None  # the person's own server, not the one found
        found = choice.from_candidate(answer.best, email).preset
        return found.id if found is not None else None

    def password(self) -> str | FixedToken | None:
        """The password (or fresh sign-in) for the test, memory only; None: nothing to give."""
        mode = self.build_account().password_mode
        if mode is PasswordMode.NONE:
            return None
        if mode is PasswordMode.OAUTH2:
            tokens = self.password_page.signin.tokens
            settings = self.password_page.signin_settings()
            if tokens is None or settings is None:
                return None  # keeps its sign-in: the test worker uses the stored tokens
            return FixedToken(tokens.access_token, settings.mechanisms)
        return self.password_page.secret()

    def name_problem(self, name: str) -> tuple[str, str] | None:
        """(message, hint) when ``name`` cannot be used for a new account."""
        if self.editing:
            return None  # the edited account keeps its (read-only) name
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

    def apply_fix(self, fix: Fix) -> None:
        """Put a diagnosis's fix into the pages: other settings, a pin (only with consent), or
        back to the password page to sign in instead."""
        if isinstance(fix, TrustFix) and not confirm_trust(
            self, fix.pin_sha256, fix.certificate.to_dict()
        ):
            return
        try:
            fixed = fix.apply_to(self.build_account())
        except RelayError as error:  # the pages hold something the fix cannot go with
            self.test_page.save_problem.show_problem(error.message, error.hint)
            return
        server = self.server_page
        server.security.setCurrentIndex(server.security.findData(fixed.security.value))
        server.port.setValue(fixed.port)  # after the mode: a mode change resets a default port
        if fixed.pin_sha256:
            self.pin_sha256, self._pinned_host = fixed.pin_sha256, fixed.host
        if fixed.password_mode is PasswordMode.OAUTH2 and not self.password_page.uses_signin():
            self.password_page.use_signin.setChecked(True)  # basic auth is off: sign in
            while self.currentPage() is not self.password_page:
                self.back()

    # -- autodetection ------------------------------------------------------------

    def address_confirmed(self, email: str) -> None:
        """Page 1 was left with ``email``: look its settings up when no preset knows them."""
        # A listed provider is filled in from the presets; anything else (the provider
        # database included, which answers at once) goes through the lookup, which names
        # its source.
        wanted = not self.editing and self.address_page.preset().is_custom
        if not wanted:
            self.detector.abandon()
        elif email not in self._detections and self.detector.address != email:
            self.detector.start(email)
            self._patience.start()

    def show_detection(self, email: str) -> None:
        """Tell the server page what the lookup for ``email`` has found so far."""
        page, domain = self.server_page, email.rpartition("@")[2]
        answer = self._detections.get(email)
        if self.detector.address == email:
            page.show_looking(domain)
        elif isinstance(answer, Detection) and answer.best is not None:
            page.show_detection(answer)
            if answer.best.preset and not page.host_typed:
                self.address_page.choose_preset(answer.best.preset)  # its guidance, its name
                page.fill_key(answer.best.preset, email)
        elif answer is not None:
            page.show_not_found(domain, str(answer))

    def _detected(self, email: str, answer: Detection | str) -> None:
        self._patience.stop()
        self._detections[email] = answer
        if self.currentPage() is self.server_page and self._shown_email() == email:
            self.show_detection(email)

    def _shown_email(self) -> str:
        return self.address_page.email.text().strip()

    @Slot(str, object)
    def on_detector_found(self, email: str, detection: Detection) -> None:
        if detection.best is None:
            self._detected(email, "Nothing was found: " + "; ".join(detection.trail) + ".")
        else:
            self._detected(email, detection)

    @Slot(str, object)
    def on_detector_failed(self, email: str, error: RelayError) -> None:
        self._detected(email, f"{error.message} {error.hint}".strip())

    @Slot()
    def on_patience_timeout(self) -> None:
        email = self.detector.address
        if email:
            self.detector.abandon()
            self._detected(email, "The lookup took too long; the network may be slow or offline.")

    # -- focus --------------------------------------------------------------------

    @Slot(int)
    def on_current_id_changed(self, _page_id: int) -> None:
        # Qt may leave the keyboard focus in a field of the page just hidden: typing a
        # password there would put it, in clear text, into the previous page's Username.
        self.focus_current_page()

    def focus_current_page(self) -> None:
        """Put the cursor in the field the shown page wants typed first."""
        page = self.currentPage()
        field = page.first_field() if isinstance(page, _FIELD_PAGES) else None
        if field is None or not field.isEnabled():
            field = page.nextInFocusChain() if page is not None else None
        if field is not None:
            field.setFocus(QtCore.Qt.FocusReason.TabFocusReason)

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
        """Finish pressed: True once the account is stored. Otherwise storing starts on a
        worker (the keyring may wait for an unlock prompt) and the wizard says it is saving;
        it closes when the account is stored, or stays open with the reason and everything
        typed."""
        if self._saved:
            return True
        if not self._saver.busy:
            self._start_saving(self._save_request())
        return False

    def _save_request(self) -> account_worker.AccountSave:
        account = self.build_account()
        typed = self.password_page.password.text()
        tested = self.test_page.report
        if self.original is None:
            password = typed if account.password_mode is PasswordMode.KEYRING else None
        else:
            keep = account.password_mode is not PasswordMode.KEYRING or not typed
            password = None if keep else typed
        tokens = self.password_page.signin.tokens
        return account_worker.AccountSave(
            account=account,
            original=self.original,
            secret=account_changes.Secrets(password=password),
            oauth2=self.password_page.signin_settings(),
            tokens=tokens if account.password_mode is PasswordMode.OAUTH2 else None,
            detail={"tested": bool(tested and tested.ok)},
        )

    def _start_saving(self, request: account_worker.AccountSave) -> None:
        self._show_saving(True)
        self._saver.start(account_worker.save(request), name=f"save-{request.account.name}")

    def _show_saving(self, saving: bool) -> None:
        """While saving: say so, and let nothing change what is being saved."""
        page = self.test_page
        for widget in (page.retest, page.save_anyway, page.diagnosis):
            widget.setEnabled(not saving)  # a new test or a fix would change what is saved
        finish = "&Save changes" if self.original else "&Save account"
        self.setButtonText(Button.FinishButton, "Saving…" if saving else finish)
        self.button(Button.CancelButton).setEnabled(not saving)
        if not saving:
            shown = self.currentPage()
            if shown is not None:
                shown.completeChanged.emit()  # QWizard enables Back and Finish as it says
            return
        self.button(Button.FinishButton).setEnabled(False)
        self.button(Button.BackButton).setEnabled(False)
        if self.build_account().password_mode is PasswordMode.KEYRING:
            self.test_page.save_problem.show_note(
                "Saving… The password goes into the system keyring: if your desktop asks "
                "you to unlock the keyring, do so."
            )
        else:
            self.test_page.save_problem.show_note("Saving…")

    @Slot(object)
    def on_saver_succeeded(self, stored: Account) -> None:
        self._saved = True
        self.test_page.save_problem.clear_problem()
        if self.original is not None:
            self.password_changed = bool(self.password_page.password.text()) or (
                stored.password_mode is not self.original.password_mode
            )
        self.account_saved.emit(stored.name)
        self.accept()  # QWizard asks the last page again: save() now says it is stored

    @Slot(object)
    def on_saver_failed(self, error: RelayError) -> None:
        """The reason is shown; everything typed is still here."""
        self._show_saving(False)
        if isinstance(error, AccountExists):
            self.test_page.save_problem.clear_problem()
            self._show_on_address_page(error)
        else:
            self.test_page.save_problem.show_problem(error.message, error.hint)

    def _show_on_address_page(self, error: RelayError) -> None:
        while self.currentPage() is not self.address_page:
            self.back()
        self.address_page.show_name_problem(error.message, error.hint)

    # -- closing ------------------------------------------------------------------

    def done(self, result: int) -> None:
        """Stop a running test before the window goes away (never blocks on a socket).

        While the account is being saved the wizard stays open (Esc and the window's close
        button included): closing it would hide whether the account was stored."""
        if self._saver.busy:
            return
        if result != QtWidgets.QDialog.DialogCode.Accepted:
            self.test_page.stop_test()
        super().done(result)  # QWizard validates (and so saves) the last page in here
        if not self.isVisible():
            self._patience.stop()
            self.detector.abandon()
            self.password_page.forget()
