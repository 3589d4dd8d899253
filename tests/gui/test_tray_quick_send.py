"""Tray fallback, quick send through the same path, mailto:, pause."""

from __future__ import annotations

import email
import email.policy

from app.core.delivery import outbox
from app.core.delivery.outbox import State
from app.qt import Qt
from app.ui.tray import NO_TRAY_MESSAGE


def test_without_a_tray_the_app_says_so_and_stays_a_window(qtbot, controller) -> None:
    assert not controller.tray.available  # offscreen has no system tray
    assert controller.window.statusBar().currentMessage() == NO_TRAY_MESSAGE
    assert controller.window.isVisible()
    controller.on_window_close_requested()  # close quits (no tray to close to)
    assert not controller.window.isVisible()


def test_quick_send_sends_through_the_same_path(
    qtbot, account, server, controller, tmp_path
) -> None:
    controller.handle_message("quick-send")
    dialog = controller.quick_send
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert dialog.account.currentData() == "work"
    assert not dialog.send_button.isEnabled()
    qtbot.keyClicks(dialog.to.edit, "bob@example.com")
    qtbot.keyClicks(dialog.subject, "Quick one")
    qtbot.keyClicks(dialog.text, "Lunch?")
    note = tmp_path / "note.txt"
    note.write_text("hello")
    dialog.attach([note])
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    message = email.message_from_bytes(server.messages[0].data, policy=email.policy.default)
    assert message["Subject"] == "Quick one"
    assert [p.get_filename() for p in message.iter_attachments()] == ["note.txt"]
    assert dialog.status.text().startswith("Sent to bob@example.com at ")
    assert controller.window.history.model.rowCount() == 1
    # Without a tray the notification goes to the status bar.
    assert "Message sent" in controller.window.statusBar().currentMessage()


def test_mailto_opens_a_prefilled_compose(qtbot, account, controller) -> None:
    controller.handle_message("mailto:bob@example.com?cc=carol@example.com&subject=Hello%20there")
    [window] = controller.compose_windows
    assert window.form.to.text() == "bob@example.com"
    assert window.form.cc.text() == "carol@example.com"
    assert window.form.subject.text() == "Hello there"
    assert window.form.send_button.isEnabled()


def test_paused_sending_only_queues(qtbot, account, server, controller) -> None:
    controller.tray.pause_action.trigger()  # the tray menu's "Pause sending"
    assert controller.service.paused
    assert controller.window.outbox_status.text().endswith("sending paused")
    form = controller.window.compose
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    with qtbot.waitSignal(controller.service.outbox_changed, timeout=5000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.service.busy, timeout=5000)
    assert server.messages == []
    assert [i.state for i in outbox.list_items(controller.store)] == [State.QUEUED]
    assert "paused" in form.status.text()


def test_mailto_fields_that_were_dropped_are_shown(qtbot, account, controller) -> None:
    controller.handle_message(
        "mailto:bob@example.com?subject=Hi&from=ceo@example.com&X-Priority=1&attach=/etc/passwd"
    )
    [window] = controller.compose_windows
    assert window.form.to.text() == "bob@example.com" and window.form.subject.text() == "Hi"
    note = window.form.status.text()
    assert window.form.status.isVisible()
    assert "from, x-priority, attach" in note and "Relaydesk left that out" in note
    assert window.form.attachments.list.count() == 0
