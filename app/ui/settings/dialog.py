"""The Settings dialog: a General page generated from app.core.settings, and tool callers."""

from __future__ import annotations

from dataclasses import dataclass

from app.core import autostart
from app.core import settings as core_settings
from app.core.accounts import model as accounts
from app.core.delivery import background
from app.core.errors import RelayError
from app.core.settings import Value
from app.core.store import Store
from app.qt import QtWidgets

DEFAULT_ACCOUNT = "default_account"  # lives in the accounts table, not in settings
START_AT_LOGIN = "start_at_login"  # lives in the XDG autostart folder, not in settings
BACKGROUND_SENDING = "background_sending"  # a systemd user timer (or the autostart entry)


@dataclass(frozen=True)
class Option:
    """One row of the General page: a core setting or one of the two kept elsewhere."""

    key: str
    label: str  # with a mnemonic
    kind: type
    help: str


def _core(key: str) -> Option:
    declared = core_settings.setting(key)
    return Option(declared.key, declared.label, declared.kind, declared.description)


OPTIONS: tuple[Option, ...] = (
    Option(DEFAULT_ACCOUNT, "&Default account", str, "Used when a message names no account."),
    _core("close_to_tray"),
    _core("notifications"),
    Option(
        START_AT_LOGIN,
        "Start at &login",
        bool,
        "Start Relaydesk in the tray when you log in (an entry in the autostart folder).",
    ),
    _core("start_minimised"),
    Option(
        BACKGROUND_SENDING,
        "Send in the &background",
        bool,
        "Deliver queued and retrying messages while Relaydesk is closed (a systemd user "
        "timer; without systemd, Relaydesk starts minimised at login).",
    ),
    _core("retry_interval"),
    _core("detect_online_lookup"),
    _core("aliases_file"),
    _core("local_recipient"),
)


def get(store: Store, key: str) -> Value:
    """The typed value of one row (the default when never set)."""
    if key == DEFAULT_ACCOUNT:
        listed = accounts.list_accounts(store)
        return next((account.name for account, is_default in listed if is_default), "")
    if key == START_AT_LOGIN:
        return autostart.is_enabled()
    if key == BACKGROUND_SENDING:
        return background.status().enabled
    return core_settings.get(store, key)


def put(store: Store, key: str, value: Value) -> None:
    """Persist one row."""
    if key == DEFAULT_ACCOUNT:
        if value:
            accounts.set_default_account(store, str(value))
        return
    if key == START_AT_LOGIN:
        autostart.set_enabled(bool(value))
        return
    if key == BACKGROUND_SENDING:
        if bool(value) and not background.status().enabled:
            background.enable()
        elif not value and background.status().enabled:
            background.disable()
        return
    core_settings.put(store, key, value, face="gui")  # a change is audited


class SettingsDialog(QtWidgets.QDialog):
    """General: a form generated from OPTIONS. Tool callers: the send_email policies."""

    def __init__(self, store: Store, parent: QtWidgets.QWidget | None = None) -> None:
        # The policy editor loads address checks; the options table above must stay cheap
        # because the controller reads it before the first paint.
        from app.ui.settings.policies import PolicyPage

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
            combo.setCurrentText(str(value))
            combo.setEnabled(bool(names))
            return combo
        if option.kind is bool:
            box = QtWidgets.QCheckBox(option.label)
            box.setChecked(bool(value))
            return box
        if option.kind is int:
            spin = QtWidgets.QSpinBox()
            declared = core_settings.setting(option.key)
            spin.setRange(int(declared.minimum or 0), int(declared.maximum or 1_000_000))
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
            self.adjustSize()  # room for the message: it may take several lines
            return
        super().accept()


def _value_of(editor: QtWidgets.QWidget) -> Value:
    if isinstance(editor, QtWidgets.QComboBox):
        return editor.currentText()
    if isinstance(editor, QtWidgets.QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QtWidgets.QSpinBox):
        return editor.value()
    assert isinstance(editor, QtWidgets.QLineEdit)
    return editor.text()
