"""The account wizard's first pages: address and server."""

from __future__ import annotations

import html

from app.core.accounts.model import DEFAULT_PORTS, Account, Security
from app.core.delivery.addresses import validate_address
from app.core.errors import InvalidAddress
from app.core.setup import choice
from app.core.setup.detect import Detection
from app.core.setup.presets import CUSTOM_ID, Link, Preset, get_preset, load_presets
from app.core.setup.providers import preset_for_address
from app.qt import Qt, QtWidgets, Slot
from app.ui.wizard.model import AccountDraft
from app.ui.wizard.widgets import MessageLabel, field_label, success_color, warning_color

SECURITY_LABELS = (
    (Security.STARTTLS, "STARTTLS (usually port 587)"),
    (Security.TLS, "TLS from the start (usually port 465)"),
    (Security.NONE, "None — not encrypted"),
)
NOT_FOUND = "No settings found"
FOUND_LABELS = {
    "preset": "Known provider",
    "ispdb": "From Thunderbird's database",
    "mx": "Found via MX",
    "autoconfig": "Found via autoconfig",
    "srv": "Found via DNS SRV",
    "online": "From Thunderbird's online database",
    "probe": "Guessed — please check",
}
LINK_WORDS = {
    "app_password": "Create an app password",
    "enable": "Switch access for mail programs on",
    "docs": "The provider's help page",
}


def account_name_for(email: str) -> str:
    """A short account name from the address's domain: ``ada@gmail.com`` → ``gmail``."""
    domain = email.rpartition("@")[2].strip().lower()
    label = domain.split(".")[0] if domain else ""
    return "".join(c for c in label if c.isalnum() or c in "-_")[:64]


