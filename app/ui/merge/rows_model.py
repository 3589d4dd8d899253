"""The rows of a checked list: number, address and what is wrong (if anything)."""

from __future__ import annotations

from app.core.delivery.merge.plan import CheckReport
from app.qt import QtCore, QtGui

_Index = QtCore.QModelIndex | QtCore.QPersistentModelIndex


class ProblemsModel(QtCore.QAbstractTableModel):
    """Rows with problems (at most the report's list); cheap for any list length."""

    HEADERS = ("Row", "Address", "Problem")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[int, str, str]] = []

    def set_report(self, report: CheckReport | None) -> None:
        self.beginResetModel()
        problems = report.problems if report else []
        self._rows = [(p.row, p.address, f"{p.message} {p.hint}".strip()) for p in problems]
        self.endResetModel()

    def row_number(self, index: int) -> int:
        return self._rows[index][0]

    def rowCount(self, parent: _Index | None = None) -> int:  # noqa: N802 - Qt override
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index | None = None) -> int:  # noqa: N802 - Qt override
        return 3

    def data(self, index: _Index, role: int = 0) -> object:
        if not index.isValid():
            return None
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            return str(self._rows[index.row()][index.column()])
        if role == QtCore.Qt.ItemDataRole.ForegroundRole and index.column() == 2:
            return QtGui.QBrush(QtGui.QColor("#b3261e"))
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: QtCore.Qt.Orientation, role: int = 0
    ) -> object:
        if (
            role == QtCore.Qt.ItemDataRole.DisplayRole
            and orientation == QtCore.Qt.Orientation.Horizontal
        ):
            return self.HEADERS[section]
        return None
