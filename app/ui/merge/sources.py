"""Where a merge run's template and recipients come from: an .eml, a template written in
place, a CSV file, or the History. A mixin of MergeWindow (it owns the widgets)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from app.core.delivery.merge.plan import rows_of
from app.core.delivery.merge.recipients import Row, history_rows, open_csv
from app.core.delivery.merge.template import MergeTemplate, load_template
from app.core.errors import RelayError
from app.core.store import Store
from app.qt import QtWidgets, Slot
from app.ui.merge.template_dialog import TemplateDialog
from app.ui.widgets import StatusLine


class SourcesMixin(QtWidgets.QWidget):
    """Template and list loading for MergeWindow (``self`` is the window)."""

    # Provided by MergeWindow.
    _template: MergeTemplate | None
    _rows: Callable[[], Iterator[Row]] | None
    _columns: tuple[str, ...]
    _row_offset: int
    _base_dir: Path | None
    _store: Store
    summary: StatusLine
    template_label: QtWidgets.QLabel
    list_label: QtWidgets.QLabel
    column: QtWidgets.QComboBox

    def recheck(self) -> None:  # pragma: no cover - MergeWindow implements it
        raise NotImplementedError

    def load_template_file(self, path: str) -> None:
        try:
            self._template = load_template(path)
        except RelayError as error:
            self.summary.show_text(f"{error.message} {error.hint}", "error")
            return
        self.template_label.setText(path)
        self.recheck()

    def load_list_file(self, path: str) -> None:
        try:
            listing = open_csv(path)
        except RelayError as error:
            self.summary.show_text(f"{error.message} {error.hint}", "error")
            return
        self._rows, self._columns, self._row_offset = listing.rows, listing.columns, 1
        self._base_dir = Path(path).parent
        self.list_label.setText(f"{path} ({', '.join(listing.columns)})")
        self._fill_columns()
        self.recheck()

    def _fill_columns(self) -> None:
        self.column.blockSignals(True)
        self.column.clear()
        self.column.addItems(list(self._columns))
        wanted = next((c for c in self._columns if c.strip().lower() in ("email", "e-mail")), None)
        if wanted:
            self.column.setCurrentText(wanted)
        self.column.blockSignals(False)

    @Slot()
    def on_open_template_clicked(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a message template", "", "Messages (*.eml);;All files (*)"
        )
        if path:
            self.load_template_file(path)

    @Slot()
    def on_write_template_clicked(self) -> None:
        dialog = TemplateDialog(self._columns, self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self._template = dialog.template()
            self.template_label.setText(f"Written here: “{dialog.subject.text()}”")
            self.recheck()

    @Slot()
    def on_open_list_clicked(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a recipient list", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        if path:
            self.load_list_file(path)

    @Slot()
    def on_history_clicked(self) -> None:
        words, ok = QtWidgets.QInputDialog.getText(
            self, "Recipients from History", "Everyone you sent mail matching these words:"
        )
        if not ok:
            return
        found = [row.values for row in history_rows(self._store, words)]
        self._rows, self._columns, self._row_offset = rows_of(found), ("email",), 0
        self.list_label.setText(f"{len(found)} addresses from History matching “{words}”")
        self._fill_columns()
        self.recheck()
