"""The bar under every message being written: the result line, progress, Cancel and Send.

Compose (in the main window and on its own) and Quick send use this one bar, so a send
looks and behaves the same wherever it starts.
"""

from __future__ import annotations

from app.qt import QtWidgets
from app.ui.widgets import StatusLine

SEND_TIP = "Send (Ctrl+Return)"


class SendBar(QtWidgets.QWidget):
    """Result line above; progress, extra buttons, Cancel and Send below."""

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        *,
        extra: tuple[QtWidgets.QPushButton, ...] = (),
    ) -> None:
        super().__init__(parent)
        self.status = StatusLine()
        self.status.setAccessibleName("Send result")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setAccessibleName("Upload progress")
        self.progress.setFormat("%p% uploaded")
        self.progress.hide()
        self.send_button = QtWidgets.QPushButton("&Send")
        self.send_button.setToolTip(SEND_TIP)
        self.send_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton("Cance&l sending")
        self.cancel_button.hide()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addStretch()
        for button in extra:
            row.addWidget(button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.send_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addLayout(row)

    def set_ready(self, problem: str, busy: bool) -> None:
        """Send is enabled when nothing is wrong and nothing is being sent; the tooltip says
        why not."""
        self.send_button.setEnabled(not problem and not busy)
        self.send_button.setToolTip(problem or SEND_TIP)

    def set_busy(self, busy: bool, *, cancellable: bool = True) -> None:
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self.cancel_button.setVisible(busy and cancellable)
        self.cancel_button.setEnabled(busy and cancellable)

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
