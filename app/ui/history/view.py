"""History: search box (debounced), lazily loaded table, details pane, "Send again"."""

from __future__ import annotations

import html

from app.core.delivery import history, outbox
from app.core.errors import UsageError
from app.core.store import Store
from app.qt import Qt, QTimer, QtWidgets, Signal, Slot
from app.ui import locale_format
from app.ui.history.model import HistoryModel

SEARCH_DELAY_MS = 250


# Where a message was sent from, as a person would say it.
FACE_WORDS = {
    "gui": "the Relaydesk window",
    "cli": "the command line",
    "sendmail": "sendmail (a script or cron job)",
    "tool": "an AI assistant's tool call",
    "mcp": "an AI assistant (MCP)",
}


class HistoryView(QtWidgets.QWidget):
    """What was sent, newest first."""

    send_again = Signal(int)  # history entry id

    def __init__(self, store: Store, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.model = HistoryModel(store, self)
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search recipients and subjects")
        self.search.setAccessibleName("Search history")
        self.search.setClearButtonEnabled(True)
        search_label = QtWidgets.QLabel("Sea&rch:")
        search_label.setBuddy(self.search)
        self.count = QtWidgets.QLabel()
        self.table = QtWidgets.QTableView()
        self.table.setAccessibleName("Sent messages")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 130), (1, 220), (3, 90), (4, 70)):
            self.table.setColumnWidth(column, width)
        self.details = QtWidgets.QTextBrowser()
        self.details.setAccessibleName("Message details")
        self.details.setMinimumHeight(140)
        self.again = QtWidgets.QPushButton("Send a&gain…")
        self.again.setEnabled(False)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(search_label)
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        lower = QtWidgets.QWidget()
        lower_layout = QtWidgets.QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.details, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.again)
        lower_layout.addLayout(buttons)
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.on_debounce_timeout)
        self.search.textChanged.connect(self._debounce.start)
        self.table.selectionModel().currentRowChanged.connect(self.on_table_current_row_changed)
        self.table.doubleClicked.connect(self.on_again_clicked)
        self.again.clicked.connect(self.on_again_clicked)
        self.reload()

    def reload(self) -> None:
        self.model.reload()
        self._update_count()
        self._show_entry(None)

    def select_outbox_item(self, outbox_id: int) -> bool:
        """Select the newest entry of this outbox item (a clicked notification); True if found."""
        for row in range(self.model.rowCount()):
            entry = self.model.entry(row)
            if entry is not None and entry.outbox_id == outbox_id:
                self.table.selectRow(row)
                return True
        return False

    def _update_count(self) -> None:
        total = self.model.total()
        what = "match" if self.model.query else "sent"
        self.count.setText(f"{total:,} {what}" if total != 1 else f"1 {what}")

    @Slot()
    def on_debounce_timeout(self) -> None:
        self.model.set_query(self.search.text())
        self._update_count()
        self._show_entry(None)

    @Slot()
    def on_table_current_row_changed(self) -> None:
        entry = self.model.entry(self.table.currentIndex().row())
        self._show_entry(entry.id if entry else None)

    @Slot()
    def on_again_clicked(self) -> None:
        entry = self.model.entry(self.table.currentIndex().row())
        if entry is not None:
            self.send_again.emit(entry.id)

    def _show_entry(self, entry_id: int | None) -> None:
        entry = history.get(self._store, entry_id) if entry_id is not None else None
        self.again.setEnabled(entry is not None)
        if entry is None:
            self.details.setHtml(
                "<p>Select a message to see its details.</p>"
                if self.model.rowCount()
                else "<p>Nothing sent yet. Messages appear here once a server accepts them.</p>"
            )
            return
        rows = [
            ("Subject", entry.subject or "(no subject)"),
            ("From", entry.envelope_from),
            ("Account", entry.account),
            ("Sent", locale_format.full(entry.sent_at)),
            ("Message-ID", entry.message_id),
            ("Size", locale_format.size(entry.size)),
            ("Server reply", entry.final_reply or "—"),
        ]
        parts = ["<table cellspacing='4'>"]
        parts += [f"<tr><th align='left'>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows]
        parts.append("</table><h4>Recipients</h4><ul>")
        for r in entry.recipients:
            reply = f" — {html.escape(str(r.get('reply')))}" if r.get("reply") else ""
            parts.append(f"<li>{html.escape(str(r['address']))}: {r['status']}{reply}</li>")
        parts.append("</ul>")
        parts.append(self._transcript_summary(entry.outbox_id))
        self.details.setHtml("".join(parts))

    def _transcript_summary(self, outbox_id: int) -> str:
        try:
            item = outbox.get_item(self._store, outbox_id)
        except UsageError:
            return ""
        attempts = f"{item.attempts} attempt{'s' if item.attempts != 1 else ''}"
        return (
            f"<h4>Send</h4><p>{attempts}, last step reached: {item.step or '—'}, "
            f"sent from {html.escape(FACE_WORDS.get(item.face, item.face))}.</p>"
        )
