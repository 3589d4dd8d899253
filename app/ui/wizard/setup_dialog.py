"""One-page account setup: name, address, password → settings found → live test → done.

Known providers come from the presets; other domains are looked up (MX, autoconfig,
probing) on a worker; the found source is named. The server settings stay folded
away unless the person asks for them, or nothing was found, or the test failed.
Editing an account keeps the step-by-step wizard (app/ui/wizard/window.py).
"""

from __future__ import annotations

from dataclasses import replace

from app.core.accounts import changes as account_changes
from app.core.accounts.model import Account, PasswordMode
from app.core.delivery.addresses import validate_address
from app.core.errors import InvalidAddress, RelayError
from app.core.setup import choice
from app.core.setup.checks import CheckResult, TestReport
from app.core.setup.choice import ServerChoice, SignIn
from app.core.setup.detect import Detection
from app.core.setup.fixes import Fix, SignInFix, TrustFix
from app.core.setup.presets import Preset, preset_for_email
from app.core.store import Store
from app.qt import Qt, QtWidgets, Signal, Slot
from app.ui.accounts.certificate_view import confirm_trust
from app.ui.icons import app_icon
from app.ui.wizard.model import Handover
from app.ui.wizard.setup_widgets import (
    GuidanceLabel,
    ManualSettings,
    ca_path,
    free_account_name,
)
from app.ui.wizard.widgets import DiagnosisPanel, MessageLabel, success_color
from app.workers import account_worker, detect_worker
from app.workers.detect_worker import Detector, DetectRunner
from app.workers.keyring_status import keyring_status
from app.workers.test_worker import TestRunner

_FORM, _LOOKING, _TESTING, _PASSED, _FAILED = "form", "looking", "testing", "passed", "failed"
_SAVING = "saving"
_PRIMARY = {
    _SAVING: "Saving…",
    _FORM: "&Continue",
    _LOOKING: "Finding settings…",
    _TESTING: "Testing…",
    _PASSED: "&Done",
    _FAILED: "&Test again",
}


