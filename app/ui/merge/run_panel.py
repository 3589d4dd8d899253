"""The lower part of the merge window: queue the run, then follow and steer it.

Counts and the expected end come from the outbox (so they include what the
background runner or another process sends); pause holds every waiting
message of the run, resume releases them, cancel stops the rest for good.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.core.accounts.credentials import resolver_with
from app.core.delivery.attempts import SendOptions
from app.core.delivery.merge import batch, progress
from app.core.delivery.merge.plan import CheckReport, MergeRun
from app.core.delivery.merge.send import send_batch
from app.core.delivery.outbox import SendResult
from app.core.delivery.pool import PoolReport
from app.core.errors import RelayError
from app.core.store import Store
from app.qt import QTimer, QtWidgets, Signal, Slot
from app.ui.merge.workers import RunWorker
from app.ui.widgets import StatusLine
from app.workers.base import WorkerPool

FACE = "gui"


@dataclass(frozen=True)
class Typed:
    """The password typed for an "ask" account (None: the worker reads the keyring)."""

    password: str | None


class RunPanel(QtWidgets.QWidget):
    """Progress bar, counts, ETA and the Queue/Pause/Resume/Cancel/Export buttons."""

    queue_requested = Signal()

    def __init__(self, store: Store, open_store: Callable[[], Store], pool: WorkerPool) -> None:
        super().__init__()
        self._store, self._open_store, self._pool = store, open_store, pool
        self.batch_id: int | None = None
        self._runner: RunWorker | None = None
        self._source: Typed | None = None
        self._connections = 1
        self.bar = QtWidgets.QProgressBar()
        self.bar.setAccessibleName("Progress")
        self.state = StatusLine()
        self.queue_button = self._button("&Queue and send", self.queue_requested.emit)
        self.pause_button = self._button("&Pause", self.on_pause_clicked)
        self.resume_button = self._button("&Resume", self.on_resume_clicked)
        self.cancel_button = self._button("Cancel the r&est", self.on_cancel_clicked)
        self.export_button = self._button("E&xport results…", self.on_export_clicked)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.bar, 1)
        for button in (
            self.queue_button,
            self.pause_button,
            self.resume_button,
            self.cancel_button,
            self.export_button,
        ):
            buttons.addWidget(button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state)
        layout.addLayout(buttons)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh)
        self.update_buttons(can_queue=False)

    def _button(self, text: str, slot: Callable[[], None]) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.clicked.connect(slot)
        return button

    @property
    def running(self) -> bool:
        return self._runner is not None

    def update_buttons(self, *, can_queue: bool) -> None:
        waiting = self.batch_id is not None and self._waiting() > 0
        self.queue_button.setEnabled(can_queue and self.batch_id is None)
        self.pause_button.setEnabled(self.running)
        self.resume_button.setEnabled(waiting and not self.running)
        self.cancel_button.setEnabled(waiting)
        self.export_button.setEnabled(self.batch_id is not None)

    def _waiting(self) -> int:
        return progress.progress(self._store, self.batch_id).waiting if self.batch_id else 0

    def queue(self, run: MergeRun, report: CheckReport, source: Typed, connections: int) -> None:
        """Queue every ready row as one run (in one transaction), then start sending it."""
        self._source, self._connections = source, connections
        try:
            queued = batch.queue(
                self._store,
                run,
                name=run.template.subject.source[:60] or "merge",
                face=FACE,
                skip_invalid=True,
            )
        except RelayError as error:
            self.state.show_text(f"{error.message} {error.hint}", "error")
            return
        self.batch_id = queued.batch_id
        self.send()

    def send(self) -> None:
        """Send what is due of the run on a worker thread."""
        if self.batch_id is None or self._source is None:
            return
        batch_id, count, typed = self.batch_id, self._connections, self._source.password
        open_store = self._open_store

        def job(on_result: Callable[[SendResult], None], stop: threading.Event) -> PoolReport:
            with open_store() as store:
                return send_batch(
                    store,
                    batch_id,
                    resolver_with(store, typed),
                    SendOptions(face=FACE),
                    open_store=open_store,
                    count=count,
                    on_result=on_result,
                    stop=stop,
                )

        self._runner = RunWorker(job)
        self._runner.finished.connect(self.on_runner_finished)
        self._runner.failed.connect(self.on_runner_failed)
        self._pool.start(self._runner, name="merge-run")
        self._timer.start()
        self.refresh()
        self.update_buttons(can_queue=False)

    def stop(self) -> None:
        """Let the messages in flight finish and send no more (the rest stays queued)."""
        if self._runner is not None:
            self._runner.cancel()
        self._timer.stop()

    @Slot(object)
    def on_runner_finished(self, report: PoolReport) -> None:
        self._runner = None
        self._timer.stop()
        self.refresh()
        if report.error is not None:
            self.state.show_text(f"{report.error.message} {report.error.hint}", "error")
        elif report.lowered_to is not None:
            self.state.show_text(
                self.state.text() + f" The server took only {report.lowered_to} connections."
            )
        self.update_buttons(can_queue=False)

    @Slot(object)
    def on_runner_failed(self, error: RelayError) -> None:
        self._runner = None
        self._timer.stop()
        self.state.show_text(f"{error.message} {error.hint}", "error")
        self.update_buttons(can_queue=False)

    @Slot()
    def refresh(self) -> None:
        if self.batch_id is None:
            return
        state = progress.progress(self._store, self.batch_id)
        self.bar.setRange(0, max(1, state.total))
        self.bar.setValue(state.done)
        counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(state.counts.items()))
        text = f"{state.done} of {state.total} done ({counts})."
        if state.paused:
            text += " Paused."
        elif state.waiting and state.eta:
            left = max(0.0, state.eta - time.time())
            when = time.strftime(
                "%H:%M" if left < 86400 else "%Y-%m-%d %H:%M", time.localtime(state.eta)
            )
            text += f" About {_duration(left)} left; the last one goes by {when}."
        self.state.show_text(text, "" if state.waiting else "ok")

    @Slot()
    def on_pause_clicked(self) -> None:
        self.stop()
        if self.batch_id is not None:
            progress.pause(self._store, self.batch_id, face=FACE)
        self.refresh()
        self.update_buttons(can_queue=False)

    @Slot()
    def on_resume_clicked(self) -> None:
        if self.batch_id is not None:
            progress.resume(self._store, self.batch_id, face=FACE)
            self.send()

    @Slot()
    def on_cancel_clicked(self) -> None:
        self.stop()
        if self.batch_id is not None:
            progress.cancel_rest(self._store, self.batch_id, face=FACE)
        self.refresh()
        self.update_buttons(can_queue=False)

    @Slot()
    def on_export_clicked(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export results", "merge-results.csv", "CSV files (*.csv)"
        )
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> int:
        """Write the per-row results as CSV; returns the rows written."""
        try:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                written = progress.export_results(self._store, self.batch_id or 0, handle)
        except OSError as error:
            self.state.show_text(f"Cannot write {path}: {error.strerror}.", "error")
            return 0
        self.state.show_text(f"Saved the results of {written} rows to {path}.", "ok")
        return written


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
