"""merge: 10,000-row runs checked and queued; the outbox with 10,000 items waiting.

Memory is Python's own allocation peak (tracemalloc) while checking and queueing,
for 1,000 and 10,000 rows: it should not grow with the rows (the messages go to
SQLite as they are made). The outbox figures are what `outbox list`, the status
bar and the Outbox view do with 10,000 queued items.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery import outbox
from app.core.delivery.merge import batch
from app.core.delivery.merge.plan import MergeRun, check
from app.core.delivery.merge.recipients import open_csv
from app.core.delivery.merge.template import parse_template
from app.core.paths import Paths
from app.core.store import Store

TEMPLATE = (
    "To: {{name}} <{{email}}>\r\nSubject: Your order {{order}}, {{name}}\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    + "Dear {{name|customer}},\r\nyour order {{order}} has shipped. Grüße!\r\n"
    * 8
).encode()


def _list(folder: Path, rows: int) -> Path:
    path = folder / f"list-{rows}.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name,order\n")
        for n in range(rows):
            handle.write(f"person{n}@example{n % 50}.com,Person {n},{100000 + n}\n")
    return path


def _queue(folder: Path, rows: int) -> tuple[float, float, float]:
    """(seconds to check, seconds to check+queue in one transaction, peak MiB).

    The peak is Python's allocations during a check (tracemalloc; it renders every
    row as queueing does), measured apart from the timings it would slow down.
    """
    home = folder / f"home-{rows}"
    paths = Paths(config=home, data=home, state=home)
    with Store.open(paths) as store:
        account = Account(
            name="m", email="me@example.com", host="127.0.0.1", port=25, security=Security.NONE
        )
        accounts.add_account(store, account)
        listing = open_csv(_list(folder, rows))
        run = MergeRun(parse_template(TEMPLATE), listing.rows, listing.columns, account)
        started = time.monotonic()
        report = check(run)
        checked = time.monotonic() - started
        assert report.ready == rows, report.problems[:1]
        started = time.monotonic()
        queued = batch.queue(store, run, name="bench", face="cli")
        elapsed = time.monotonic() - started
        assert queued.queued == rows
        tracemalloc.start()
        check(run)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return checked, elapsed, peak


def _outbox(folder: Path) -> list[str]:
    home = folder / "home-10000"
    paths = Paths(config=home, data=home, state=home)
    lines = []
    with Store.open(paths) as store:
        for label, call in (
            ("status bar: count_by_state", lambda: outbox.count_by_state(store)),
            ("due_items (what the runner wakes for)", lambda: outbox.due_items(store)),
            ("outbox list: list_items (all 10,000, full)", lambda: outbox.list_items(store)),
        ):
            started = time.monotonic()
            call()
            lines.append(f"{label:44} {(time.monotonic() - started) * 1000:8.1f} ms")
    os.environ["RELAYDESK_HOME"] = str(home)
    lines.append(_outbox_view(paths))
    return lines


def _outbox_view(paths: Paths) -> str:
    from app.qt import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from app.ui.outbox.view import OutboxView

    with Store.open(paths) as store:
        started = time.monotonic()
        view = OutboxView(store)
        view.show()
        app.processEvents()
        elapsed = time.monotonic() - started
        view.close()
    return f"{'Outbox view: construct, show, first paint':44} {elapsed * 1000:8.1f} ms"


def run() -> list[str]:
    lines = [f"{'rows':>7} {'check':>8} {'check+queue (1 txn)':>20} {'peak Python heap':>17}"]
    lines.append("(check+queue = what `relaydesk merge` does: every row checked, all or nothing)")
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-merge-") as tmp:
        folder = Path(tmp)
        for rows in (1_000, 10_000):
            checked, queued, peak = _queue(folder, rows)
            lines.append(f"{rows:>7,} {checked:7.2f}s {queued:19.2f}s {peak:13.1f} MiB")
        lines.append("with 10,000 items queued:")
        lines += _outbox(folder)
    lines.append(
        "targets: 10,000 rows checked and queued < 5 s, memory flat in the rows; "
        "outbox list, status bar and Outbox view responsive"
    )
    return lines
