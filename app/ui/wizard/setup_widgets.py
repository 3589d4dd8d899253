"""Parts of the one-page setup: the manual settings (shown on demand), guidance, names."""

from __future__ import annotations

import html
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts.model import DEFAULT_PORTS, Security
from app.core.errors import NoSuchAccount
from app.core.setup.presets import Link
from app.core.store import Store
from app.qt import Qt, QtCore, QtGui, QtWidgets, Slot
from app.ui.wizard.pages import SECURITY_LABELS, account_name_for


class ManualSettings(QtWidgets.QGroupBox):
    """Server, port, security, username and CA file — filled by detection, editable."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Server settings", parent)
        self.host = QtWidgets.QLineEdit()
        self.host.setAccessibleName("Server host name")
        self.host.setPlaceholderText("smtp.example.com")
        self.port = QtWidgets.QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(587)
        self.port.setAccessibleName("Port")
        self.security = QtWidgets.QComboBox()
        self.security.setAccessibleName("Security")
        for value, label in SECURITY_LABELS:
            self.security.addItem(label, value.value)
        self.username = QtWidgets.QLineEdit()
        self.username.setAccessibleName("Username")
        self.username.setPlaceholderText("Usually your email address; empty: no sign-in")
        self.ca_file = QtWidgets.QLineEdit()
        self.ca_file.setAccessibleName("CA certificate file")
        self.ca_file.setPlaceholderText("Only for a company server with its own authority")
        form = QtWidgets.QFormLayout(self)
        form.addRow("Ser&ver:", self.host)
        form.addRow("P&ort:", self.port)
        form.addRow("Securit&y:", self.security)
        form.addRow("User&name:", self.username)
        form.addRow("CA &file:", self.ca_file)
        for row in range(form.rowCount()):
            label_item = form.itemAt(row, QtWidgets.QFormLayout.ItemRole.LabelRole)
            field_item = form.itemAt(row, QtWidgets.QFormLayout.ItemRole.FieldRole)
            if label_item is None or field_item is None:
                continue
            row_label, row_field = label_item.widget(), field_item.widget()
            if isinstance(row_label, QtWidgets.QLabel) and row_field is not None:
                row_label.setBuddy(row_field)
        self.security.currentIndexChanged.connect(self.on_security_changed)

    def current_security(self) -> Security:
        return Security(self.security.currentData())

    def fill(self, host: str, port: int, security: Security, username: str | None) -> None:
        self.security.setCurrentIndex(self.security.findData(security.value))
        self.port.setValue(port)
        self.host.setText(host)
        self.host.setCursorPosition(0)
        self.username.setText(username or "")

    @Slot()
    def on_security_changed(self) -> None:
        if self.port.value() in DEFAULT_PORTS.values():
            self.port.setValue(DEFAULT_PORTS[self.current_security()])


class GuidanceLabel(QtWidgets.QLabel):
    """The provider's advice and pages (app password, switching access on, help); when no
    browser opens, the address is shown to copy."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Provider guidance")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.linkActivated.connect(self.on_link_activated)
        self.hide()

    def show_guidance(self, notes: str, links: tuple[Link, ...]) -> None:
        anchors = " · ".join(
            f'<a href="{html.escape(link.url)}">{html.escape(link.text)}</a>' for link in links
        )
        text = "<br>".join(part for part in (html.escape(notes), anchors) if part)
        self.setText(text)
        self.setVisible(bool(text))

    @Slot(str)
    def on_link_activated(self, url: str) -> None:
        if not QtGui.QDesktopServices.openUrl(QtCore.QUrl(url)):
            self.setText(
                f"{self.text()}<br>No web browser could be opened. The address: {html.escape(url)}"
            )


def free_account_name(store: Store, email: str) -> str:
    """``gmail``, or ``gmail-2`` when that name is taken."""
    base = account_name_for(email) or "mail"
    name, number = base, 1
    while True:
        try:
            accounts.get_account(store, name)
        except NoSuchAccount:
            return name
        number += 1
        name = f"{base}-{number}"


def ca_path(text: str) -> str | None:
    text = text.strip()
    return str(Path(text).expanduser()) if text else None
