"""The attachment list of a compose form: add by button or drop, sizes, SIZE warning."""

from __future__ import annotations

import os
from pathlib import Path

from app.core.delivery.message import Attachment
from app.core.errors import UnreadableFile
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.ui import locale_format
from app.ui.widgets import StatusLine

# Base64 turns 57 bytes into 76 characters plus CRLF: about 1.37 times the file size.
_WIRE_FACTOR = 78 / 57
_HEADERS = 2_000
# Below this the estimate of the encoded size says more about the headers than the files.
ENCODING_MATTERS = 100_000


def local_paths(mime: QtCore.QMimeData) -> list[Path]:
    """The local files in a drag's data (folders and remote URLs are left out)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class AttachmentList(QtWidgets.QWidget):
    """Files to attach with their sizes; only sizes are read here, never the contents."""

    changed = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[tuple[Attachment, int]] = []
        self.limit: int | None = None
        self.list = QtWidgets.QListWidget()
        self.list.setAccessibleName("Attachments")
        self.list.setMaximumHeight(90)
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.add_button = QtWidgets.QPushButton("&Attach…")
        self.add_button.setToolTip("Attach files (you can also drop files on this window)")
        self.remove_button = QtWidgets.QPushButton("R&emove")
        self.remove_button.setEnabled(False)
        self.summary = QtWidgets.QLabel("No attachments — drop files here or use Attach.")
        self.warning = StatusLine()
        self.add_button.clicked.connect(self.on_add_button_clicked)
        self.remove_button.clicked.connect(self.on_remove_button_clicked)
        self.list.itemSelectionChanged.connect(self.on_list_selection_changed)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.remove_button)
        row.addWidget(self.add_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addWidget(self.warning)
        self._refresh()

    # -- contents -------------------------------------------------------------
    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(attachment for attachment, _ in self._items)

    @property
    def total(self) -> int:
        return sum(size for _, size in self._items)

    def estimated_wire_size(self, body_chars: int = 0) -> int:
        """About how big the message gets once attachments are base64-encoded."""
        return int(self.total * _WIRE_FACTOR) + body_chars * 2 + _HEADERS

    def add_paths(self, paths: list[Path]) -> list[str]:
        """Add files; returns the problems (folders, unreadable files) to show."""
        problems = []
        for path in paths:
            try:
                attachment = Attachment.from_path(path)  # the core's check: regular files only
                size = os.stat(path).st_size
            except UnreadableFile as error:
                problems.append(error.message)
                continue
            except OSError as error:
                problems.append(f"“{path.name}”: {error.strerror or error}")
                continue
            self._items.append((attachment, size))
        self._refresh()
        return problems

    def add_data(self, attachment: Attachment) -> None:
        self._items.append((attachment, len(attachment.data or b"")))
        self._refresh()

    def clear(self) -> None:
        self._items.clear()
        self._refresh()

    def set_limit(self, limit: int | None) -> None:
        self.limit = limit
        self._refresh()

    def over_limit(self, body_chars: int = 0) -> bool:
        return self.limit is not None and self.estimated_wire_size(body_chars) > self.limit

    # -- slots -----------------------------------------------------------------
    def on_add_button_clicked(self) -> None:
        names, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Attach files — Relaydesk")
        problems = self.add_paths([Path(name) for name in names])
        if problems:
            self.warning.show_text(" ".join(problems), "error")

    def on_remove_button_clicked(self) -> None:
        rows = sorted((index.row() for index in self.list.selectedIndexes()), reverse=True)
        for row in rows:
            del self._items[row]
        self._refresh()

    def on_list_selection_changed(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedIndexes()))

    def _refresh(self) -> None:
        self.list.clear()
        for attachment, size in self._items:
            item = QtWidgets.QListWidgetItem(f"{attachment.filename} — {locale_format.size(size)}")
            item.setToolTip(str(attachment.path or attachment.filename))
            self.list.addItem(item)
        self.list.setVisible(bool(self._items))
        self.remove_button.setVisible(bool(self._items))
        if self._items:
            count = len(self._items)
            text = f"{count} file{'s' if count != 1 else ''}, {locale_format.size(self.total)}"
            if self.total >= ENCODING_MATTERS:  # below that the estimate only confuses
                text += f" (about {locale_format.size(self.estimated_wire_size())} when sent)"
            self.summary.setText(text)
        else:
            self.summary.setText("No attachments — drop files here or use Attach.")
        if self.over_limit():
            assert self.limit is not None
            self.warning.show_text(
                f"Too big for this server: it accepts at most {locale_format.size(self.limit)} per "
                "message. Remove or shrink attachments, or share a link instead.",
                "warning",
            )
        else:
            self.warning.clear_text()
        self.changed.emit()


def accept_file_drags(event: QtGui.QDropEvent) -> bool:
    """For dragEnter/dragMove handlers: True when the drag holds local files."""
    mime = event.mimeData()
    if local_paths(mime):
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        return True
    event.ignore()
    return False


def oversize_box(parent: QtWidgets.QWidget, files: AttachmentList) -> QtWidgets.QMessageBox:
    """The "probably too big for this server" question; its "Send anyway" is ``send_button``."""
    assert files.limit is not None
    box = QtWidgets.QMessageBox(
        QtWidgets.QMessageBox.Icon.Warning,
        "Message too big? — Relaydesk",
        f"This message will be about {locale_format.size(files.estimated_wire_size())}, "
        f"but the server accepts at most {locale_format.size(files.limit)}. "
        "It will probably be refused.",
        QtWidgets.QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName("oversize-warning")
    send = box.addButton("Send &anyway", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
    box.setProperty("send_button", send)
    return box
