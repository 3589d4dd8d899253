"""Compose like a person: type, attach, press Send, see the result; the server gets it."""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

from app.core.delivery import outbox
from app.core.delivery.outbox import State
from app.core.store import Store
from app.qt import Qt, QtWidgets
from tests.gui.conftest import make_account, make_relay_account
from tests.gui.test_quit_pending import answer_quit_box


def fill(qtbot, form, to: str, subject: str, text: str) -> None:
    qtbot.keyClicks(form.to.edit, to)
    qtbot.keyClicks(form.subject, subject)
    qtbot.keyClicks(form.body.editor, text)


def test_compose_send_arrives_and_appears_in_history(
    qtbot, account, server, controller, tmp_path: Path
) -> None:
    form = controller.window.compose
    fill(qtbot, form, "bob@example.com", "Quarterly report", "Hello Bob")
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 " + b"x" * 30_000)
    assert form.attachments.add_paths([report]) == []
    assert "report.pdf — 30 kB" in form.attachments.list.item(0).text()

    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
        assert form.progress.isVisible() and form.cancel_button.isVisible()

    [received] = server.messages
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["Subject"] == "Quarterly report"
    assert received.rcpt_tos == ["bob@example.com"]
    assert [part.get_filename() for part in message.iter_attachments()] == ["report.pdf"]
    assert form.status.text().startswith("Sent to bob@example.com")
    assert not form.has_content()  # ready for the next message; closing asks nothing

    history = controller.window.history
    assert history.model.rowCount() == 1
    assert history.model.entry(0).subject == "Quarterly report"
    history.table.selectRow(0)
    assert "250" in history.details.toPlainText()
    assert controller.window.outbox_status.text() == "Outbox empty"


def test_invalid_address_disables_send_and_says_why(qtbot, account, controller) -> None:
    form = controller.window.compose
    assert not form.send_button.isEnabled()
    assert form.send_button.toolTip() == "Add at least one recipient."

    qtbot.keyClicks(form.to.edit, "b")
    assert not form.send_button.isEnabled()
    assert not form.to.reason.isVisible()  # one keystroke is not a mistake yet
    qtbot.keyClicks(form.to.edit, "ob@example.com, carol@@example")
    assert not form.to.reason.isVisible() and form.to.edit.styleSheet() == ""
    assert "carol@@example" in form.send_button.toolTip()
    form.to.edit.editingFinished.emit()  # the person leaves the field (Tab, click elsewhere)
    assert not form.send_button.isEnabled()
    assert form.to.reason.isVisible()
    assert "carol@@example" in form.to.reason.text()
    assert "border" in form.to.edit.styleSheet()

    form.to.edit.clear()
    qtbot.keyClicks(form.to.edit, "bob@example.com, carol@example.com")
    assert form.send_button.isEnabled()
    assert not form.to.reason.isVisible()
    assert form.to.edit.styleSheet() == ""


def test_attachment_over_known_size_warns_before_sending(
    qtbot, relaydesk_home, secret_service, smtp_server, make_controller, tmp_path: Path
) -> None:
    small = smtp_server(mode="starttls", data_size_limit=20_000)
    make_account(small)
    controller = make_controller()
    controller.start()
    page = controller.window.accounts
    page.table.selectRow(0)
    with qtbot.waitSignal(page.tests.finished, timeout=10_000):
        qtbot.mouseClick(page.test, Qt.MouseButton.LeftButton)
    assert "works" in page.status.text()  # the test learned SIZE=20000
    controller.window.compose.reload_accounts()

    form = controller.window.compose
    fill(qtbot, form, "bob@example.com", "Photos", "see attached")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff" * 25_000)
    form.attachments.add_paths([photo])
    assert form.attachments.warning.isVisible()
    assert "at most 20 kB" in form.attachments.warning.text()

    qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    box = form.findChild(QtWidgets.QMessageBox, "oversize-warning")
    assert box is not None and box.isVisible()
    assert "accepts at most 20 kB" in box.text()
    box.button(QtWidgets.QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(50)
    assert small.messages == [] and not form.sending
    assert outbox.count_by_state(controller.store) == {}


def test_html_mode_sends_multipart_alternative(qtbot, account, server, controller) -> None:
    form = controller.window.compose
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    qtbot.mouseClick(form.body.rich, Qt.MouseButton.LeftButton)
    form.body.editor.setFocus()
    qtbot.keyClick(form.body.editor, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(form.body.editor, "bold news")
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.keyClick(form.to.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    message = email.message_from_bytes(server.messages[0].data, policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "font-weight" in html and "bold news" in html
    assert "bold news" in message.get_body(preferencelist=("plain",)).get_content()


def test_quit_during_send_keeps_the_message_queued(
    qtbot, relaydesk_home, scripted_server, make_controller
) -> None:
    def silent(conn) -> None:  # accepts, never greets: the send hangs before any data
        conn.recv(1024)

    make_relay_account(*scripted_server(silent))
    controller = make_controller()
    controller.start()
    form = controller.window.compose
    fill(qtbot, form, "bob@example.com", "Unsent", "wait")
    with qtbot.waitSignal(controller.service.outbox_changed, timeout=5_000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    started = time.monotonic()
    answer_quit_box(qtbot, "Quit anyway", seen := [])
    controller.quit()  # asks nothing about the draft being sent, only about the outbox
    assert "1 message is still in the outbox" in seen[0]
    assert time.monotonic() - started < 5
    assert not controller.service.busy
    qtbot.wait(300)  # whatever the stopped send said last must not reach the closed form
    with Store.open() as store:
        [item] = outbox.list_items(store)
    assert item.state is State.QUEUED  # will go out at the next start
