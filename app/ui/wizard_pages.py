"""The account wizard's first pages: address, server, password."""

from __future__ import annotations

from app.core import secrets
from app.core.accounts import DEFAULT_PORTS, Security
from app.core.addresses import validate_address
from app.core.errors import InvalidAddress
from app.core.presets import CUSTOM_ID, Preset, get_preset, load_presets, preset_for_email
from app.ui.qt import QtCore, QtGui, QtWidgets, Slot
from app.ui.wizard_widgets import MessageLabel, field_label

SECURITY_LABELS = (
    (Security.STARTTLS, "STARTTLS (usually port 587)"),
    (Security.TLS, "TLS from the start (usually port 465)"),
    (Security.NONE, "None — not encrypted"),
)
_AUTH_BUTTON_TEXT = {
    "app_password": "&Create an app password…",
    "api_key": "&Create an API key…",
    "oauth2": "Open the provider's &help page…",
    "password": "Open the provider's &settings page…",
}


def account_name_for(email: str) -> str:
    """A short account name from the address's domain: ``ada@gmail.com`` → ``gmail``."""
    domain = email.rpartition("@")[2].strip().lower()
    label = domain.split(".")[0] if domain else ""
    return "".join(c for c in label if c.isalnum() or c in "-_")[:64]


class AddressPage(QtWidgets.QWizardPage):
    """Step 1: address, display name, account name, provider."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Your address")
        self.setSubTitle("Which address do you want to send from?")
        self.email = QtWidgets.QLineEdit()
        self.email.setPlaceholderText("name@example.com")
        self.email.setAccessibleName("Email address")
        self.from_name = QtWidgets.QLineEdit()
        self.from_name.setPlaceholderText("Ada Lovelace")
        self.from_name.setAccessibleName("Display name")
        self.account_name = QtWidgets.QLineEdit()
        self.account_name.setAccessibleName("Account name")
        self.account_name.setToolTip("A short name for this account, used in the app and CLI.")
        self.provider = QtWidgets.QComboBox()
        self.provider.setAccessibleName("Provider")
        for preset in load_presets():
            self.provider.addItem(preset.name, preset.id)
        self.provider.setCurrentIndex(self.provider.findData(CUSTOM_ID))
        self.recognised = QtWidgets.QLabel()
        self.recognised.setAccessibleName("Recognised provider")
        self.recognised.setWordWrap(True)
        self.error = MessageLabel("Address problem")

        form = QtWidgets.QFormLayout(self)
        form.addRow(field_label("&Email address:", self.email), self.email)
        form.addRow(field_label("&Display name:", self.from_name), self.from_name)
        form.addRow(field_label("Account &name:", self.account_name), self.account_name)
        form.addRow(field_label("&Provider:", self.provider), self.provider)
        form.addRow("", self.recognised)
        form.addRow(self.error)

        self._name_edited = False  # once the user types a name, stop deriving it
        self._provider_chosen = False  # once the user picks a provider, stop recognising
        self.email.textChanged.connect(self.on_email_changed)
        self.account_name.textEdited.connect(self.on_account_name_edited)
        self.provider.activated.connect(self.on_provider_activated)
        self.on_email_changed("")

    def preset(self) -> Preset:
        return get_preset(str(self.provider.currentData()))

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return bool(self.email.text().strip() and self.account_name.text().strip())

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        try:
            normalised = validate_address(self.email.text())
        except InvalidAddress as error:
            self.error.show_problem(error.message, error.hint)
            self.email.setFocus()
            return False
        self.email.setText(normalised)
        wizard = self.wizard()
        problem = wizard.name_problem(self.account_name.text().strip())  # type: ignore[attr-defined]
        if problem is not None:
            self.show_name_problem(*problem)
            return False
        self.error.clear_problem()
        return True

    def show_name_problem(self, message: str, hint: str) -> None:
        self.error.show_problem(message, hint)
        self.account_name.setFocus()
        self.account_name.selectAll()

    @Slot(str)
    def on_email_changed(self, text: str) -> None:
        self.error.clear_problem()
        if not self._name_edited:
            self.account_name.setText(account_name_for(text))
        found = preset_for_email(text)
        if found is not None and not self._provider_chosen:
            self.provider.setCurrentIndex(self.provider.findData(found.id))
        domain = text.rpartition("@")[2].strip()
        if found is not None:
            self.recognised.setText(f"Recognised: {found.name}")
        elif "@" in text and "." in domain:
            self.recognised.setText(
                f"No preset for {domain}: choose your provider, or enter the server next."
            )
        else:
            self.recognised.setText("")
        self.completeChanged.emit()

    @Slot(str)
    def on_account_name_edited(self, text: str) -> None:
        self._name_edited = bool(text)
        self.error.clear_problem()
        self.completeChanged.emit()

    @Slot(int)
    def on_provider_activated(self, index: int) -> None:
        self._provider_chosen = True


class ServerPage(QtWidgets.QWizardPage):
    """Step 2: host, port, security, CA file, username."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Outgoing server")
        self.host = QtWidgets.QLineEdit()
        self.host.setAccessibleName("Server host name")
        self.port = QtWidgets.QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setAccessibleName("Port")
        self.security = QtWidgets.QComboBox()
        self.security.setAccessibleName("Security")
        for value, label in SECURITY_LABELS:
            self.security.addItem(label, value.value)
        self.ca_file = QtWidgets.QLineEdit()
        self.ca_file.setPlaceholderText(
            "Only for a company relay with its own certificate authority"
        )
        self.ca_file.setAccessibleName("CA certificate file")
        self.ca_browse = QtWidgets.QPushButton("C&hoose…")
        self.ca_browse.setAccessibleName("Choose CA certificate file")
        self.username = QtWidgets.QLineEdit()
        self.username.setAccessibleName("Username")
        self.allow_plaintext = QtWidgets.QCheckBox("Send the password &without encryption")
        self.allow_plaintext.setToolTip(
            "Anyone on the network path can read the password. Only for a trusted local relay."
        )

        ca_row = QtWidgets.QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.ca_browse)
        form = QtWidgets.QFormLayout(self)
        form.addRow(field_label("&Server:", self.host), self.host)
        form.addRow(field_label("P&ort:", self.port), self.port)
        form.addRow(field_label("Securit&y:", self.security), self.security)
        form.addRow(field_label("&CA file:", self.ca_file), ca_row)
        form.addRow(field_label("&Username:", self.username), self.username)
        form.addRow("", self.allow_plaintext)
        self.setTabOrder(self.ca_file, self.ca_browse)
        self.setTabOrder(self.ca_browse, self.username)

        self._filled_for: tuple[str, str] | None = None
        self.host.textChanged.connect(self.completeChanged)
        self.security.currentIndexChanged.connect(self.on_security_changed)
        self.ca_browse.clicked.connect(self.on_ca_browse_clicked)

    def current_security(self) -> Security:
        return Security(self.security.currentData())

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        page: AddressPage = self.wizard().address_page  # type: ignore[attr-defined]
        preset, email = page.preset(), page.email.text().strip()
        if self._filled_for == (preset.id, email):
            return  # came back with Back: keep what the user typed here
        self._filled_for = (preset.id, email)
        if preset.is_custom:
            self.setSubTitle("Enter the SMTP server your provider or company gave you.")
            domain = email.rpartition("@")[2]
            self.host.setText("")
            self.host.setPlaceholderText(f"smtp.{domain}" if domain else "smtp.example.com")
            self.username.setText(email)
        else:
            self.setSubTitle(f"The published settings for {preset.name}; change them if needed.")
            self.host.setText(preset.host or "")
            self.username.setText(preset.username_for(email) or "")
        self.security.setCurrentIndex(self.security.findData(preset.security.value))
        self.port.setValue(preset.port)
        self.on_security_changed()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return bool(self.host.text().strip())

    @Slot()
    def on_security_changed(self) -> None:
        security = self.current_security()
        if self.port.value() in DEFAULT_PORTS.values():
            self.port.setValue(DEFAULT_PORTS[security])
        plain = security is Security.NONE
        self.allow_plaintext.setEnabled(plain)
        if not plain:
            self.allow_plaintext.setChecked(False)

    @Slot()
    def on_ca_browse_clicked(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Choose the CA certificate", "", "PEM certificates (*.pem *.crt *.cer);;All (*)"
        )
        if path:
            self.ca_file.setText(path)


