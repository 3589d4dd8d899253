"""The mail merge window, driven like a person: files, problems, preview, test, run, export."""

from __future__ import annotations

import csv
import email
from email import policy
from pathlib import Path
from typing import Any

import pytest

from app.core.delivery import connections
from app.core.store import Store
from app.qt import QtCore, QtWidgets
from app.ui.merge.window import MergeWindow
from tests.merge.helpers import add_account, write_list, write_template
from tests.support.fast_server import use_fast_server

ROWS = 60


@pytest.fixture
def window(
    qtbot: Any,
    relaydesk_home: Path,
    tmp_path: Path,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    use_fast_server(monkeypatch, ("PIPELINING", "CHUNKING"))
    server = smtp_server(mode="plain", users=None)
    store = Store.open()
    add_account(store, port=server.port)
    merge = MergeWindow(store)
    qtbot.addWidget(merge)
    merge.show()
    yield merge, server, store
    merge.close()
    store.close()


def test_merge_window_from_list_to_results(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merge, server, store = window
    people = "".join(f"p{n}@example.com,Person {n},{n}\n" for n in range(ROWS))
    listing = write_list(tmp_path, "email,name,order\n" + people + "not-an-address,X,1\n")
    merge.load_template_file(str(write_template(tmp_path)))
    merge.load_list_file(str(listing))
    qtbot.waitUntil(lambda: merge.problems.rowCount() == 1, timeout=10000)
    assert f"{ROWS + 1} rows: {ROWS} ready, 1 with problems" in merge.summary.text()

    # The problem row shows why; a good row shows its own message.
    merge.table.clicked.emit(merge.problems.index(0, 2))
    assert merge.row.value() == ROWS + 2
    assert "not a valid email address" in merge.preview.toPlainText()
    merge.row.setValue(3)  # the second person, as a spreadsheet numbers rows
    assert "Subject: Hello Person 1, order 1" in merge.preview.toPlainText()

    qtbot.mouseClick(merge.test_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(server.messages) == 1, timeout=10000)
    assert server.messages[0].rcpt_tos == ["me@example.com"]
    test = email.message_from_bytes(server.messages[0].data, policy=policy.default)
    assert test["Subject"] == "Hello Person 1, order 1"
    qtbot.waitUntil(lambda: "sent to you" in merge.state.text(), timeout=5000)

    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes
    )
    merge.connections.setValue(3)  # remembered as the account's setting
    assert connections.get_connections(store, "relay") == 3
    qtbot.mouseClick(merge.panel.queue_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not merge.panel.running, timeout=20000)
    assert f"{ROWS} of {ROWS} done ({ROWS} sent)" in merge.state.text()
    assert sorted(m.rcpt_tos[0] for m in server.messages[1:]) == sorted(
        f"p{n}@example.com" for n in range(ROWS)
    )
    assert not merge.panel.cancel_button.isEnabled()

    out = tmp_path / "results.csv"
    assert merge.panel.export_to(str(out)) == ROWS + 1
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[-1]["result"] == "problem" and rows[0]["result"] == "sent"


def test_pause_holds_the_rest_and_resume_sends_it(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merge, server, store = window
    people = "".join(f"p{n}@example.com,Person {n},{n}\n" for n in range(ROWS))
    merge.load_template_file(str(write_template(tmp_path)))
    merge.load_list_file(str(write_list(tmp_path, "email,name,order\n" + people)))
    qtbot.waitUntil(lambda: merge.panel.queue_button.isEnabled(), timeout=10000)
    merge.panel.queue_requested.emit()
    merge.panel.on_pause_clicked()
    qtbot.waitUntil(lambda: not merge.panel.running, timeout=10000)
    held = len(server.messages)
    assert held < ROWS and "Paused." in merge.state.text()
    assert merge.panel.resume_button.isEnabled()
    qtbot.mouseClick(merge.panel.resume_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not merge.panel.running, timeout=20000)
    assert len(server.messages) == ROWS
    assert len({m.rcpt_tos[0] for m in server.messages}) == ROWS


def test_file_menu_opens_the_merge_window(qtbot: Any, controller: Any) -> None:
    menu = controller.window.menuBar().actions()[0].menu()
    action = next(a for a in menu.actions() if a.text() == "Mail &merge…")
    action.trigger()
    merge = controller.window.merge_window
    qtbot.waitUntil(merge.isVisible)
    assert merge.windowTitle() == "Mail merge — Relaydesk"
    action.trigger()  # a second time brings the same window back
    assert controller.window.merge_window is merge
    merge.close()


def test_background_runner_sends_a_big_queue_a_few_at_a_time(
    qtbot: Any, account: Any, server: Any, make_controller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.accounts.model import get_account
    from app.core.delivery.attempts import queue_draft
    from app.core.delivery.message import Draft
    from app.ui.compose.sending import SendService
    from app.ui.outbox.runner import AT_ONCE

    with Store.open() as store:
        for n in range(12):
            draft = Draft(to=(f"r{n}@example.com",), subject=f"n{n}", text="hi")
            queue_draft(store, get_account(store, "work"), draft, face="cli")
    in_flight: list[int] = []
    original = SendService.send_item

    def counting(self: SendService, *args: Any, **kwargs: Any) -> Any:
        in_flight.append(len(self.active_items()))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SendService, "send_item", counting)
    controller = make_controller(run_outbox=True)
    controller.start()
    qtbot.waitUntil(lambda: len(server.messages) == 12, timeout=30_000)
    assert max(in_flight) < AT_ONCE  # never a thread and a connection per queued message
    assert len({m.rcpt_tos[0] for m in server.messages}) == 12
