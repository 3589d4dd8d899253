"""History stays fast with 100,000 rows: first page only, paging on scroll, debounced search."""

from __future__ import annotations

import json
import time

from app.core.store import Store
from app.qt import Qt
from app.ui.history.model import PAGE
from app.ui.history.view import HistoryView

ROWS = 100_000


def fill_history(store: Store, rows: int = ROWS) -> None:
    now = time.time()

    def row(i: int) -> tuple:
        to = "needle@example.org" if i % 1000 == 0 else f"user{i}@example.com"
        subject = f"Invoice {i}"
        recipients = json.dumps([{"address": to, "status": "accepted", "reply": "250 OK"}])
        search = f"{subject} alice@example.com {to}".casefold()
        return (
            i,
            "work",
            f"<{i}@example.com>",
            subject,
            "alice@example.com",
            recipients,
            search,
            "250 OK queued",
            1234,
            now - (rows - i),
        )

    with store.transaction() as db:
        db.executemany(
            "INSERT INTO history (outbox_id, account, message_id, subject, envelope_from,"
            " recipients, search_text, final_reply, size, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row(i) for i in range(rows)),
        )


def test_hundred_thousand_rows_load_lazily_and_search(qtbot, relaydesk_home) -> None:
    with Store.open() as filler:
        fill_history(filler)
    store = Store.open()
    try:
        started = time.perf_counter()
        view = HistoryView(store)
        qtbot.addWidget(view)
        view.resize(900, 600)
        view.show()
        qtbot.waitExposed(view)
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, f"first page took {elapsed:.2f}s"
        assert view.model.rowCount() == PAGE  # only one page is in memory
        assert view.model.entry(0).subject == f"Invoice {ROWS - 1}"  # newest first
        assert view.count.text() == "100,000 sent"

        view.table.scrollToBottom()  # the view asks the model for the next page
        qtbot.waitUntil(lambda: view.model.rowCount() >= 2 * PAGE, timeout=2000)

        qtbot.keyClicks(view.search, "needle")
        qtbot.waitUntil(lambda: view.count.text() == "100 match", timeout=2000)
        assert view.model.rowCount() == 100
        assert all("needle" in view.model.data(view.model.index(r, 1)) for r in range(100))

        view.table.selectRow(0)
        details = view.details.toPlainText()
        assert "needle@example.org: accepted" in details and "250 OK queued" in details
        assert view.again.isEnabled()
        with qtbot.waitSignal(view.send_again) as sent_again:
            qtbot.mouseClick(view.again, Qt.MouseButton.LeftButton)
        assert sent_again.args == [view.model.entry(0).id]
    finally:
        store.close()