class SetupDialog(QtWidgets.QDialog):
    """Adds one account on one page; emits ``account_saved(name)`` once stored."""

    account_saved = Signal(str)
    step_by_step_requested = Signal(object)  # a Handover: continue in the assistant

    def __init__(
        self, parent: QtWidgets.QWidget | None = None, *, detector: Detector | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("account-setup")
        self.setWindowTitle("Set up your email account — Relaydesk")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(520)
        self.state = _FORM
        self.pin_sha256: str | None = None
        self.report: TestReport | None = None
        self.preset: Preset | None = None
        self.detector = DetectRunner(detector or detect_worker.default_detector(), self)
        self.tests = TestRunner(self)
        self._saver = account_worker.AccountChanges(self)  # the keyring is written off-thread
        self._saver.succeeded.connect(self.on_saver_succeeded)
        self._saver.failed.connect(self.on_saver_failed)
        self._build()
        self.detector.found.connect(self.on_detector_found)
        self.detector.failed.connect(self.on_detector_failed)
        self.tests.check.connect(self.on_tests_check)
        self.tests.finished.connect(self.on_tests_finished)
        self._set_state(_FORM)

    # -- layout -------------------------------------------------------------------
    def _build(self) -> None:
        intro = QtWidgets.QLabel(
            "Relaydesk finds the settings for your address and checks them. No mail is sent."
        )
        intro.setWordWrap(True)
        self.from_name = QtWidgets.QLineEdit()
        self.from_name.setAccessibleName("Your name")
        self.from_name.setPlaceholderText("Ada Lovelace — shown to the people you write to")
        self.email = QtWidgets.QLineEdit()
        self.email.setAccessibleName("Email address")
        self.email.setPlaceholderText("name@example.com")
        self.email_problem = MessageLabel("Address problem")
        self.password = QtWidgets.QLineEdit()
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.show_password = QtWidgets.QCheckBox("S&how")
        self.show_password.setToolTip("Show the password while typing it")
        password_row = QtWidgets.QHBoxLayout()
        password_row.addWidget(self.password, 1)
        password_row.addWidget(self.show_password)
        self.password_row = QtWidgets.QWidget()
        self.password_row.setLayout(password_row)
        password_row.setContentsMargins(0, 0, 0, 0)
        self.sign_in = self._sign_in_area()
        self.sign_in.hide()
        self.keyring_note = MessageLabel("Keyring status")
        self.source = QtWidgets.QLabel()
        self.source.setAccessibleName("Where the settings came from")
        self.source.setWordWrap(True)
        self.guidance = GuidanceLabel()
        self.manual_toggle = QtWidgets.QPushButton("Configure &manually…")
        self.manual_toggle.setCheckable(True)
        self.manual_toggle.setFlat(True)
        self.manual = ManualSettings()
        self.manual.hide()
        self.status = QtWidgets.QLabel()
        self.status.setAccessibleName("Setup progress")
        self.status.setWordWrap(True)
        self.diagnosis = DiagnosisPanel()
        self.save_problem = MessageLabel("Saving problem")
        self.primary = QtWidgets.QPushButton()
        self.primary.setDefault(True)
        cancel = self.cancel_button = QtWidgets.QPushButton("Cancel")

        self.form = QtWidgets.QFormLayout()
        self.form.addRow("Your &name:", self.from_name)
        self.form.addRow("&Email address:", self.email)
        self.form.addRow("", self.email_problem)
        self.form.addRow("&Password:", self.password_row)
        self.form.addRow("", self.sign_in)
        self.form.addRow("", self.keyring_note)
        for row, field in ((0, self.from_name), (1, self.email), (3, self.password)):
            item = self.form.itemAt(row, QtWidgets.QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if isinstance(label, QtWidgets.QLabel):
                label.setBuddy(field)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.manual_toggle)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.primary)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(self.form)
        layout.addWidget(self.source)
        layout.addWidget(self.guidance)
        layout.addWidget(self.manual)
        layout.addWidget(self.status)
        layout.addWidget(self.diagnosis)
        layout.addWidget(self.save_problem)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.email.textEdited.connect(self.on_email_text_edited)
        self.email.editingFinished.connect(self.on_email_editing_finished)
        self.password.textEdited.connect(self.on_settings_edited)
        self.manual.host.textEdited.connect(self.on_settings_edited)
        self.show_password.toggled.connect(self.on_show_password_toggled)
        self.manual_toggle.toggled.connect(self.on_manual_toggled)
        self.primary.clicked.connect(self.on_primary_clicked)
        cancel.clicked.connect(self.reject)
        self.diagnosis.fix_requested.connect(self.on_fix_requested)
        # Asked on a worker (the keyring may block); until it answers, the keyring is assumed.
        keyring = keyring_status()
        keyring.answered.connect(self.on_keyring_answered)
        keyring.check()
        self.on_keyring_answered(keyring.usable is not False)

    @Slot(bool)
    def on_keyring_answered(self, usable: bool) -> None:
        self._keyring_usable = usable
        if usable:
            self.keyring_note.clear_problem()
        else:
            self.keyring_note.show_problem(
                "No system keyring was found: Relaydesk will ask for the password each time.",
                "To store it, start your desktop's keyring (GNOME Keyring, KWallet).",
            )

    def _sign_in_area(self) -> QtWidgets.QWidget:
        """Where a provider that signs in on its own web page (OAuth2) is signed in to.

        Merge point: the `oauth` branch's SignInPanel (app/ui/wizard/oauth_signin.py) replaces this
        placeholder; it is shown instead of the password row for presets with ``oauth2``.
        Until then it hands over to the step-by-step assistant, which signs in already.
        """
        area = QtWidgets.QWidget()
        area.setObjectName("sign-in-area")
        text = QtWidgets.QLabel(
            "This provider signs you in on its own web page; Relaydesk never sees your "
            "password. The step-by-step assistant does the sign-in."
        )
        text.setWordWrap(True)
        self.sign_in_button = QtWidgets.QPushButton("Sign &in step by step…")
        self.sign_in_button.clicked.connect(self.on_sign_in_button_clicked)
        layout = QtWidgets.QVBoxLayout(area)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(text)
        layout.addWidget(self.sign_in_button, 0, Qt.AlignmentFlag.AlignLeft)
        return area

    @Slot()
    def on_sign_in_button_clicked(self) -> None:
        self._hand_over(self.preset.id if self.preset is not None else None)

    def _hand_over(self, preset_id: str | None) -> None:
        """Continue in the step-by-step assistant, which signs in: what was typed goes along,
        and the sign-in is chosen there already."""
        self.step_by_step_requested.emit(
            Handover(
                email=self.email.text().strip(),
                from_name=self.from_name.text().strip(),
                preset=preset_id,
                sign_in=True,
            )
        )
        self.reject()

    # -- state ----------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.state = state
        busy = state in (_LOOKING, _TESTING, _SAVING)
        self.primary.setText(_PRIMARY[state])
        self.primary.setEnabled(not busy)
        for widget in (self.email, self.password, self.manual, self.from_name):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(state != _SAVING)
        self.manual_toggle.setEnabled(state != _SAVING)

    def _fill_from(self, chosen: ServerChoice) -> None:
        """Put the settings found (a preset or a lookup) into the fields and say where from."""
        self.preset = chosen.preset
        self.manual.fill(chosen.host, chosen.port, chosen.security, chosen.username)
        self.source.setText(chosen.source)
        self.guidance.show_guidance(chosen.note, chosen.links)
        # Merge point with the `oauth` branch: once `_sign_in_area()` is its SignInPanel, the
        # area is shown for SignIn.OFFERED too; until then Gmail and the like keep the
        # password row for their app passwords.
        oauth = chosen.sign_in is SignIn.REQUIRED
        self.password_row.setVisible(not oauth)
        self.sign_in.setVisible(oauth)
        self.adjustSize()

    def build_account(self) -> Account:
        """The account as the page holds it now (validated by the test and by saving)."""
        manual = self.manual
        email = self.email.text().strip()
        username, mode = choice.login(
            username=manual.username.text().strip() or None,
            email=email,
            sign_in=False,  # this page only tests passwords; the assistant signs in
            store_wanted=True,
            keyring_usable=self._keyring_usable,
        )
        with Store.open() as store:
            name = free_account_name(store, email)
        return Account(
            name=name,
            email=email,
            host=manual.host.text().strip(),
            port=manual.port.value(),
            security=manual.current_security(),
            username=username,
            from_name=self.from_name.text().strip(),
            password_mode=mode,
            ca_file=ca_path(manual.ca_file.text()),
            preset=self.preset.id if self.preset is not None else None,
            pin_sha256=self.pin_sha256,
        )

    # -- steps ----------------------------------------------------------------------
    def _check_address(self) -> str | None:
        try:
            email = validate_address(self.email.text())
        except InvalidAddress as error:
            self.email_problem.show_problem(error.message, error.hint)
            self.email.setFocus()
            return None
        self.email.setText(email)
        self.email_problem.clear_problem()
        return email

    def _find_settings(self, email: str) -> None:
        if self.manual_toggle.isChecked() and self.manual.host.text().strip():
            self.source.setText(choice.TYPED_SOURCE)
            self._test()
            return
        preset = preset_for_email(email)
        if preset is not None and not preset.is_custom:
            chosen = choice.from_preset(preset, email)
            self._fill_from(chosen)
            if chosen.username_needed:
                self._ask_username(chosen)
                return
            self._test()
            return
        self.preset = None
        self.source.setText(f"Looking up the settings for {email.rpartition('@')[2]}…")
        self._set_state(_LOOKING)
        self.detector.start(email)

    def _ask_username(self, chosen: ServerChoice) -> None:
        """A provider whose login name cannot be guessed: ask for it before any test."""
        problem = chosen.username_problem("Type it under Username, then press Continue.")
        self.manual_toggle.setChecked(True)
        self.status.setText(f"{problem.message} {problem.hint}")
        self.manual.username.setFocus()

    def _test(self) -> None:
        if not self.sign_in.isHidden():
            self.status.setText("Sign in with your provider first.")
            return
        account = self.build_account()
        self.diagnosis.clear()
        self.status.setStyleSheet("")
        self.status.setText(f"Testing {account.host}: connecting…")
        self._set_state(_TESTING)
        password = self.password.text() if account.username else None
        self.tests.start(account, password)

    # -- slots ----------------------------------------------------------------------
    @Slot()
    def on_primary_clicked(self) -> None:
        if self.state == _PASSED:
            self._save()
            return
        email = self._check_address()
        if email is None:
            return
        if self.state == _FAILED:
            self._test()
        else:
            self._find_settings(email)

    @Slot(str, object)
    def on_detector_found(self, email: str, detection: Detection) -> None:
        best = detection.best
        if best is None:
            self.on_detector_failed(email, RelayError("Nothing was found."))
            return
        chosen = choice.from_candidate(best, email)
        self._fill_from(chosen)
        self.source.setToolTip("\n".join(detection.trail))
        if chosen.guessed:
            self.manual_toggle.setChecked(True)  # a guess is shown, to be checked
        self._test()

    @Slot(str, object)
    def on_detector_failed(self, email: str, error: RelayError) -> None:
        domain = email.rpartition("@")[2]
        self.source.setText(
            f"Relaydesk could not find the settings for {domain}. Enter the server your "
            "provider or company gave you below, then press Continue."
        )
        self.source.setToolTip(error.message)
        self.manual_toggle.setChecked(True)
        if not self.manual.username.text():
            self.manual.username.setText(email)
        self._set_state(_FORM)
        self.manual.host.setFocus()

    @Slot(object)
    def on_tests_check(self, result: CheckResult) -> None:
        if result.ok:
            self.status.setText(f"Testing: {result.label} — done…")

    @Slot(object)
    def on_tests_finished(self, report: TestReport) -> None:
        self.report = report
        if report.ok:
            self.status.setText(
                "It works: you are signed in and your address is accepted as sender."
                if report.account.username
                else "It works: the server accepts mail from your address."
            )
            self.status.setStyleSheet(f"color: {success_color(self)}; font-weight: bold")
            self._set_state(_PASSED)
            self.primary.setFocus()
            return
        self.status.setText("The test did not pass.")
        if report.error is not None:
            self.diagnosis.show_error(report.error)
        if self.diagnosis.fix.isHidden():
            self.manual_toggle.setChecked(True)  # no one-click fix: the settings may be wrong
        self._set_state(_FAILED)
        self.adjustSize()  # the explanation wraps over several lines: make room for it

    @Slot(object)
    def on_fix_requested(self, fix: Fix) -> None:
        if isinstance(fix, SignInFix):  # the assistant signs in; this page cannot
            self._hand_over(fix.preset or (self.preset.id if self.preset is not None else None))
            return
        if isinstance(fix, TrustFix) and not confirm_trust(
            self, fix.pin_sha256, fix.certificate.to_dict()
        ):
            return
        try:
            fixed = fix.apply_to(self.build_account())
        except RelayError as error:  # what is typed cannot go with the fix
            self.save_problem.show_problem(error.message, error.hint)
            return
        self.pin_sha256 = fixed.pin_sha256
        self.manual.security.setCurrentIndex(self.manual.security.findData(fixed.security.value))
        self.manual.port.setValue(fixed.port)  # after the mode: it resets a default port
        self._test()

    @Slot()
    def on_email_editing_finished(self) -> None:
        """Name a known provider (and its advice) as soon as the address is typed."""
        if self.state != _FORM:
            return
        preset = preset_for_email(self.email.text().strip())
        if preset is not None and not preset.is_custom:
            self._fill_from(choice.from_preset(preset, self.email.text().strip()))

    @Slot(str)
    def on_email_text_edited(self, _text: str) -> None:
        self.email_problem.clear_problem()
        self.preset = None
        self.source.clear()
        self.guidance.hide()
        self.password_row.show()
        self.sign_in.hide()
        self.on_settings_edited()

    @Slot()
    def on_settings_edited(self) -> None:
        if self.state in (_PASSED, _FAILED):
            self.pin_sha256 = None if self.manual.host.isModified() else self.pin_sha256
            self._set_state(_FORM)  # what was tested is no longer what is typed

    @Slot(bool)
    def on_manual_toggled(self, shown: bool) -> None:
        self.manual.setVisible(shown)
        self.manual_toggle.setText("Hide server &settings" if shown else "Configure &manually…")
        self.adjustSize()

    @Slot(bool)
    def on_show_password_toggled(self, shown: bool) -> None:
        mode = QtWidgets.QLineEdit.EchoMode
        self.password.setEchoMode(mode.Normal if shown else mode.Password)

    # -- saving and closing -----------------------------------------------------------
    def _save(self) -> None:
        """Store the tested account on a worker: the keyring may wait for an unlock prompt."""
        account = self.report.account if self.report is not None else self.build_account()
        if account.password_mode is PasswordMode.KEYRING and not self._keyring_usable:
            account = replace(account, password_mode=PasswordMode.ASK)  # it answered since
        password = self.password.text() if account.password_mode is PasswordMode.KEYRING else ""
        request = account_worker.AccountSave(
            account=account,
            secret=account_changes.Secrets(password=password or None),
            detail={"tested": True, "setup": "one-page"},
        )
        self.save_problem.clear_problem()
        self.status.setText(
            "Saving… The password goes into the system keyring: if your desktop asks you "
            "to unlock the keyring, do so."
            if password
            else "Saving…"
        )
        self.status.setStyleSheet("")
        self._set_state(_SAVING)
        self.adjustSize()  # the note wraps over two lines: make room for it
        self._saver.start(account_worker.save(request), name=f"save-{account.name}")

    @Slot(object)
    def on_saver_succeeded(self, stored: Account) -> None:
        self.account_saved.emit(stored.name)
        self.accept()

    @Slot(object)
    def on_saver_failed(self, error: RelayError) -> None:
        """The reason is shown; what was typed is still here: Done tries again."""
        self.status.setText("The account was not saved.")
        self.save_problem.show_problem(error.message, error.hint)
        self._set_state(_PASSED)
        self.primary.setFocus()
        self.adjustSize()

    def done(self, result: int) -> None:
        if self._saver.busy:
            return  # closing now would hide whether the account was stored
        self.detector.abandon()
        if self.tests.running:
            self.tests.shutdown(2000)
        self.password.clear()
        super().done(result)
