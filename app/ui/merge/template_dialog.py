"""Write a merge template in place: subject and text with {{column}} placeholders."""

from __future__ import annotations

from app.core.delivery.merge.template import MergeTemplate
from app.qt import QtWidgets


class TemplateDialog(QtWidgets.QDialog):
    """Subject and text; the columns of the list are shown as a reminder."""

    def __init__(self, columns: tuple[str, ...], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Write the message")
        self.resize(560, 420)
        self.subject = QtWidgets.QLineEdit()
        self.subject.setPlaceholderText("Hello {{name|there}}")
        self.subject.setAccessibleName("Subject")
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setAccessibleName("Text")
        self.text.setPlaceholderText("Dear {{name|customer}},\n\n…")
        shown = ", ".join("{{" + c + "}}" for c in columns) if columns else "open a list first"
        hint = QtWidgets.QLabel(
            f"Placeholders: {shown}. Write {{{{column|fallback}}}} for cells that may be empty."
        )
        hint.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("&Subject:", self.subject)
        form.addRow("&Text:", self.text)
        form.addRow(hint)
        form.addRow(buttons)

    def template(self) -> MergeTemplate:
        return MergeTemplate.compose(
            subject=self.subject.text(), text=self.text.toPlainText() or " "
        )
