"""Outbox: what is waiting, sending, retrying or not sent, with the reason; retry, edit, discard."""

from __future__ import annotations

import time

from app.core.delivery import outbox
from app.core.delivery.outbox import OutboxItem, State
from app.core.errors import RelayError
from app.core.store import Store
from app.core.wording import outbox_details, outbox_reason, state_word
from app.qt import Qt, QtWidgets, Signal, Slot
from app.ui import locale_format
from app.ui.widgets import StatusLine, confirm, row_table

# Account and attempts are in the details pane: at 800x600 the reason must stay visible.
COLUMNS = ("State", "To", "Subject", "Next attempt", "Reason")
REASON_COLUMN = COLUMNS.index("Reason")
SHOWN = (
    State.QUEUED,
    State.SENDING,
    State.RETRYING,
    State.FAILED,
    State.POSSIBLY_SENT,
    State.CANCELLED,
)
# A table row costs a few Qt objects; a mail merge can queue ten thousand messages.
SHOW_AT_MOST = 500
_SUMMARY_ORDER = (State.QUEUED, State.SENDING, State.RETRYING, State.FAILED, State.POSSIBLY_SENT)


def outbox_summary(counts: dict[State, int]) -> str:
    """ "2 waiting, 1 retrying" — or "Outbox empty"."""
    parts = [f"{counts[s]} {state_word(s).lower()}" for s in _SUMMARY_ORDER if counts.get(s)]
    return ", ".join(parts) if parts else "Outbox empty"


def _next_attempt(item: OutboxItem) -> str:
    if item.state not in (State.QUEUED, State.RETRYING) or item.next_attempt_at is None:
        return "—"
    if item.next_attempt_at <= time.time():
        return "now"
    return locale_format.when(item.next_attempt_at)


class OutboxView(QtWidgets.QWidget):
    """The durable outbox as the store holds it (sent items are in History)."""

    retry_requested = Signal(int, str)  # item id, account: send now
    edit_requested = Signal(int)
    changed = Signal()

    def __init__(self, store: Store, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._items: list[OutboxItem] = []
        self._retried: dict[int, int] = {}  # item id → attempts when "Retry now" was pressed
        self.table = row_table(COLUMNS, "Outbox messages")
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in ((0, 80), (1, 140), (2, 140), (3, 90)):
            self.table.setColumnWidth(column, width)
        self.empty = QtWidgets.QLabel("The outbox is empty: everything has been sent.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.more = QtWidgets.QLabel()
        self.more.setAccessibleName("More messages")
        self.detail = StatusLine()
        self.retry = QtWidgets.QPushButton("&Retry now")
        self.edit = QtWidgets.QPushButton("&Edit…")
        self.discard = QtWidgets.QPushButton("&Discard")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch()
        for button in (self.retry, self.edit, self.discard):
            button.setEnabled(False)
            buttons.addWidget(button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.more)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self.on_table_selection_changed)
        self.retry.clicked.connect(self.on_retry_clicked)
        self.edit.clicked.connect(self.on_edit_clicked)
        self.discard.clicked.connect(self.on_discard_clicked)
        self.reload()

    def selected(self) -> OutboxItem | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self._items[rows.pop()] if len(rows) == 1 else None

    def select_item(self, item_id: int) -> bool:
        """Select one message (a clicked notification); True when it is still listed."""
        for row, item in enumerate(self._items):
            if item.id == item_id:
                self.table.selectRow(row)
                return True
        return False

    def summary(self) -> str:
        """What the outbox holds, in a few words (for the status bar)."""
        return outbox_summary(outbox.count_by_state(self._store))

    def reload(self) -> None:
        chosen = self.selected()
        self._items = outbox.list_items(self._store, SHOWN, limit=SHOW_AT_MOST)
        counts = outbox.count_by_state(self._store)
        total = sum(counts.get(state, 0) for state in SHOWN)
        self.more.setText(
            f"Showing the {len(self._items):,} oldest of {total:,} messages; the rest wait "
            "behind them (relaydesk outbox list shows all)."
        )
        self.more.setVisible(total > len(self._items))
        self.table.setRowCount(len(self._items))
        for row, item in enumerate(self._items):
            values = (
                state_word(item.state),
                ", ".join(r.address for r in item.recipients),
                item.subject or "(no subject)",
                _next_attempt(item),
                outbox_reason(item),
            )
            for column, value in enumerate(values):
                cell = QtWidgets.QTableWidgetItem(value)
                cell.setToolTip(value)
                self.table.setItem(row, column, cell)
            if chosen is not None and item.id == chosen.id:
                self.table.selectRow(row)
        self.table.setVisible(bool(self._items))
        self.empty.setVisible(not self._items)
        self.on_table_selection_changed()

    @Slot()
    def on_table_selection_changed(self) -> None:
        item = self.selected()
        waiting = item is not None and item.state is not State.SENDING
        self.retry.setEnabled(waiting)
        self.edit.setEnabled(waiting)
        self.discard.setEnabled(waiting)
        if item is None:
            self.detail.clear_text()
            return
        if self._retried.get(item.id) == item.attempts and item.state is not State.FAILED:
            # "Retry now" was pressed and the attempt has not ended yet: say so, not the past.
            subject = item.subject or "(no subject)"
            self.detail.show_text(f"Sending “{subject}” again now…")
            return
        self._retried.pop(item.id, None)
        attempts = f"{item.attempts} attempt{'s' if item.attempts != 1 else ''}"
        facts = f"From account “{item.account}”, {locale_format.size(item.size)}, {attempts}."
        details = outbox_details(item)
        kind = "error" if item.state is State.FAILED else ("warning" if details else "")
        self.detail.show_text(f"{details}\n{facts}" if details else facts, kind)

    @Slot()
    def on_retry_clicked(self) -> None:
        item = self.selected()
        if item is None:
            return
        try:
            if item.state is not State.QUEUED:
                outbox.retry(self._store, item.id, face="gui")
        except RelayError as error:
            self.detail.show_text(f"{error.message} {error.hint}", "error")
            return
        self._retried[item.id] = item.attempts
        self.retry_requested.emit(item.id, item.account)
        self.reload()
        self.changed.emit()

    @Slot()
    def on_edit_clicked(self) -> None:
        item = self.selected()
        if item is not None:
            self.edit_requested.emit(item.id)

    @Slot()
    def on_discard_clicked(self) -> None:
        item = self.selected()
        if item is None:
            return
        if not confirm(
            self,
            "Discard message? — Relaydesk",
            f"Remove “{item.subject or '(no subject)'}” from the outbox? It will not be sent.",
            "&Discard message",
            name="discard-outbox-message",
        ):
            return
        try:
            outbox.discard(self._store, item.id, face="gui")
        except RelayError as error:
            self.detail.show_text(f"{error.message} {error.hint}", "error")
            return
        self.reload()
        self.changed.emit()