class PasswordPage(QtWidgets.QWizardPage):
    """Step 3: provider guidance, password, where it is kept."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Password")
        self.guidance = QtWidgets.QLabel()
        self.guidance.setWordWrap(True)
        self.guidance.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.guidance.setAccessibleName("Provider guidance")
        self.open_url = QtWidgets.QPushButton()
        self.no_login = QtWidgets.QCheckBox("This server needs no &login (a local relay)")
        self.password = QtWidgets.QLineEdit()
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.store_keyring = QtWidgets.QRadioButton("&Store in the system keyring")
        self.ask_each_time = QtWidgets.QRadioButton("&Ask each time (kept in memory only)")
        self.keyring_note = MessageLabel("Keyring status")
        self._url = ""

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.guidance)
        layout.addWidget(self.open_url, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.no_login)
        form = QtWidgets.QFormLayout()
        form.addRow(field_label("&Password:", self.password), self.password)
        layout.addLayout(form)
        layout.addWidget(self.store_keyring)
        layout.addWidget(self.ask_each_time)
        layout.addWidget(self.keyring_note)
        layout.addStretch(1)

        self.password.textChanged.connect(self.completeChanged)
        self.no_login.toggled.connect(self.on_no_login_toggled)
        self.open_url.clicked.connect(self.on_open_url_clicked)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        wizard = self.wizard()
        preset: Preset = wizard.address_page.preset()  # type: ignore[attr-defined]
        server: ServerPage = wizard.server_page  # type: ignore[attr-defined]
        who = server.username.text().strip() or "your login"
        self.setSubTitle(f"The password for {who} at {server.host.text().strip()}.")
        generic = "Enter the password (or app password) you use for this mail account."
        self.guidance.setText(generic if preset.is_custom else (preset.notes or generic))
        self._url = preset.app_password_url or preset.help_url or ""
        self.open_url.setText(_AUTH_BUTTON_TEXT.get(preset.auth, "Open the provider's page…"))
        self.open_url.setToolTip(self._url)
        self.open_url.setVisible(bool(self._url))
        if not server.username.text().strip():
            self.no_login.setChecked(True)
        self._apply_keyring_state()
        self.on_no_login_toggled(self.no_login.isChecked())

    def _apply_keyring_state(self) -> None:
        usable = secrets.keyring_usable()
        self.store_keyring.setEnabled(usable)
        if usable:
            self.keyring_note.clear_problem()
            if not self.ask_each_time.isChecked():
                self.store_keyring.setChecked(True)
            return
        self.ask_each_time.setChecked(True)
        self.keyring_note.show_problem(
            "No usable system keyring was found, so Relaydesk cannot store the password.",
            "You will be asked for it each time it is needed. To store it, start your "
            "desktop's keyring (GNOME Keyring, KWallet) and add the account again.",
        )

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.no_login.isChecked() or bool(self.password.text())

    def keeps_in_keyring(self) -> bool:
        return not self.no_login.isChecked() and self.store_keyring.isChecked()

    @Slot(bool)
    def on_no_login_toggled(self, checked: bool) -> None:
        self.password.setEnabled(not checked)
        self.ask_each_time.setEnabled(not checked)
        self.store_keyring.setEnabled(not checked and secrets.keyring_usable())
        self.completeChanged.emit()

    @Slot()
    def on_open_url_clicked(self) -> None:
        if self._url:
            QtGui.QDesktopServices.openUrl(QtCore.QUrl(self._url))
