"""The message body editor: plain text, or rich text sent as HTML with a text alternative."""

from __future__ import annotations

from app.qt import QtGui, QtWidgets


class BodyEditor(QtWidgets.QWidget):
    """A text editor with an optional rich-text (HTML) mode and a small format bar."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QtWidgets.QTextEdit()
        self.editor.setAccessibleName("Message text")
        self.editor.setAcceptRichText(False)
        self.editor.setTabChangesFocus(True)
        self.editor.setPlaceholderText("Write your message…")
        self.rich = QtWidgets.QCheckBox("&Rich text (HTML)")
        self.rich.setToolTip("Send formatted text (HTML) with a plain-text copy")
        self.bar = QtWidgets.QToolBar("Format")
        self.bar.setAccessibleName("Text format")
        for text, tip, slot in (
            ("B", "Bold (Ctrl+B)", self.on_bold_triggered),
            ("I", "Italic (Ctrl+I)", self.on_italic_triggered),
            ("U", "Underline (Ctrl+U)", self.on_underline_triggered),
        ):
            action = self.bar.addAction(text)
            action.setToolTip(tip)
            action.setShortcut(QtGui.QKeySequence(f"Ctrl+{text}"))
            action.triggered.connect(slot)
        self.bar.setVisible(False)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.rich)
        top.addWidget(self.bar)
        top.addStretch()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.editor, 1)
        self.rich.toggled.connect(self.on_rich_toggled)

    def on_rich_toggled(self, rich: bool) -> None:
        self.editor.setAcceptRichText(rich)
        self.bar.setVisible(rich)
        if not rich:
            self.editor.setPlainText(self.editor.toPlainText())

    def on_bold_triggered(self) -> None:
        bold = self.editor.fontWeight() <= QtGui.QFont.Weight.Normal
        self.editor.setFontWeight(QtGui.QFont.Weight.Bold if bold else QtGui.QFont.Weight.Normal)

    def on_italic_triggered(self) -> None:
        self.editor.setFontItalic(not self.editor.fontItalic())

    def on_underline_triggered(self) -> None:
        self.editor.setFontUnderline(not self.editor.fontUnderline())

    def content(self) -> tuple[str, str | None]:
        """(plain text, HTML or None)."""
        text = self.editor.toPlainText()
        return text, (self.editor.toHtml() if self.rich.isChecked() else None)

    def set_content(self, text: str, html: str | None = None) -> None:
        self.rich.setChecked(html is not None)
        if html is not None:
            self.editor.setHtml(html)
        else:
            self.editor.setPlainText(text)
