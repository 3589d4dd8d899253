"""history: 1,000,000 sent messages; search time and opening the History view."""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.delivery import history
from app.core.paths import Paths
from app.core.store import Store

ROWS = 1_000_000
RUNS = 7
FIRST = "anna ben carla david emma felix greta hugo ida jonas klara lukas mia noah olga".split()
LAST = "meyer schmidt garcia rossi novak dubois jensen kowalski silva tanaka okafor".split()
COMPANIES = "acme globex initech umbrella hooli vandelay stark wayne tyrell cyberdyne".split()
TOPICS = (
    "Invoice|Quarterly report|Meeting notes|Contract draft|Project update|Offer|Travel plans"
    "|Budget review|Photos from the trip|Weekly summary|Support request|Order confirmation"
).split("|")
DETAILS = (
    "for March|for April|(revised)|- please review|final version|for the board"
    "|with attachments|from the workshop|and next steps|"
).split("|")
SENDERS = ("alice@example.com", "alice.work@company.example", "alice@club.example")


def _contacts(rng: random.Random) -> list[str]:
    domains = [f"{c}{n}.{tld}" for c in COMPANIES for n in range(15) for tld in ("com", "de")]
    return [
        f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randrange(100)}@{rng.choice(domains)}"
        for _ in range(3000)
    ]


def fill(store: Store, rows: int = ROWS) -> list[str]:
    """Insert ``rows`` varied history rows (bulk SQL, search_text as history.record builds it)."""
    rng = random.Random(2026)
    contacts = _contacts(rng)
    now = time.time()

    def row(i: int) -> tuple[Any, ...]:
        to = rng.sample(contacts, rng.choice((1, 1, 1, 2, 3)))
        subject = f"{rng.choice(('', 'Re: ', 'Fwd: '))}{rng.choice(TOPICS)} {rng.choice(DETAILS)}"
        if i % 400 == 0:
            subject += " Orion"  # a project name in 0.25 % of the mail
        sender = "alice@oldjob.example" if i < rows // 30 else rng.choice(SENDERS)
        recipients = [{"address": a, "status": "accepted", "reply": "250 2.0.0 OK"} for a in to]
        search_text = " ".join([subject, sender, *to]).casefold()
        return (
            i,
            "work",
            f"<{i}.{rng.randrange(10**9)}@example.com>",
            subject,
            sender,
            json.dumps(recipients),
            search_text,
            "250 2.0.0 OK queued",
            20_000,
            now - rows + i,
        )

    with store.transaction() as db:
        db.executemany(
            "INSERT INTO history (outbox_id, account, message_id, subject, envelope_from,"
            " recipients, search_text, final_reply, size, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row(i) for i in range(rows)),
        )
    return contacts


def _median_ms(call: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def plain_like(store: Store, query: str) -> list[Any]:
    """The peer: a plain SELECT … LIKE over every row, newest first, first 50."""
    words = query.casefold().split()
    clause = " AND ".join("search_text LIKE ?" for _ in words)
    return store.execute(
        f"SELECT * FROM history WHERE {clause} ORDER BY sent_at DESC, id DESC LIMIT 50",
        tuple(f"%{w}%" for w in words),
    ).fetchall()


def open_view(store: Store) -> float:
    """Seconds from constructing the History view to its first painted page."""
    from app.qt import QtCore
    from app.ui.history.model import PAGE
    from app.ui.history.view import HistoryView
    from bench.gui import wait_until

    painted: list[bool] = []

    class PaintSpy(QtCore.QObject):
        def eventFilter(self, _watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt override
            if event.type() == QtCore.QEvent.Type.Paint:
                painted.append(True)
            return False

    spy = PaintSpy()
    started = time.perf_counter()
    view = HistoryView(store)
    view.table.viewport().installEventFilter(spy)
    view.resize(900, 600)
    view.show()
    shown = wait_until(lambda: bool(painted), 10)
    elapsed = time.perf_counter() - started
    assert shown and view.model.rowCount() == PAGE, "the first page was not shown"
    view.close()
    view.deleteLater()
    return elapsed


def run() -> list[str]:
    from bench.gui import application, warm_up

    lines = [f"{ROWS:,} history rows; median of {RUNS} runs (ms); search = first 50, newest first"]
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
        home = Path(tmp)
        paths = Paths(config=home / "config", data=home / "data", state=home / "state")
        with Store.open(paths) as store:
            contacts = fill(store)
            address = contacts[7]
            queries = {
                "word, rare": "orion",
                "word, common": "invoice",
                "two words": "budget march",
                "recipient address": address,
                "part of an address": address.split("@")[0].split(".")[1],
                "only in old mail": "oldjob",
                "no match": "zebra",
            }
            lines.append(
                f"{'query':20} {'text':28} {'matches':>7} {'search':>7} {'count':>7} "
                f"{'plain LIKE':>10}"
            )
            for label, query in queries.items():
                searched, _ = _median_ms(lambda q=query: history.search(store, q))  # type: ignore[misc]
                counted, total = _median_ms(lambda q=query: history.count(store, q))  # type: ignore[misc]
                peer, _ = _median_ms(lambda q=query: plain_like(store, q))  # type: ignore[misc]
                lines.append(
                    f"{label:20} {query[:28]:28} {total:7} {searched:7.1f} {counted:7.1f} "
                    f"{peer:10.1f}"
                )
            application()
            warm_up()
            opened = statistics.median(open_view(store) * 1000 for _ in range(RUNS))
            lines.append(
                f"open History view (construct, show, first page painted): {opened:.0f} ms"
            )
    lines.append("targets: search <= 50 ms; opening the History view <= 200 ms")
    return lines