class AddressPage(QtWidgets.QWizardPage):
    """Step 1: address, display name, account name, provider."""

    def __init__(self, draft: AccountDraft, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._draft = draft
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

    def first_field(self) -> QtWidgets.QWidget:
        """Where the cursor goes when the page is shown."""
        return self.email

    def preset(self) -> Preset:
        return get_preset(str(self.provider.currentData()))

    def prefill(self, account: Account) -> None:
        """Edit mode: the stored values; the account's name cannot change."""
        self._name_edited = self._provider_chosen = True
        self.email.setText(account.email)
        self.from_name.setText(account.from_name)
        self.account_name.setText(account.name)
        self.account_name.setReadOnly(True)
        self.account_name.setFrame(False)  # shown as plain text: it cannot be changed
        self.account_name.setStyleSheet("background: transparent")
        self.account_name.setToolTip("An account keeps its name; add a new account to rename.")
        index = self.provider.findData(account.preset or CUSTOM_ID)
        self.provider.setCurrentIndex(index if index >= 0 else self.provider.findData(CUSTOM_ID))
        self.setSubTitle("Which address does this account send from?")

    def choose_preset(self, preset_id: str, *, keep: bool = False) -> None:
        """Select a provider found for the address (by autodetection or the one-page setup);
        ``keep``: as if the person had picked it, so a changed address does not replace it."""
        index = self.provider.findData(preset_id)
        if index >= 0:
            self.provider.setCurrentIndex(index)
            self._provider_chosen = self._provider_chosen or keep

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
        problem = self._draft.name_problem(self.account_name.text().strip())
        if problem is not None:
            self.show_name_problem(*problem)
            return False
        self.error.clear_problem()
        self._draft.address_confirmed(normalised)
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
        found = preset_for_address(text) if "@" in text else None
        listed = found is not None and self.provider.findData(found.id) >= 0
        if found is not None and listed and not self._provider_chosen:
            self.provider.setCurrentIndex(self.provider.findData(found.id))
        domain = text.rpartition("@")[2].strip()
        if found is not None:
            where = "" if listed else " (Thunderbird's provider database)"
            self.recognised.setText(f"Recognised: {found.name}{where}")
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
    """Step 2: host, port, security, CA file, username — from a preset, a lookup or by hand."""

    def __init__(self, draft: AccountDraft, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._draft = draft
        self.setTitle("Outgoing server")
        self.host = QtWidgets.QLineEdit()
        self.host.setAccessibleName("Server host name")
        self.found = QtWidgets.QLabel()
        self.found.setAccessibleName("Where these settings came from")
        self.found.hide()
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
        self.guide = QtWidgets.QLabel()  # the provider's page, from the presets or the database
        self.guide.setAccessibleName("Provider help")
        self.guide.setOpenExternalLinks(True)
        self.guide.setWordWrap(True)
        self.guide.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.guide.hide()
        self.allow_plaintext = QtWidgets.QCheckBox("Send the password &without encryption")
        self.allow_plaintext.setToolTip(
            "Anyone on the network path can read the password. Only for a trusted local relay."
        )

        host_row = QtWidgets.QHBoxLayout()
        host_row.addWidget(self.host, 1)
        host_row.addWidget(self.found)
        ca_row = QtWidgets.QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.ca_browse)
        form = QtWidgets.QFormLayout(self)
        form.addRow(field_label("&Server:", self.host), host_row)
        form.addRow(field_label("P&ort:", self.port), self.port)
        form.addRow(field_label("Securit&y:", self.security), self.security)
        form.addRow(field_label("&CA file:", self.ca_file), ca_row)
        form.addRow(field_label("&Username:", self.username), self.username)
        form.addRow("", self.allow_plaintext)
        form.addRow("", self.guide)
        self.setTabOrder(self.ca_file, self.ca_browse)
        self.setTabOrder(self.ca_browse, self.username)

        self._filled_for: tuple[str, ...] | None = None
        self._fixed = False  # editing: the stored settings stay unless the provider changes
        self.host_typed = False  # the person typed a host: a lookup must not overwrite it
        self._username_needed = False  # the provider's login name cannot be guessed
        self.host.textChanged.connect(self.completeChanged)
        self.username.textChanged.connect(self.completeChanged)
        self.host.textEdited.connect(self.on_host_edited)
        self.security.currentIndexChanged.connect(self.on_security_changed)
        self._apply_plaintext_rule()
        self.ca_browse.clicked.connect(self.on_ca_browse_clicked)

    def first_field(self) -> QtWidgets.QWidget:
        """Where the cursor goes when the page is shown: a login name still to type first."""
        if self._username_needed and not self.username.text().strip():
            return self.username
        return self.host

    def current_security(self) -> Security:
        return Security(self.security.currentData())

    def prefill(self, account: Account) -> None:
        """Edit mode: the stored settings, all editable."""
        self._fixed = True
        self._filled_for = (account.preset or CUSTOM_ID,)
        self.set_server(account.host, account.port, account.security, account.username)
        self.ca_file.setText(account.ca_file or "")
        self.allow_plaintext.setChecked(account.allow_plaintext_auth)
        self._apply_plaintext_rule()
        self.setSubTitle("Change what is needed: the account is tested again before it is saved.")

    def set_server(self, host: str, port: int, security: Security, username: str | None) -> None:
        self.security.setCurrentIndex(self.security.findData(security.value))
        self.port.setValue(port)
        self.host.setText(host)
        self.username.setText(username or "")

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        chosen = self._draft.choices()
        preset, email = chosen.preset, chosen.email
        key = (preset.id,) if self._fixed else (preset.id, email)
        if self._filled_for == key:
            return  # came back with Back: keep what the user typed here
        self._filled_for = key
        self.host_typed = False
        self.found.hide()
        if preset.is_custom:
            self.setSubTitle("Enter the SMTP server your provider or company gave you.")
            domain = email.rpartition("@")[2]
            self.host.setText("")
            self.host.setPlaceholderText(f"smtp.{domain}" if domain else "smtp.example.com")
            self.username.setText(email)
        else:
            self.setSubTitle(f"The published settings for {preset.name}; change them if needed.")
        found = choice.from_preset(preset, email)
        self._username_needed = found.username_needed
        if found.username_needed:
            # The provider's longer advice is on the password page; here the one thing to do.
            problem = found.username_problem("")
            self.setSubTitle(f"{problem.message} Type it under Username.")
        self.set_server(found.host, found.port, found.security, found.username)
        if preset.is_custom:
            self.username.setText(email)  # what most servers want; the person corrects it
        self.show_links(found.links)
        self.on_security_changed()
        self._draft.show_detection(email)

    def fill_key(self, preset_id: str, email: str) -> None:
        """Record that the page now holds the settings for this provider and address."""
        self._filled_for = (preset_id,) if self._fixed else (preset_id, email)

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        needs = self._username_needed and not self.username.text().strip()
        return bool(self.host.text().strip()) and not needs

    # -- autodetection ------------------------------------------------------------

    def show_looking(self, domain: str) -> None:
        self._set_found("Looking up…", "", f"Relaydesk is looking up the settings for {domain}.")
        self.setSubTitle(f"Looking up the settings for {domain}… You can also type them yourself.")

    def show_not_found(self, domain: str, why: str) -> None:
        self._set_found(NOT_FOUND, "", why)
        self.setSubTitle(
            f"Relaydesk could not find the settings for {domain}. "
            "Enter the SMTP server your provider or company gave you."
        )

    def show_detection(self, detection: Detection) -> None:
        """Fill the fields from the best candidate (unless the person typed a host) and say
        where it came from."""
        best = detection.best
        assert best is not None
        chosen = choice.from_candidate(best, detection.email)
        guessed = chosen.guessed
        color = warning_color(self) if guessed else success_color(self)
        self._set_found(FOUND_LABELS[best.source], color, "\n".join(detection.trail))
        self.show_links(detection.links)
        where = f"{best.host}:{best.port} ({best.security.value.upper()})"
        if self.host_typed:
            self.setSubTitle(f"Relaydesk found {where}; you typed your own server, so it is kept.")
            return
        self.set_server(chosen.host, chosen.port, chosen.security, chosen.username)
        self.host.setCursorPosition(0)
        lead = best.note or f"Relaydesk found {where}."
        if guessed:
            lead = f"A server answered at {where}; Relaydesk guessed it is yours."
        self.setSubTitle(f"{lead} Check these settings, then continue.")

    def show_links(self, links: tuple[Link, ...]) -> None:
        """The provider's most useful page (switching access on beats general help)."""
        useful = [link for link in links if link.kind != "app_password"]  # page 3 offers it
        if not useful:
            self.guide.hide()
            return
        link = useful[0]
        words = html.escape(LINK_WORDS.get(link.kind, "More from the provider"))
        detail = html.escape(link.text) if link.kind == "enable" and link.text else ""
        self.guide.setText(
            f'<a href="{html.escape(link.url, quote=True)}">{words}</a>'
            + (f"<br><small>{detail}</small>" if detail else "")
        )
        self.guide.setToolTip(link.url)
        self.guide.show()

    def _set_found(self, text: str, color: str, tooltip: str) -> None:
        self.found.setText(text)
        self.found.setStyleSheet(f"color: {color}; font-weight: bold" if color else "")
        self.found.setToolTip(tooltip)
        self.found.setAccessibleDescription(tooltip)
        self.found.show()

    # -- slots --------------------------------------------------------------------

    @Slot(str)
    def on_host_edited(self, _text: str) -> None:
        self.host_typed = True
        if self.found.text() == NOT_FOUND:
            self.found.hide()  # next to a typed host it would read as "this host was not found"

    @Slot()
    def on_security_changed(self) -> None:
        security = self.current_security()
        if self.port.value() in DEFAULT_PORTS.values():
            self.port.setValue(DEFAULT_PORTS[security])
        self._apply_plaintext_rule()

    def _apply_plaintext_rule(self) -> None:
        # The password travels in clear only on an unencrypted connection the person chose;
        # with STARTTLS or TLS the box means nothing, so it is off and cannot be ticked.
        plain = self.current_security() is Security.NONE
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
