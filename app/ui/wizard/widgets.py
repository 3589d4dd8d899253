"""Small widgets the wizard pages share: labels with buddies, problem and diagnosis panels."""

from __future__ import annotations

import html
import re
from datetime import datetime

from app.core.errors import RelayError
from app.core.setup.fixes import Fix
from app.core.setup.trusted import grouped_fingerprint
from app.qt import QtCore, QtGui, QtWidgets, Signal, Slot

_SELECTABLE = (
    QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
    | QtCore.Qt.TextInteractionFlag.TextSelectableByKeyboard
)

# Facts from error.details worth showing a person, in this order, with their labels.
_DETAIL_LABELS = (
    ("subject", "Certificate subject"),
    ("issuer", "Issued by"),
    ("not_after", "Valid until"),
    ("fingerprint", "SHA-256 fingerprint"),
    ("expected_sha256", "Pinned fingerprint"),
    ("actual_sha256", "Fingerprint now"),
)


_FINGERPRINT_KEYS = ("fingerprint", "expected_sha256", "actual_sha256")
_LONG_FINGERPRINT = re.compile(r"\(?SHA-256 (?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}\)?")
# The core's hints name CLI options; in the window the same thing is a setting.
_CLI_WORDS = (
    ("add its CA certificate with --ca-file", "choose its CA certificate as the CA file"),
    ("--ca-file", "the CA file setting"),
)


def window_hint(hint: str) -> str:
    """A core hint as the window says it: settings instead of CLI flags, and a fingerprint
    pointing to the one shown whole below instead of a line no window can fit."""
    for cli, words in _CLI_WORDS:
        hint = hint.replace(cli, words)
    return _LONG_FINGERPRINT.sub("(fingerprint below)", hint)


def fact_text(key: str, value: object) -> str:
    """A fact's value; fingerprints grouped as everywhere else in the app, dates readable."""
    if key in _FINGERPRINT_KEYS:
        return "\n" + grouped_fingerprint(str(value))
    if key == "not_after":
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return QtCore.QLocale().toString(
            QtCore.QDateTime.fromSecsSinceEpoch(int(moment.timestamp())),
            QtCore.QLocale.FormatType.LongFormat,
        )
    return str(value)


def field_label(text: str, buddy: QtWidgets.QWidget) -> QtWidgets.QLabel:
    """A form label whose mnemonic (``&``) moves the focus to ``buddy``."""
    label = QtWidgets.QLabel(text)
    label.setBuddy(buddy)
    return label


def is_dark(widget: QtWidgets.QWidget) -> bool:
    """True when the widget's palette has a dark background."""
    return widget.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128


def problem_color(widget: QtWidgets.QWidget) -> str:
    """A red that reads on the current palette."""
    return "#ff8a80" if is_dark(widget) else "#b00020"


def success_color(widget: QtWidgets.QWidget) -> str:
    """A green that reads on the current palette."""
    return "#a5d6a7" if is_dark(widget) else "#1b5e20"


def warning_color(widget: QtWidgets.QWidget) -> str:
    """An amber that reads on the current palette."""
    return "#ffd54f" if is_dark(widget) else "#8a4b00"


class MessageLabel(QtWidgets.QLabel):
    """A word-wrapped, selectable message with a hint; hidden while there is nothing to say."""

    def __init__(self, accessible_name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(_SELECTABLE)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setAccessibleName(accessible_name)
        self.hide()

    def show_problem(self, message: str, hint: str = "") -> None:
        color = problem_color(self)
        text = f'<b style="color:{color}">{html.escape(message)}</b>'
        if hint:
            text += f"<br>{html.escape(hint)}"
        self.setText(text)
        self.setAccessibleDescription(f"{message} {hint}".strip())
        self.show()

    def show_note(self, text: str) -> None:
        """A plain remark, not a problem."""
        self.setText(html.escape(text))
        self.setAccessibleDescription(text)
        self.show()

    def clear_problem(self) -> None:
        self.setText("")
        self.hide()


def fix_button_text(fix: Fix) -> str:
    """The one-click button for a fix: its label, with an ellipsis when it asks first."""
    return f"&{fix.label}{'…' if fix.needs_consent else ''}"


class DiagnosisPanel(QtWidgets.QFrame):
    """What went wrong and what to do: the same message and hint the CLI prints.

    A diagnosis may carry a one-click fix (``error.fix``); the panel offers it as
    a button and emits ``fix_requested(fix)``.
    """

    fix_requested = Signal(object)  # app.core.setup.fixes.Fix

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setAccessibleName("Diagnosis")
        self.message = QtWidgets.QLabel()
        self.hint = QtWidgets.QLabel()
        self.facts = QtWidgets.QLabel()
        for label in (self.message, self.hint, self.facts):
            label.setWordWrap(True)
            label.setTextInteractionFlags(_SELECTABLE)
            label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.message.setAccessibleName("What went wrong")
        self.hint.setAccessibleName("What to do")
        self.facts.setAccessibleName("Details")
        bold = self.message.font()
        bold.setBold(True)
        self.message.setFont(bold)
        self.fix = QtWidgets.QPushButton()
        self.fix.setAccessibleName("Apply the suggested fix")
        self.fix.clicked.connect(self.on_fix_clicked)
        self._fix: Fix | None = None

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.hint)
        layout.addWidget(self.facts)
        layout.addWidget(self.fix, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        self.hide()

    def show_error(self, error: RelayError) -> None:
        self.message.setText(error.message)
        self.message.setStyleSheet(f"color: {problem_color(self)}")
        self.hint.setText(window_hint(error.hint))
        self.hint.setVisible(bool(error.hint))
        facts = {**error.details, **(error.details.get("certificate") or {})}
        lines = [
            f"{label}: {fact_text(key, facts[key])}"
            for key, label in _DETAIL_LABELS
            if facts.get(key)
        ]
        if error.reply is not None:
            lines.append(f"Server said: {error.reply}")
        self.facts.setText("\n".join(lines))
        self.facts.setVisible(bool(lines))
        self._fix = error.fix
        self.fix.setText(fix_button_text(error.fix) if error.fix is not None else "")
        self.fix.setVisible(error.fix is not None)
        self.setAccessibleDescription(f"{error.message} {error.hint}".strip())
        self.show()

    def clear(self) -> None:
        self._fix = None
        self.hide()

    @Slot()
    def on_fix_clicked(self) -> None:
        if self._fix is not None:
            self.fix_requested.emit(self._fix)
