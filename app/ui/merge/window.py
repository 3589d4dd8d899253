"""The mail merge window.

Choose a template (an .eml, or write one) and a list (CSV or History); every row
is checked in the background and the problems are listed per row; any row can
be previewed exactly as it will be sent, or sent as a test to yourself. "Queue
and send" queues the whole run in one step, then sends it over the account's
connections with counts, the expected end, pause, resume and cancel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from app.core.accounts.credentials import resolver_with
from app.core.accounts.model import Account, get_account, list_accounts
from app.core.delivery import connections, outbox
from app.core.delivery.attempts import SendOptions, send_item
from app.core.delivery.merge.plan import CheckReport, MergeRun, check, preview
from app.core.delivery.merge.recipients import Row
from app.core.delivery.merge.render import MergeOptions
from app.core.delivery.merge.template import MergeTemplate
from app.core.delivery.message import BuiltMessage
from app.core.delivery.outbox import SendResult
from app.core.errors import RelayError
from app.core.paths import Paths
from app.core.store import Store
from app.qt import QtCore, QtGui, QtWidgets, Slot
from app.ui.accounts.password_prompt import PasswordCache, password_for
from app.ui.merge.rows_model import ProblemsModel
from app.ui.merge.run_panel import RunPanel, Typed
from app.ui.merge.sources import SourcesMixin
from app.ui.merge.workers import CallWorker
from app.ui.widgets import StatusLine
from app.workers.base import Worker, WorkerPool

FACE = "gui"


class MergeWindow(SourcesMixin, QtWidgets.QWidget):
    """One merge run from choosing the files to the last message."""

    def __init__(
        self, store: Store, passwords: PasswordCache | None = None, paths: Paths | None = None
    ) -> None:
        super().__init__()
        self.setWindowTitle("Mail merge — Relaydesk")
        self.resize(1100, 680)
        self._store = store
        # Workers open their own connection to the same file (one connection per thread).
        folder = store.path.parent
        self._paths = paths or Paths(config=folder, data=folder, state=folder)
        self._passwords = passwords or PasswordCache()
        self._pool = WorkerPool(self)
        self._template: MergeTemplate | None = None
        self._columns: tuple[str, ...] = ()
        self._rows: Callable[[], Iterator[Row]] | None = None
        self._row_offset = 1  # CSV rows are numbered by file line (the header is line 1)
        self._base_dir: Path | None = None  # a CSV list's folder: its attachment paths start here
        self._report: CheckReport | None = None
        self._build()

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        self.template_label = QtWidgets.QLabel("No template yet")
        self.list_label = QtWidgets.QLabel("No list yet")
        self.account = QtWidgets.QComboBox()
        self.account.setAccessibleName("Account")
        for account, _ in list_accounts(self._store):
            self.account.addItem(f"{account.name} <{account.email}>", account.name)
        self.column = QtWidgets.QComboBox()
        self.column.setAccessibleName("Address column")
        self.connections = QtWidgets.QSpinBox()
        self.connections.setRange(1, connections.MAX_CONNECTIONS)
        self.connections.setAccessibleName("Connections")
        self.unsubscribe = QtWidgets.QLineEdit()
        self.unsubscribe.setPlaceholderText("optional: mailto:leave@example.com or https://…")
        self.unsubscribe.setAccessibleName("Unsubscribe link")
        self.connections.setToolTip(
            "Connections at once for this account (remembered). A server that allows fewer "
            "answers 421; the run then goes on with as many as it takes."
        )
        self.account.currentIndexChanged.connect(self.on_account_changed)
        self.on_account_changed()
        self.connections.valueChanged.connect(self.on_connections_value_changed)

        form = QtWidgets.QGridLayout()
        form.addWidget(QtWidgets.QLabel("Template:"), 0, 0)
        form.addWidget(self.template_label, 0, 1, 1, 3)
        form.addWidget(self._button("Open .&eml…", self.on_open_template_clicked), 0, 4)
        form.addWidget(self._button("&Write…", self.on_write_template_clicked), 0, 5)
        form.addWidget(QtWidgets.QLabel("Recipients:"), 1, 0)
        form.addWidget(self.list_label, 1, 1, 1, 3)
        form.addWidget(self._button("Open &CSV…", self.on_open_list_clicked), 1, 4)
        form.addWidget(self._button("From &History…", self.on_history_clicked), 1, 5)
        form.addWidget(QtWidgets.QLabel("&Account:"), 2, 0)
        form.addWidget(self.account, 2, 1)
        form.addWidget(QtWidgets.QLabel("Address co&lumn:"), 2, 2)
        form.addWidget(self.column, 2, 3)
        form.addWidget(QtWidgets.QLabel("Co&nnections:"), 2, 4)
        form.addWidget(self.connections, 2, 5)
        form.addWidget(QtWidgets.QLabel("&Unsubscribe:"), 3, 0)
        form.addWidget(self.unsubscribe, 3, 1, 1, 5)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        # The labels' mnemonics move the focus to their field.
        for (row, column), field in (
            ((2, 0), self.account),
            ((2, 2), self.column),
            ((2, 4), self.connections),
            ((3, 0), self.unsubscribe),
        ):
            item = form.itemAtPosition(row, column)
            label = item.widget() if item is not None else None
            if isinstance(label, QtWidgets.QLabel):
                label.setBuddy(field)
        self.column.currentIndexChanged.connect(self.on_options_changed)
        self.unsubscribe.editingFinished.connect(self.on_options_changed)

        self.problems = ProblemsModel()
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.problems)
        self.table.setAccessibleName("Rows with problems")
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.clicked.connect(self.on_table_clicked)
        self.summary = StatusLine()
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.summary)
        left_layout.addWidget(self.table, 1)

        self.row = QtWidgets.QSpinBox()
        self.row.setRange(1, 1)
        self.row.setPrefix("Row ")
        self.row.setAccessibleName("Preview row")
        self.row.valueChanged.connect(self.on_row_value_changed)
        self.preview = QtWidgets.QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("Preview")
        self.preview.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Preview, exactly as sent:"))
        top.addStretch(1)
        top.addWidget(self.row)
        self.test_button = self._button("Send a &test to me", self.on_test_clicked)
        top.addWidget(self.test_button)
        right_layout.addLayout(top)
        right_layout.addWidget(self.preview, 1)
        split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([450, 650])

        self.panel = RunPanel(self._store, self._open_store, self._pool)
        self.panel.queue_requested.connect(self.on_queue_requested)
        self.state = self.panel.state
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(split, 1)
        layout.addWidget(self.panel)
        self._update_buttons()

    def _button(self, text: str, slot: Callable[[], None]) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.clicked.connect(slot)
        return button

    def _update_buttons(self) -> None:
        ready = self._report is not None and self._report.ready > 0
        self.panel.update_buttons(can_queue=ready and self.account.count() > 0)
        self.test_button.setEnabled(self._template is not None and self._rows is not None)

    # -- choosing the template and the list -----------------------------------------------

    @Slot()
    def on_account_changed(self) -> None:
        name = self.account.currentData()
        if name:
            self.connections.setValue(connections.get_connections(self._store, name))

    @Slot(int)
    def on_connections_value_changed(self, count: int) -> None:
        name = self.account.currentData()
        if name:
            connections.set_connections(self._store, name, count)

    @Slot()
    def on_options_changed(self) -> None:
        self.recheck()

    # -- checking and previewing ----------------------------------------------------------

    def run(self) -> MergeRun | None:
        if self._template is None or self._rows is None or self.account.count() == 0:
            return None
        options = MergeOptions(
            to_column=self.column.currentText() or "email",
            unsubscribe=self.unsubscribe.text().strip() or None,
            base_dir=self._base_dir or Path.cwd(),
        )
        account = get_account(self._store, self.account.currentData())
        return MergeRun(self._template, self._rows, self._columns, account, options)

    def recheck(self) -> None:
        run = self.run()
        if run is None:
            self._update_buttons()
            return
        self.summary.show_text("Checking every row…")
        worker = CallWorker(lambda: check(run))
        worker.finished.connect(self.on_check_finished)
        worker.failed.connect(self.on_check_failed)
        self._start(worker)

    @Slot(object)
    def on_check_finished(self, report: CheckReport) -> None:
        self._report = report
        self.problems.set_report(report)
        kind = "ok" if report.ok else "warning"
        self.summary.show_text(
            f"{report.rows} rows: {report.ready} ready, {report.problem_count} with problems, "
            f"{report.skipped} skipped.",
            kind,
        )
        first = 1 + self._row_offset  # rows as a spreadsheet numbers them
        self.row.setRange(first, max(first, report.rows + self._row_offset))
        self.on_row_value_changed(self.row.value())
        self._update_buttons()

    @Slot(object)
    def on_check_failed(self, error: RelayError) -> None:
        self._report = None
        self.problems.set_report(None)
        self.summary.show_text(f"{error.message} {error.hint}", "error")
        self._update_buttons()

    @Slot(int)
    def on_row_value_changed(self, number: int) -> None:
        built = self._preview(number)
        if built is not None:
            self.preview.setPlainText(built.data.decode("utf-8", "replace").replace("\r\n", "\n"))

    def _preview(self, number: int) -> BuiltMessage | None:
        run = self.run()
        if run is None:
            return None
        try:
            return preview(run, number)
        except RelayError as error:
            self.preview.setPlainText(f"Row {number} cannot be sent: {error.message}\n{error.hint}")
            return None

    @Slot(object)
    def on_table_clicked(self, index: QtCore.QModelIndex) -> None:
        self.row.setValue(self.problems.row_number(index.row()))

    # -- sending --------------------------------------------------------------------------

    def _password(self, account: Account) -> Typed | None:
        """What the person typed for an "ask" account (None: they cancelled); the keyring
        and sign-in tokens are read by the workers, off the GUI thread."""
        go, typed = password_for(account, self._passwords, self)
        return Typed(typed) if go else None

    def _open_store(self) -> Store:
        return Store.open(self._paths)

    @Slot()
    def on_test_clicked(self) -> None:
        run = self.run()
        built = self._preview(self.row.value())
        if run is None or built is None:
            return
        source = self._password(run.account)
        if source is None:
            return
        test = BuiltMessage(
            built.data,
            built.envelope_from,
            (run.account.email,),
            built.message_id,
            built.subject,
            built.needs_smtputf8,
        )
        item_id = outbox.enqueue(self._store, run.account, test, face=FACE)

        def deliver() -> SendResult:
            with self._open_store() as store:
                resolver = resolver_with(store, source.password)
                return send_item(store, item_id, resolver, SendOptions(face=FACE))

        worker = CallWorker(deliver)
        worker.finished.connect(self.on_test_finished)
        worker.failed.connect(self.on_test_failed)
        self.state.show_text(f"Sending row {self.row.value()} to {run.account.email}…")
        self._start(worker)

    @Slot(object)
    def on_test_finished(self, result: SendResult) -> None:
        if result.error is None:
            self.state.show_text("The test message was sent to you.", "ok")
        else:
            self.state.show_text(f"The test was not sent: {result.error.message}", "error")

    @Slot()
    def on_queue_requested(self) -> None:
        run, report = self.run(), self._report
        if run is None or report is None:
            return
        if report.problem_count:
            answer = QtWidgets.QMessageBox.question(
                self,
                "Rows with problems",
                f"{report.problem_count} rows have problems and will not be sent. "
                f"Queue the other {report.ready}?",
            )
            if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                return
        source = self._password(run.account)
        if source is not None:
            self.panel.queue(run, report, source, self.connections.value())

    @Slot(object)
    def on_test_failed(self, error: RelayError) -> None:
        self.state.show_text(f"The test was not sent: {error.message} {error.hint}", "error")

    def _start(self, worker: Worker) -> None:
        self._pool.start(worker, name="merge")

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.panel.stop()  # the messages in flight finish; the rest stays queued
        self._pool.shutdown()
        super().closeEvent(event)
