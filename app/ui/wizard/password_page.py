"""The account wizard's password step: provider guidance, the password, where it is kept."""

from __future__ import annotations

from app.core.accounts.model import Account, PasswordMode
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.accounts.oauth2.config import OAuth2Settings, from_preset
from app.core.setup import choice
from app.core.setup.choice import SignIn
from app.core.store import Store
from app.qt import QtCore, QtGui, QtWidgets, Slot
from app.ui.wizard.model import AccountDraft, Choices
from app.ui.wizard.oauth_signin import SignInPanel, brand
from app.ui.wizard.widgets import MessageLabel, field_label
from app.workers.keyring_status import keyring_status

_AUTH_BUTTON_TEXT = {
    "app_password": "&Create an app password…",
    "api_key": "&Create an API key…",
    "oauth2": "Open the provider's &help page…",
    "password": "Open the provider's &settings page…",
}


class PasswordPage(QtWidgets.QWizardPage):
    """Step 3: provider guidance, password, where it is kept.

    When an account is edited, the stored password may be kept: the field may
    stay empty as long as the account keeps the same place for it (keyring, or
    ask-each-time with a password typed earlier in this session).
    """

    def __init__(self, draft: AccountDraft, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._draft = draft
        self.setTitle("Password")
        self.guidance = QtWidgets.QLabel()
        self.guidance.setWordWrap(True)
        self.guidance.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.guidance.setAccessibleName("Provider guidance")
        self.open_url = QtWidgets.QPushButton()
        # The address itself, to copy when no browser opens (a headless or locked-down box).
        self.url_text = QtWidgets.QLabel()
        self.url_text.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
            | QtCore.Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.url_text.setAccessibleName("Provider page address")
        self.copy_url = QtWidgets.QPushButton("Cop&y address")
        self.url_note = MessageLabel("Browser problem")
        self.no_login = QtWidgets.QCheckBox("This server needs no &sign-in (a local relay)")
        self.password = QtWidgets.QLineEdit()
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.store_keyring = QtWidgets.QRadioButton("&Store in the system keyring")
        self.ask_each_time = QtWidgets.QRadioButton("&Ask each time (kept in memory only)")
        self.keyring_note = MessageLabel("Keyring status")
        self._url = ""
        self._original: Account | None = None  # the account being edited
        self._known_password: str | None = None  # ask-each-time password typed this session
        self._kept: str | None = None  # the kept password, once looked up for the test
        # OAuth2 sign-in instead of a password, for providers that publish it.
        self.use_signin = QtWidgets.QCheckBox()
        self.signin = SignInPanel(self)
        self.signin.busy_changed.connect(self.on_signin_busy_changed)
        self.use_signin.toggled.connect(self.on_use_signin_toggled)
        self._signin_settings: OAuth2Settings | None = None
        self._wish_applied = False  # a handover's "sign in" was applied once

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.guidance)
        url_row = QtWidgets.QHBoxLayout()
        url_row.addWidget(self.open_url)
        url_row.addWidget(self.copy_url)
        url_row.addWidget(self.url_text, 1)
        layout.addLayout(url_row)
        layout.addWidget(self.url_note)
        layout.addWidget(self.use_signin)
        layout.addWidget(self.signin)
        self._password_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self._password_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.no_login)
        form = QtWidgets.QFormLayout()
        form.addRow(field_label("&Password:", self.password), self.password)
        box.addLayout(form)
        box.addWidget(self.store_keyring)
        box.addWidget(self.ask_each_time)
        layout.addWidget(self._password_box)
        layout.addWidget(self.keyring_note)
        layout.addStretch(1)

        self.password.textChanged.connect(self.completeChanged)
        self.no_login.toggled.connect(self.on_no_login_toggled)
        self.store_keyring.toggled.connect(self.on_where_toggled)
        self.open_url.clicked.connect(self.on_open_url_clicked)
        # Whether the keyring can store the password is asked on a worker (it may block).
        self._keyring = keyring_status()
        self._keyring.answered.connect(self.on_keyring_answered)
        self._ask_chosen_for_them = False  # "ask each time" only because no keyring answered
        self.store_keyring.clicked.connect(self.on_where_clicked)
        self.ask_each_time.clicked.connect(self.on_where_clicked)
        self.copy_url.clicked.connect(self.on_copy_url_clicked)

    def first_field(self) -> QtWidgets.QWidget:
        """Where the cursor goes when the page is shown: the sign-in button when signing in."""
        if self.uses_signin() and self.signin.button.isEnabled():
            return self.signin.button
        return self.password if self.password.isEnabled() else self.no_login

    def prefill(self, account: Account, known_password: str | None) -> None:
        """Edit mode: start from the account's choice; an empty field keeps its password."""
        self._original = account
        self._known_password = known_password
        self.no_login.setChecked(account.password_mode is PasswordMode.NONE)
        self.ask_each_time.setChecked(account.password_mode is PasswordMode.ASK)
        self.store_keyring.setChecked(account.password_mode is PasswordMode.KEYRING)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        chosen = self._draft.choices()
        preset, who, host = chosen.preset, chosen.username, chosen.host
        if who:
            self.setSubTitle(f"The password {who} signs in with at {host}.")
        else:
            self.setSubTitle(f"No username was given, so {host} is used without signing in.")
        self._keyring.check()  # answers on a worker; the page shows the last answer meanwhile
        generic = "Enter the password (or app password) you use for this mail account."
        self.guidance.setText(generic if preset.is_custom else (preset.notes or generic))
        self._url = preset.app_password_url or preset.help_url or ""
        self.open_url.setText(_AUTH_BUTTON_TEXT.get(preset.auth, "Open the provider's page…"))
        self.open_url.setToolTip(self._url)
        self.url_text.setText(self._url)
        self.url_note.clear_problem()
        for widget in (self.open_url, self.copy_url, self.url_text):
            widget.setVisible(bool(self._url))
        if not who and preset.oauth2 is None:
            self.no_login.setChecked(True)
        self._apply_keyring_state()
        self.on_no_login_toggled(self.no_login.isChecked())
        self._offer_signin(chosen)

    def _offer_signin(self, chosen: Choices) -> None:
        """Sign-in for providers with OAuth2: the only way (Outlook.com) or an alternative;
        chosen already when the one-page setup handed over to sign in."""
        preset, stored = chosen.preset, self._stored_signin()
        offered = choice.sign_in_for(preset)
        if stored is None and offered is SignIn.NONE:
            self._signin_settings = None
            self.use_signin.setChecked(False)
            self.use_signin.hide()
            self.signin.hide()
            self._show_password_widgets(True)
            return
        settings = stored or from_preset(preset)
        self._signin_settings = settings
        self.signin.configure(chosen.account_name or "new", settings, again=stored is not None)
        self.use_signin.setText(f"Sign in with {brand(settings)} &instead of a password")
        only_signin = offered is SignIn.REQUIRED or (stored is not None and preset.oauth2 is None)
        self.use_signin.setVisible(not only_signin)
        # The handover's wish counts once: unticked later, it stays unticked.
        handed_over = chosen.sign_in_wanted and not self._wish_applied
        self._wish_applied = self._wish_applied or handed_over
        wanted = only_signin or stored is not None or handed_over
        self.use_signin.setChecked(wanted or self.use_signin.isChecked())
        self.on_use_signin_toggled(self.use_signin.isChecked())

    def _stored_signin(self) -> OAuth2Settings | None:
        """The edited account's own sign-in settings (endpoints, client ID), if it signs in."""
        original = self._original
        if original is None or original.password_mode is not PasswordMode.OAUTH2:
            return None
        with Store.open() as store:  # settings only: no keyring on the GUI thread
            return oauth2_config.load(store, original.name)

    def _show_password_widgets(self, visible: bool) -> None:
        self._password_box.setVisible(visible)
        if not visible:
            self.keyring_note.clear_problem()

    def uses_signin(self) -> bool:
        """True when the account will sign in with OAuth2 instead of a password."""
        return self.use_signin.isChecked() and self._signin_settings is not None

    def signin_settings(self) -> OAuth2Settings | None:
        return self.signin.settings() if self.uses_signin() else None

    @Slot(bool)
    def on_signin_busy_changed(self, _busy: bool) -> None:
        self.completeChanged.emit()

    @Slot(bool)
    def on_use_signin_toggled(self, checked: bool) -> None:
        self.signin.setVisible(checked)
        self._show_password_widgets(not checked)
        if checked:
            self.setTitle("Sign in")
            who = self._draft.choices().username
            self.setSubTitle(f"Sign in as {who or 'your address'} with the provider.")
        else:
            self.setTitle("Password")
            self._apply_keyring_state()
        self.completeChanged.emit()

    @Slot(bool)
    def on_keyring_answered(self, _usable: bool) -> None:
        if not self.uses_signin():
            self._apply_keyring_state()
            self.on_no_login_toggled(self.no_login.isChecked())

    def _apply_keyring_state(self) -> None:
        """Offer the keyring as the last answer says; until the first one, offer it and say
        it is being checked (a box with no keyring answers within milliseconds)."""
        usable = self._keyring.usable
        self.store_keyring.setEnabled(usable is not False)
        if usable is not False:
            if usable is None:
                self.keyring_note.show_note("Checking the system keyring…")
            else:
                self.keyring_note.clear_problem()
            if self._ask_chosen_for_them or not self.ask_each_time.isChecked():
                self.store_keyring.setChecked(True)
                self._ask_chosen_for_them = False
            return
        if not self.ask_each_time.isChecked():
            self.ask_each_time.setChecked(True)
            self._ask_chosen_for_them = True
        self.keyring_note.show_problem(
            "No usable system keyring was found, so Relaydesk cannot store the password.",
            "You will be asked for it each time it is needed. To store it, start your "
            "desktop's keyring (GNOME Keyring, KWallet) and add the account again.",
        )

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        if self.uses_signin():
            keeps = (
                self._original is not None
                and self._original.password_mode is PasswordMode.OAUTH2
                and self.signin.settings() == self._signin_settings
            )
            return not self.signin.busy and (self.signin.tokens is not None or keeps)
        return self.no_login.isChecked() or bool(self.password.text()) or self.can_keep()

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        """Edit mode with an empty field: an ask-each-time password typed earlier is reused.

        A password kept in the keyring is not read here: the test worker reads it on
        its own thread (the keyring can block, and never on the GUI thread).
        """
        self._kept = None
        if self.uses_signin() or self.no_login.isChecked() or self.password.text():
            return True
        if self.can_keep() and self.ask_each_time.isChecked():
            self._kept = self._known_password
        return True

    def keeps_in_keyring(self) -> bool:
        return not self.no_login.isChecked() and self.store_keyring.isChecked()

    def can_keep(self) -> bool:
        """True when editing and the stored password can stay as it is."""
        original = self._original
        if original is None or self.no_login.isChecked():
            return False
        if self.store_keyring.isChecked():
            return original.password_mode is PasswordMode.KEYRING
        return original.password_mode is PasswordMode.ASK and bool(self._known_password)

    def secret(self) -> str | None:
        """The password for the test: the typed one, else the kept one (None: the keyring's)."""
        return self.password.text() or self._kept or None

    def forget(self) -> None:
        """Drop every password and token this page holds (the wizard is closing)."""
        self.signin.shutdown()
        self.signin.tokens = None
        self.password.clear()
        self._kept = None
        self._known_password = None

    def _update_placeholder(self) -> None:
        if self.can_keep():
            self.password.setPlaceholderText("Leave empty to keep the current password")
        elif self._original is not None and self.ask_each_time.isChecked():
            self.password.setPlaceholderText("Needed for the test; it is not stored")
        else:
            self.password.setPlaceholderText("")

    @Slot(bool)
    def on_no_login_toggled(self, checked: bool) -> None:
        self.password.setEnabled(not checked)
        self.ask_each_time.setEnabled(not checked)
        self.store_keyring.setEnabled(not checked and self._keyring.usable is not False)
        self._update_placeholder()
        self.completeChanged.emit()

    @Slot(bool)
    def on_where_toggled(self, _checked: bool) -> None:
        self._update_placeholder()
        self.completeChanged.emit()

    @Slot()
    def on_where_clicked(self) -> None:
        self._ask_chosen_for_them = False  # the person chose

    @Slot()
    def on_open_url_clicked(self) -> None:
        if self._url and not QtGui.QDesktopServices.openUrl(QtCore.QUrl(self._url)):
            self.url_note.show_problem(
                "No web browser could be opened here.",
                "Copy the address next to the button and open it on any device.",
            )

    @Slot()
    def on_copy_url_clicked(self) -> None:
        QtGui.QGuiApplication.clipboard().setText(self._url)
        self.url_note.show_note("Address copied: paste it into a browser.")
