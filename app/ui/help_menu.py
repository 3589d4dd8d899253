"""Help: the documentation, where Relaydesk keeps its files, the words it uses, About."""

from __future__ import annotations

import html
from pathlib import Path

from app.core.paths import Paths, default_paths
from app.core.wording import GLOSSARY
from app.qt import QtCore, QtGui, QtWidgets, Slot

DOCS_URL = "https://github.com/relaydesk/relaydesk#readme"
PROBLEMS_URL = "https://github.com/relaydesk/relaydesk/issues"


def file_places(paths: Paths) -> list[tuple[str, str]]:
    """(what, where) for every place Relaydesk writes to."""
    return [
        ("Accounts, outbox, history, settings", str(paths.database)),
        ("Large messages waiting to be sent", str(paths.spool)),
        ("Logs, reports, running-instance lock", str(paths.state)),
        ("Configuration", str(paths.config)),
        ("Passwords", "your system keyring — never in these files"),
    ]


def open_url(url: str) -> bool:
    """Open a web page or folder with the desktop's handler; False when none opened."""
    return QtGui.QDesktopServices.openUrl(QtCore.QUrl(url))


class PlacesDialog(QtWidgets.QDialog):
    """Where data and logs live, selectable for copying, with buttons to open the folders."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, paths: Paths | None = None):
        super().__init__(parent)
        self.paths = paths or default_paths()
        self.setObjectName("where-files-are")
        self.setWindowTitle("Where Relaydesk keeps your data — Relaydesk")
        form = QtWidgets.QFormLayout()
        for what, where in file_places(self.paths):
            value = QtWidgets.QLabel(where)
            value.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            form.addRow(f"{what}:", value)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        role = QtWidgets.QDialogButtonBox.ButtonRole.ActionRole
        buttons.addButton("Open &data folder", role).clicked.connect(self.on_data_clicked)
        buttons.addButton("Open &logs folder", role).clicked.connect(self.on_logs_clicked)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _open(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        open_url(QtCore.QUrl.fromLocalFile(str(folder)).toString())

    @Slot()
    def on_data_clicked(self) -> None:
        self._open(self.paths.data)

    @Slot()
    def on_logs_clicked(self) -> None:
        self._open(self.paths.state)


def glossary_dialog(parent: QtWidgets.QWidget | None) -> QtWidgets.QMessageBox:
    """The words Relaydesk uses, and what each means."""
    rows = "".join(
        f"<tr><th align='left' valign='top'>{html.escape(term)}</th>"
        f"<td>{html.escape(meaning)}</td></tr>"
        for term, meaning in GLOSSARY
    )
    box = QtWidgets.QMessageBox(parent)
    box.setObjectName("glossary")
    box.setWindowTitle("Words Relaydesk uses — Relaydesk")
    box.setText(f"<table cellspacing='6'>{rows}</table>")
    return box
