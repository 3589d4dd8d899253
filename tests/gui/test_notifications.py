"""Notifications through the desktop's notification service, with no tray at all."""

from __future__ import annotations

from app.core import settings
from app.qt import Qt


def test_sent_message_is_announced_without_a_tray_and_click_opens_it(
    qtbot, account, server, controller, notification_daemon
) -> None:
    assert not controller.tray.available  # offscreen: no tray, as on stock GNOME
    assert controller.notifications.available
    form = controller.window.compose
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    qtbot.keyClicks(form.subject, "Minutes")
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: len(notification_daemon.received()) == 1, timeout=5000)
    [shown] = notification_daemon.received()
    assert shown["signature"] == "susssasa{sv}i"  # what a real daemon insists on
    assert shown["summary"] == "Message sent"
    assert shown["body"] == "Sent to bob@example.com."
    assert "250" not in shown["body"]
    assert shown["actions"] == ["default", "Open"]
    assert shown["hints"]["desktop-entry"] == "io.github.relaydesk.Relaydesk"

    controller.window.show_page(0)
    qtbot.waitUntil(lambda: shown["id"] in controller.notifications._targets, timeout=2000)
    with qtbot.waitSignal(controller.notifications.clicked, timeout=5000):
        notification_daemon.click(shown["id"])
    assert controller.window.stack.currentWidget() is controller.window.history
    history = controller.window.history
    assert history.table.currentIndex().row() == 0
    assert "Minutes" in history.details.toPlainText()


def test_notifications_can_be_switched_off(
    qtbot, account, server, controller, notification_daemon
) -> None:
    settings.put(controller.store, "notifications", False)
    form = controller.window.compose
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    assert notification_daemon.received() == []
    assert "Message sent" in controller.window.statusBar().currentMessage()


def test_without_a_notification_service_the_status_bar_says_it(
    qtbot, account, server, controller
) -> None:
    form = controller.window.compose
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    assert "Message sent" in controller.window.statusBar().currentMessage()
