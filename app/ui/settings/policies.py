"""Settings → Tool callers: what each script or agent may do through the send_email tool.

Edits are kept per caller while the dialog is open and written with
``policy.set_policy`` / ``policy.remove_policy`` only when the dialog is accepted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.agents import policy
from app.core.agents.policy import Policy
from app.core.errors import RelayError
from app.core.store import Store
from app.qt import Qt, QtGui, QtWidgets, Slot
from app.ui.wizard.widgets import MessageLabel, field_label

FACE = "gui"
NO_LIMIT = -1  # the spin boxes' "No limit" value
_SPLIT = re.compile(r"[\s,;]+")


def _names(text: str) -> tuple[str, ...]:
    """Entries typed one a line (or separated by commas), in order, without repeats."""
    return tuple(dict.fromkeys(part for part in _SPLIT.split(text) if part))


class _CallerField(QtWidgets.QLineEdit):
    """A line edit whose Enter adds the caller instead of pressing the dialog's OK."""

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt override
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


class PolicyPage(QtWidgets.QWidget):
    """The callers on the left, the rules of the chosen one on the right."""

    def __init__(self, store: Store, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._stored = {p.caller: p for p in policy.list_policies(store)}
        self._edited: dict[str, Policy] = dict(self._stored)
        self._current: str | None = None
        self._build()
        self._set_account_names([a.name for a, _ in accounts.list_accounts(store)])
        for caller in self._edited:
            self.callers.addItem(caller)
        self.callers.setCurrentRow(0)
        self._show(self._current_caller())

    # -- layout ----------------------------------------------------------------

    def _build(self) -> None:
        self.callers = QtWidgets.QListWidget()
        self.callers.setAccessibleName("Tool callers")
        self.new_caller = _CallerField()
        self.new_caller.setPlaceholderText("e.g. claude")
        self.new_caller.setAccessibleName("New caller id")
        self.add = QtWidgets.QPushButton("A&dd")
        self.remove = QtWidgets.QPushButton("&Remove")
        self.remove.setToolTip("Forget this caller's rules; it falls back to the defaults.")
        add_row = QtWidgets.QHBoxLayout()
        add_row.addWidget(self.new_caller, 1)
        add_row.addWidget(self.add)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(field_label("&Callers:", self.callers))
        left.addWidget(self.callers, 1)
        left.addLayout(add_row)
        left.addWidget(self.remove, 0, Qt.AlignmentFlag.AlignLeft)

        self.rules = QtWidgets.QGroupBox("Rules")
        self.any_account = QtWidgets.QCheckBox("An&y account")
        self.accounts = QtWidgets.QListWidget()
        self.accounts.setAccessibleName("Allowed accounts")
        self.accounts.setMaximumHeight(90)
        self.any_recipient = QtWidgets.QCheckBox("Any&one")
        self.recipients = QtWidgets.QPlainTextEdit()
        self.recipients.setAccessibleName("Allowed recipients")
        self.recipients.setPlaceholderText(
            "One a line: example.com, *.example.org, boss@example.net"
        )
        self.recipients.setMaximumHeight(80)
        self.per_hour, self.per_day = (
            self._quota("Messages per hour"),
            self._quota("Messages per day"),
        )
        self.max_size = QtWidgets.QDoubleSpinBox()
        self.max_size.setAccessibleName("Largest attachment")
        self.max_size.setRange(0, 10_000)
        self.max_size.setDecimals(1)
        self.max_size.setSuffix(" MB")
        self.folders = QtWidgets.QListWidget()
        self.folders.setAccessibleName("Folders attachments may be read from")
        self.folders.setMaximumHeight(80)
        self.add_folder = QtWidgets.QPushButton("Add &folder…")
        self.remove_folder = QtWidgets.QPushButton("Remove folder")
        folder_note = QtWidgets.QLabel(
            "With no folder, files can only be sent as content, never read by path."
        )
        folder_note.setWordWrap(True)
        folder_buttons = QtWidgets.QHBoxLayout()
        folder_buttons.addWidget(self.add_folder)
        folder_buttons.addWidget(self.remove_folder)
        folder_buttons.addStretch(1)

        form = QtWidgets.QFormLayout(self.rules)
        form.addRow(field_label("Acc&ounts:", self.accounts), self.any_account)
        form.addRow("", self.accounts)
        form.addRow(field_label("Reci&pients:", self.recipients), self.any_recipient)
        form.addRow("", self.recipients)
        form.addRow(field_label("Per &hour:", self.per_hour), self.per_hour)
        form.addRow(field_label("Per d&ay:", self.per_day), self.per_day)
        form.addRow(field_label("Largest a&ttachment:", self.max_size), self.max_size)
        form.addRow(field_label("Attachment fo&lders:", self.folders), self.folders)
        form.addRow("", folder_buttons)
        form.addRow("", folder_note)
        self.error = MessageLabel("Policy problem")
        self.empty = QtWidgets.QLabel(
            "No caller has its own rules yet. Scripts and agents get the defaults: any "
            "account and recipient, 20 messages an hour, 100 a day, no files read by path."
        )
        self.empty.setWordWrap(True)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.empty)
        right.addWidget(self.rules, 1)
        right.addWidget(self.error)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 7)

        self.callers.currentRowChanged.connect(self.on_callers_row_changed)
        self.add.clicked.connect(self.on_add_clicked)
        self.new_caller.returnPressed.connect(self.on_add_clicked)
        self.remove.clicked.connect(self.on_remove_clicked)
        self.any_account.toggled.connect(self.accounts.setDisabled)
        self.any_recipient.toggled.connect(self.recipients.setDisabled)
        self.add_folder.clicked.connect(self.on_add_folder_clicked)
        self.remove_folder.clicked.connect(self.on_remove_folder_clicked)

    @staticmethod
    def _quota(name: str) -> QtWidgets.QSpinBox:
        spin = QtWidgets.QSpinBox()
        spin.setAccessibleName(name)
        spin.setRange(NO_LIMIT, 1_000_000)
        spin.setSpecialValueText("No limit")
        spin.setToolTip("0 stops this caller from sending.")
        return spin

    def _set_account_names(self, names: list[str]) -> None:
        for name in names:
            item = QtWidgets.QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.accounts.addItem(item)

    # -- between the widgets and the policies -------------------------------------

    def _current_caller(self) -> str | None:
        item = self.callers.currentItem()
        return item.text() if item is not None else None

    def _show(self, caller: str | None) -> None:
        self._current = caller
        self.empty.setVisible(caller is None)
        self.rules.setVisible(caller is not None)
        self.remove.setEnabled(caller is not None)
        if caller is None:
            return
        rules = self._edited[caller]
        self.rules.setTitle(f"Rules for “{caller}”")
        self.any_account.setChecked(rules.accounts is None)
        self.accounts.setDisabled(rules.accounts is None)
        for row in range(self.accounts.count()):
            item = self.accounts.item(row)
            allowed = rules.accounts is not None and item.text() in rules.accounts
            item.setCheckState(Qt.CheckState.Checked if allowed else Qt.CheckState.Unchecked)
        self.any_recipient.setChecked(rules.recipients is None)
        self.recipients.setDisabled(rules.recipients is None)
        self.recipients.setPlainText("\n".join(rules.recipients or ()))
        self.per_hour.setValue(NO_LIMIT if rules.per_hour is None else rules.per_hour)
        self.per_day.setValue(NO_LIMIT if rules.per_day is None else rules.per_day)
        self.max_size.setValue(rules.max_attachment_size / 1_000_000)
        self.folders.clear()
        self.folders.addItems(list(rules.attachment_dirs))

    def _collect(self) -> None:
        """Keep what the widgets say about the shown caller."""
        caller = self._current
        if caller is None:
            return
        checked = [
            self.accounts.item(row).text()
            for row in range(self.accounts.count())
            if self.accounts.item(row).checkState() == Qt.CheckState.Checked
        ]
        self._edited[caller] = replace(
            self._edited[caller],
            accounts=None if self.any_account.isChecked() else tuple(checked),
            recipients=None
            if self.any_recipient.isChecked()
            else _names(self.recipients.toPlainText()),
            per_hour=None if self.per_hour.value() == NO_LIMIT else self.per_hour.value(),
            per_day=None if self.per_day.value() == NO_LIMIT else self.per_day.value(),
            max_attachment_size=round(self.max_size.value() * 1_000_000),
            attachment_dirs=tuple(
                self.folders.item(row).text() for row in range(self.folders.count())
            ),
        )

    def policies(self) -> dict[str, Policy]:
        """Every caller's rules as edited (not yet stored)."""
        self._collect()
        return dict(self._edited)

    def check(self) -> None:
        """Raise the first problem (as RelayError) and show it next to its caller."""
        for caller, rules in self.policies().items():
            try:
                replace(rules, attachment_dirs=_absolute(rules.attachment_dirs)).validate()
            except RelayError as error:
                self.callers.setCurrentRow(list(self._edited).index(caller))
                self.error.show_problem(f"{caller}: {error.message}", error.hint)
                raise

    def save(self) -> None:
        """Store changed rules and forget removed callers."""
        edited = self.policies()
        for caller in self._stored.keys() - edited.keys():
            policy.remove_policy(self._store, caller, face=FACE)
        for caller, rules in edited.items():
            if self._stored.get(caller) != rules:
                policy.set_policy(self._store, rules, face=FACE)

    # -- slots -----------------------------------------------------------------

    @Slot(int)
    def on_callers_row_changed(self, _row: int) -> None:
        self._collect()
        self.error.clear_problem()
        self._show(self._current_caller())

    @Slot()
    def on_add_clicked(self) -> None:
        caller = self.new_caller.text().strip()
        if not caller:
            return
        try:
            policy.check_caller(caller)
        except RelayError as error:
            self.error.show_problem(error.message, error.hint)
            return
        if caller not in self._edited:
            self._collect()
            self._edited[caller] = self._stored.get(caller) or Policy(caller=caller)
            self.callers.addItem(caller)
        self.new_caller.clear()
        self.callers.setCurrentRow(list(self._edited).index(caller))

    @Slot()
    def on_remove_clicked(self) -> None:
        caller, row = self._current, self.callers.currentRow()
        if caller is None:
            return
        self._current = None  # nothing to collect from the widgets any more
        del self._edited[caller]
        self.callers.takeItem(row)
        self._show(self._current_caller())

    @Slot()
    def on_add_folder_clicked(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Allow attachments from this folder", str(Path.home())
        )
        if folder and not self.folders.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(folder)

    @Slot()
    def on_remove_folder_clicked(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))


def _absolute(folders: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(Path(folder).expanduser()) for folder in folders)
