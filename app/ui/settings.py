"""Every option, declared once: the dialog and the code both read this table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core import accounts, autostart
from app.core.errors import RelayError
from app.core.store import Store
from app.ui.qt import QtWidgets


@dataclass(frozen=True)
class Option:
    """One setting: its key in the store, its type, default and the words shown for it."""

    key: str
    label: str  # with a mnemonic
    kind: type
    default: Any
    help: str = ""


DEFAULT_ACCOUNT = "default_account"  # lives in the accounts table, not in settings
START_AT_LOGIN = "start_at_login"  # lives in the XDG autostart folder, not in settings

OPTIONS: tuple[Option, ...] = (
    Option(DEFAULT_ACCOUNT, "&Default account", str, "", "Used when a message names no account."),
    Option(
        "close_to_tray",
        "&Close to the tray",
        bool,
        False,
        "Closing the window keeps Relaydesk running in the system tray.",
    ),
    Option(
        "notifications",
        "Show &notifications",
        bool,
        True,
        "A desktop notification when a message was sent or failed.",
    ),
    Option(
        START_AT_LOGIN,
        "Start at &login",
        bool,
        False,
        "Start Relaydesk in the tray when you log in (an entry in the autostart folder).",
    ),
    Option(
        "start_minimised",
        "Start &minimised",
        bool,
        False,
        "Start in the tray (or minimised) instead of showing the window.",
    ),
    Option(
        "retry_interval",
        "Check the outbox every (&seconds)",
        int,
        30,
        "How often queued and retrying messages are looked at.",
    ),
)
_BY_KEY = {option.key: option for option in OPTIONS}


def _parse(option: Option, raw: str) -> Any:
    if option.kind is bool:
        return raw == "1"
    if option.kind is int:
        try:
            return int(raw)
        except ValueError:
            return option.default
    return raw


def get(store: Store, key: str) -> Any:
    """The typed value of one option (its default when never set)."""
    option = _BY_KEY[key]
    if key == DEFAULT_ACCOUNT:
        listed = accounts.list_accounts(store)
        return next((account.name for account, is_default in listed if is_default), "")
    if key == START_AT_LOGIN:
        return autostart.is_enabled()
    raw = store.get_setting(f"ui:{key}")
    return option.default if raw is None else _parse(option, raw)


def put(store: Store, key: str, value: Any) -> None:
    """Persist one option."""
    option = _BY_KEY[key]
    if key == DEFAULT_ACCOUNT:
        if value:
            accounts.set_default_account(store, str(value))
        return
    if key == START_AT_LOGIN:
        autostart.set_enabled(bool(value))
        return
    if option.kind is bool:
        store.set_setting(f"ui:{key}", "1" if value else "0")
    else:
        store.set_setting(f"ui:{key}", str(option.kind(value)))


def max_size(store: Store, account: str) -> int | None:
    """The server's SIZE limit learned by the last test or send, if any."""
    raw = store.get_setting(f"max_size:{account}")
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else None


class SettingsDialog(QtWidgets.QDialog):
    """General: a form generated from OPTIONS. Tool callers: the send_email policies."""

    def __init__(self, store: Store, parent: QtWidgets.QWidget | None = None) -> None:
        # The policy editor loads address checks; the options table above must stay cheap
        # because the controller reads it before the first paint.
        from app.ui.policy_settings import PolicyPage

        super().__init__(parent)
        self.setWindowTitle("Relaydesk settings")
        self.setMinimumWidth(440)
        self._store = store
        self._editors: dict[str, QtWidgets.QWidget] = {}
        form = QtWidgets.QFormLayout()
        for option in OPTIONS:
            editor = self._editor(option)
            editor.setToolTip(option.help)
            editor.setAccessibleName(option.label.replace("&", ""))
            self._editors[option.key] = editor
            if isinstance(editor, QtWidgets.QCheckBox):
                form.addRow("", editor)
            else:
                label = QtWidgets.QLabel(option.label)
                label.setBuddy(editor)
                form.addRow(label, editor)
        self._error = QtWidgets.QLabel()
        self._error.setWordWrap(True)
        self.buttons = buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        general = QtWidgets.QWidget()
        general_layout = QtWidgets.QVBoxLayout(general)
        general_layout.addLayout(form)
        general_layout.addStretch(1)
        self.policies = PolicyPage(store)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(general, "&General")
        self.tabs.addTab(self.policies, "&Tool callers")
        self.tabs.setTabToolTip(1, "What scripts and AI agents may send through Relaydesk.")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self._error)
        layout.addWidget(buttons)

    def _editor(self, option: Option) -> QtWidgets.QWidget:
        value = get(self._store, option.key)
        if option.key == DEFAULT_ACCOUNT:
            combo = QtWidgets.QComboBox()
            names = [account.name for account, _ in accounts.list_accounts(self._store)]
            combo.addItems(names)
            combo.setCurrentText(value)
            combo.setEnabled(bool(names))
            return combo
        if option.kind is bool:
            box = QtWidgets.QCheckBox(option.label)
            box.setChecked(bool(value))
            return box
        if option.kind is int:
            spin = QtWidgets.QSpinBox()
            spin.setRange(5, 3600)
            spin.setValue(int(value))
            return spin
        line = QtWidgets.QLineEdit(str(value))
        return line

    def accept(self) -> None:
        try:
            self.policies.check()
        except RelayError:
            self.tabs.setCurrentWidget(self.policies)  # the page shows the problem
            return
        try:
            for key, editor in self._editors.items():
                put(self._store, key, _value_of(editor))
            self.policies.save()
        except RelayError as error:
            self._error.setText(f"{error.message} {error.hint}")
            return
        super().accept()


def _value_of(editor: QtWidgets.QWidget) -> Any:
    if isinstance(editor, QtWidgets.QComboBox):
        return editor.currentText()
    if isinstance(editor, QtWidgets.QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QtWidgets.QSpinBox):
        return editor.value()
    assert isinstance(editor, QtWidgets.QLineEdit)
    return editor.text()
