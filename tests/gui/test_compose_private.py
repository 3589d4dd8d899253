"""Issue 13: private-network addresses are accepted in Compose, with a quiet note."""

from __future__ import annotations

import os

from app.qt import Qt


def test_private_addresses_get_a_note_and_are_sent(qtbot, account, server, controller) -> None:
    form = controller.window.compose
    qtbot.keyClicks(form.to.edit, "ops@corp.local, root@localhost; nas@home.arpa")
    qtbot.keyClicks(form.subject, "Backup done")
    qtbot.keyClicks(form.body.editor, "All good")

    assert form.send_button.isEnabled()  # never blocked
    assert form.to.error is None and form.to.edit.styleSheet() == ""
    assert form.to.reason.isVisible()
    assert form.to.reason.text() == (
        "corp.local, home.arpa, localhost: only reachable inside a private network."
    )
    if os.environ.get("RELAYDESK_SCREENSHOTS"):
        controller.window.grab().save(os.environ["RELAYDESK_SCREENSHOTS"] + "/compose-private.png")

    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    [received] = server.messages
    assert sorted(received.rcpt_tos) == ["nas@home.arpa", "ops@corp.local", "root@localhost"]
