"""The wizard's test page: live checklist, streamed transcript, diagnosis, save gate."""

from __future__ import annotations

from pathlib import Path

from app.core.accounts.credentials import FixedToken
from app.core.accounts.model import Account
from app.core.errors import Cancelled
from app.core.setup.checks import CHECKS, CheckResult, TestReport
from app.core.setup.fixes import Fix, SignInFix
from app.core.setup.report import write_report
from app.core.smtp.transcript import TranscriptLine
from app.qt import QtCore, QtGui, QtWidgets, Slot
from app.ui.wizard.model import AccountDraft
from app.ui.wizard.widgets import DiagnosisPanel, MessageLabel, success_color
from app.workers.test_worker import TestRunner

_WAITING, _RUNNING = "Waiting", "Running…"


class TestPage(QtWidgets.QWizardPage):
    """Step 4: run the credential test; Finish only after a pass or an explicit "save anyway"."""

    def __init__(self, draft: AccountDraft, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._draft = draft
        self.setTitle("Test the account")
        self.setSubTitle("Relaydesk connects, logs in and checks the sender. No mail is sent.")
        self.setFinalPage(True)
        self.runner = TestRunner(self)
        self.report: TestReport | None = None
        self._account: Account | None = None
        self._password: str | FixedToken | None = None
        self._seconds: dict[str, float] = {}

        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Test status")
        self.checklist = QtWidgets.QTreeWidget()
        self.checklist.setAccessibleName("Test steps")
        self.checklist.setHeaderLabels(["Step", "Result", "Time"])
        self.checklist.setRootIsDecorated(False)
        self.checklist.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.checklist.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self._rows = {}
        for check, label in CHECKS:
            self._rows[check] = QtWidgets.QTreeWidgetItem([label, _WAITING, ""])
            self.checklist.addTopLevelItem(self._rows[check])
        self.checklist.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        rows_height = self.checklist.sizeHintForRow(0) * (len(CHECKS) + 1) + 8
        self.checklist.setFixedHeight(max(rows_height, 120))
        self.diagnosis = DiagnosisPanel()
        self.save_problem = MessageLabel("Saving problem")

        self.stop = QtWidgets.QPushButton("S&top test")
        self.retest = QtWidgets.QPushButton("Test a&gain")
        self.save_report = QtWidgets.QPushButton("Save &report…")
        self.save_report.setToolTip("Write the steps, diagnosis and transcript to a text file.")
        self.save_anyway = QtWidgets.QCheckBox("Save the account &anyway")
        self.save_anyway.setToolTip(
            "Keep these settings although the test did not pass. Sending will probably fail "
            "the same way until the problem above is fixed."
        )
        self.show_transcript = QtWidgets.QToolButton()
        self.show_transcript.setText("Show &transcript")
        self.show_transcript.setCheckable(True)
        self.show_transcript.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.show_transcript.setArrowType(QtCore.Qt.ArrowType.RightArrow)
        self.transcript = QtWidgets.QPlainTextEdit()
        self.transcript.setReadOnly(True)
        self.transcript.setAccessibleName("SMTP transcript, passwords redacted")
        self.transcript.setFont(
            QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        )
        self.transcript.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.transcript.setMinimumHeight(120)
        self.transcript.hide()

        buttons = QtWidgets.QHBoxLayout()
        for button in (self.stop, self.retest, self.save_report):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_anyway)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.checklist)
        layout.addWidget(self.diagnosis)
        layout.addWidget(self.save_problem)
        layout.addLayout(buttons)
        layout.addWidget(self.show_transcript, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.transcript, 1)
        layout.addStretch(0)

        self.runner.line.connect(self.on_runner_line)
        self.runner.check.connect(self.on_runner_check)
        self.runner.finished.connect(self.on_runner_finished)
        self.stop.clicked.connect(self.on_stop_clicked)
        self.retest.clicked.connect(self.on_retest_clicked)
        self.save_report.clicked.connect(self.on_save_report_clicked)
        self.save_anyway.toggled.connect(self.completeChanged)
        self.show_transcript.toggled.connect(self.on_show_transcript_toggled)
        self.diagnosis.fix_requested.connect(self.on_fix_requested)

    # -- running ----------------------------------------------------------------

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        self._account = self._draft.build_account()
        self._password = self._draft.password()
        self.start_test()

    def cleanupPage(self) -> None:  # noqa: N802 - Qt override (Back pressed)
        self.stop_test()
        self._password = None

    def start_test(self) -> None:
        if self._account is None or self.runner.running:
            return
        account = self._account
        self.report = None
        self._seconds.clear()
        for row in self._rows.values():
            row.setText(1, _WAITING)
            row.setText(2, "")
            row.setIcon(0, QtGui.QIcon())
        self._mark_running()
        self.transcript.clear()
        self.diagnosis.clear()
        self.save_problem.clear_problem()
        self.save_anyway.setChecked(False)
        self.save_anyway.hide()
        login = f"signing in as {account.username}" if account.username else "no sign-in"
        self.status.setText(
            f"Testing {account.email} via {account.host}:{account.port} "
            f"({account.security.value.upper()}, {login})…"
        )
        self.status.setStyleSheet("")
        self._set_running(True)
        self.runner.start(account, self._password, self._draft.test_timeouts)

    def stop_test(self, wait_ms: int = 2000) -> None:
        """Stop a running test now (wizard closing or Back)."""
        if self.runner.running:
            self.runner.shutdown(wait_ms)
            self._set_running(False)
            self.status.setText("The test was stopped.")

    def _set_running(self, running: bool) -> None:
        self.stop.setEnabled(running)
        self.retest.setEnabled(not running)
        self.save_report.setEnabled(not running and self.report is not None)
        self.completeChanged.emit()

    def _mark_running(self) -> None:
        for row in self._rows.values():
            if row.text(1) == _WAITING:
                row.setText(1, _RUNNING)
                return

    def validatePage(self) -> bool:  # noqa: N802 - Qt override (Finish pressed)
        return self.isComplete() and self._draft.save()

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        if self.runner.running or self.report is None:
            return False
        return self.report.ok or self.save_anyway.isChecked()

    # -- slots ------------------------------------------------------------------

    @Slot(object)
    def on_runner_line(self, line: TranscriptLine) -> None:
        self.transcript.appendPlainText(line.render())
        # Appending scrolls to the end of a long line; a reader starts at the left.
        self.transcript.horizontalScrollBar().setValue(0)

    @Slot(object)
    def on_runner_check(self, result: CheckResult) -> None:
        row = self._rows[result.check]
        self._seconds[result.check] = self._seconds.get(result.check, 0.0) + result.seconds
        row.setText(1, "OK" if result.ok else "Failed")
        row.setText(2, f"{self._seconds[result.check] * 1000:.0f} ms")
        row.setToolTip(1, result.detail)
        pixmap = (
            QtWidgets.QStyle.StandardPixmap.SP_DialogApplyButton
            if result.ok
            else QtWidgets.QStyle.StandardPixmap.SP_MessageBoxCritical
        )
        row.setIcon(0, self.style().standardIcon(pixmap))
        if result.ok:
            self._mark_running()

    @Slot(object)
    def on_runner_finished(self, report: TestReport) -> None:
        self.report = report
        cancelled = isinstance(report.error, Cancelled)
        for row in self._rows.values():
            if row.text(1) in (_WAITING, _RUNNING):
                row.setText(
                    1, "Skipped" if report.ok else ("Stopped" if cancelled else "Not reached")
                )
        if report.ok:
            self.status.setText(self._passed_text(report.account))
            self.status.setStyleSheet(f"color: {success_color(self)}; font-weight: bold")
        elif cancelled:
            self.status.setText("The test was stopped. Press “Test again” to run it again.")
        elif report.error is not None:
            self.status.setText("The test did not pass.")
            self.diagnosis.show_error(report.error)
        self.save_anyway.setVisible(not report.ok)
        self._set_running(False)
        self._draft.record_test(report)

    @staticmethod
    def _passed_text(account: Account) -> str:
        if account.username:
            return "It works: you are signed in and the server accepts your address as sender."
        return "It works: the server accepts mail from your address without signing in."

    @Slot()
    def on_stop_clicked(self) -> None:
        self.status.setText("Stopping…")
        self.runner.cancel()

    @Slot()
    def on_retest_clicked(self) -> None:
        self.start_test()

    @Slot(object)
    def on_fix_requested(self, fix: Fix) -> None:
        self._draft.apply_fix(fix)
        if isinstance(fix, SignInFix):
            return  # the wizard went back to sign in; the test runs again after it
        self._account = self._draft.build_account()
        self.start_test()

    @Slot(bool)
    def on_show_transcript_toggled(self, shown: bool) -> None:
        self.transcript.setVisible(shown)
        self.show_transcript.setText("Hide &transcript" if shown else "Show &transcript")
        self.show_transcript.setArrowType(
            QtCore.Qt.ArrowType.DownArrow if shown else QtCore.Qt.ArrowType.RightArrow
        )

    @Slot()
    def on_save_report_clicked(self) -> None:
        if self.report is None:
            return
        suggested = str(Path.home() / f"relaydesk-test-{self.report.account.name}.txt")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save test report", suggested, "Text files (*.txt)"
        )
        if path:
            self.write_report(Path(path))

    def write_report(self, path: Path) -> None:
        assert self.report is not None
        try:
            write_report(self.report, path, hide=_secrets(self._draft.password()))
        except OSError as error:
            self.save_problem.show_problem(
                f"The report could not be written to {path}: {error.strerror}.",
                "Choose another folder.",
            )


def _secrets(password: str | FixedToken | None) -> list[str]:
    """What a report must blank: the typed password, or a fresh sign-in's access token."""
    if isinstance(password, FixedToken):
        return [password.token()]
    return [password] if password else []
