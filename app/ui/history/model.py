"""History as a table model that loads one page at a time (fast with 100,000 rows)."""

from __future__ import annotations

from typing import Any, TypeAlias

from app.core.delivery import history
from app.core.delivery.history import HistoryEntry
from app.core.store import Store
from app.qt import Qt, QtCore
from app.ui import locale_format

PAGE = 200
COLUMNS = ("Sent", "To", "Subject", "Account", "Size")
Index: TypeAlias = QtCore.QModelIndex | QtCore.QPersistentModelIndex
ROOT = QtCore.QModelIndex()  # the invisible root: every row of a table has it as parent


def recipients_text(entry: HistoryEntry) -> str:
    return ", ".join(str(r["address"]) for r in entry.recipients)


def when_text(at: float) -> str:
    """Today's sends by their time, older ones with their date (the locale's short forms)."""
    return locale_format.when(at)


class HistoryModel(QtCore.QAbstractTableModel):
    """Rows of history.search(query), newest first, fetched PAGE at a time as the view scrolls."""

    def __init__(self, store: Store, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._query = ""
        self._rows: list[HistoryEntry] = []
        self._more = True

    @property
    def query(self) -> str:
        return self._query

    def set_query(self, query: str) -> None:
        """Start over with a new search (first page only)."""
        self.beginResetModel()
        self._query = query.strip()
        self._rows = []
        self._more = True
        self.endResetModel()
        if self.canFetchMore(QtCore.QModelIndex()):
            self.fetchMore(QtCore.QModelIndex())

    def reload(self) -> None:
        self.set_query(self._query)

    def total(self) -> int:
        """How many rows match (counted by SQLite, not loaded)."""
        return history.count(self._store, self._query)

    def entry(self, row: int) -> HistoryEntry | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- Qt model API ------------------------------------------------------------
    def rowCount(self, parent: Index = ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:  # noqa: N802 - Qt override
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index) -> None:  # noqa: N802 - Qt override
        if parent.isValid() or not self._more:
            return
        page = history.search(self._store, self._query, limit=PAGE, offset=len(self._rows))
        self._more = len(page) == PAGE
        if page:
            start = len(self._rows)
            self.beginInsertRows(QtCore.QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        entry = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column == 0:
                return when_text(entry.sent_at)
            if column == 1:
                return recipients_text(entry)
            if column == 2:
                return entry.subject or "(no subject)"
            if column == 3:
                return entry.account
            return locale_format.size(entry.size)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 1:
            return recipients_text(entry)
        if role == Qt.ItemDataRole.UserRole:
            return entry.id
        return None
