"""The one worker base: a newer job replaces an older one, owners may go away, cancel works.

The jobs here block the way a DNS lookup or a silent server does (a plain blocking wait
that the job cannot interrupt), and the owners are real QObjects and widgets of the app.
"""

from __future__ import annotations

import gc
import threading
import time

import pytest

from app.core.setup.detect import Detection
from app.qt import QObject, QThread, QtWidgets, Signal, Slot
from app.workers import base as workers
from app.workers.base import Worker, WorkerPool
from app.workers.detect_worker import DetectRunner

pytestmark = pytest.mark.gui


class BlockedJob(Worker):
    """Waits for ``release`` (which it cannot be asked to skip), then answers ``name``."""

    answered = Signal(str)

    def __init__(self, name: str, release: threading.Event, *, cancellable: bool = True) -> None:
        super().__init__()
        self.name, self._release, self._cancellable = name, release, cancellable
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        if self._cancellable:
            self.cancelled.set()
            self._release.set()

    def work(self) -> None:
        self._release.wait(10)
        self.answered.emit("cancelled" if self.cancelled.is_set() else self.name)


def alive(name: str) -> list[QThread]:
    """The threads of jobs called ``name`` that have not ended (other tests' are ignored)."""
    return [t for t in workers.running_threads() if t.objectName() == f"job-{name}"]


class Owner(QtWidgets.QWidget):
    """A window that shows the answer of the job it asked for last."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs = WorkerPool(self)
        self.shown: list[str] = []

    def ask(self, job: BlockedJob) -> None:
        job.answered.connect(self.on_job_answered)
        self.jobs.replace(job, name=f"job-{job.name}")

    @Slot(str)
    def on_job_answered(self, answer: str) -> None:
        if self.jobs.is_current(self.sender()):
            self.shown.append(answer)


def test_a_superseded_job_is_not_waited_for_and_its_late_answer_is_ignored(qtbot) -> None:
    owner = Owner()
    qtbot.addWidget(owner)
    first_release, second_release = threading.Event(), threading.Event()
    first = BlockedJob("first", first_release, cancellable=False)  # like a DNS lookup
    owner.ask(first)
    started = time.monotonic()
    owner.ask(BlockedJob("second", second_release))
    assert time.monotonic() - started < 0.5  # the blocked first job was not waited for
    first_release.set()  # the first one answers now, after it was replaced
    qtbot.waitUntil(lambda: not alive("first"))
    second_release.set()
    qtbot.waitUntil(lambda: owner.shown == ["second"], timeout=5000)
    qtbot.wait(50)
    assert owner.shown == ["second"]
    assert workers.wait_for_threads(3000)


def test_an_answer_already_on_its_way_is_dropped_when_a_newer_lookup_starts(qtbot) -> None:
    calls: list[str] = []

    def lookup(address: str) -> Detection:
        calls.append(address)
        return Detection(address, address.rpartition("@")[2], ())

    runner = DetectRunner(lookup)
    found: list[str] = []
    runner.found.connect(lambda address, _detection: found.append(address))
    runner.start("alice@old.example")
    [old] = runner._lookups.workers()  # held, so its queued answer stays deliverable
    thread = runner._lookups.thread_of(old)
    assert thread is not None and thread.wait(5000)  # answered: its signal waits in the queue
    runner.start("alice@new.example")  # the person typed another address meanwhile
    with qtbot.waitSignal(runner.found, timeout=5000) as signal:
        pass
    qtbot.wait(50)
    assert signal.args[0] == "alice@new.example"
    assert found == ["alice@new.example"] and calls == ["alice@old.example", "alice@new.example"]
    assert not runner.running and runner.address == ""


def test_closing_the_owner_while_its_job_blocks_neither_crashes_nor_leaks_the_thread(
    qtbot,
) -> None:
    release = threading.Event()
    owner = Owner()
    owner.show()
    owner.ask(BlockedJob("lookup", release, cancellable=False))
    [thread] = alive("lookup")
    owner.close()
    owner.deleteLater()  # the window goes away while its job still blocks
    qtbot.wait(50)
    del owner
    gc.collect()
    assert thread.isRunning()
    release.set()  # the lookup returns much later; nobody is left to hear it
    qtbot.waitUntil(lambda: thread.isFinished(), timeout=5000)
    qtbot.waitUntil(lambda: not alive("lookup"), timeout=5000)


def test_shutdown_cancels_waits_and_keeps_the_answer_from_the_owner(qtbot) -> None:
    owner = Owner()
    qtbot.addWidget(owner)
    release = threading.Event()
    job = BlockedJob("send", release)
    owner.ask(job)
    started = time.monotonic()
    owner.jobs.shutdown()  # cancel reaches the job, which then ends at once
    assert time.monotonic() - started < 1.0
    assert job.cancelled.is_set() and not owner.jobs.busy
    qtbot.wait(50)
    assert owner.shown == [] and not alive("send")


def test_a_job_that_ignores_cancel_is_waited_for_only_as_long_as_asked(qtbot) -> None:
    owner = Owner()
    qtbot.addWidget(owner)
    release = threading.Event()
    owner.ask(BlockedJob("stuck", release, cancellable=False))
    started = time.monotonic()
    owner.jobs.shutdown(100)
    assert time.monotonic() - started < 1.0 and not owner.jobs.busy
    [thread] = alive("stuck")  # kept until it ends, not collected while running
    release.set()
    assert workers.wait_for_threads(3000) and thread.isFinished()
    qtbot.wait(50)
    assert owner.shown == []


class Counter(QObject):
    """An owner that hears every answer of several jobs running side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs = WorkerPool(self)
        self.answers: list[str] = []

    @Slot(str)
    def on_job_answered(self, answer: str) -> None:
        self.answers.append(answer)


def test_jobs_started_side_by_side_all_answer_and_the_pool_empties(qtbot) -> None:
    counter = Counter()
    release = threading.Event()
    for name in ("a", "b", "c"):
        job = BlockedJob(name, release)
        job.answered.connect(counter.on_job_answered)
        counter.jobs.start(job, name=f"side-{name}")
    assert counter.jobs.busy and len(counter.jobs.workers()) == 3
    release.set()
    qtbot.waitUntil(lambda: not counter.jobs.busy, timeout=5000)
    assert sorted(counter.answers) == ["a", "b", "c"]
