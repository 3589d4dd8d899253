"""Where the cursor starts, and how the compose window behaves (issue 15, defect 7)."""

from __future__ import annotations

from app.core.smtp.transcript import TranscriptLine
from app.qt import QtGui
from app.ui.wizard import test_page as wizard_test_page
from app.ui.wizard.window import AccountWizard


def test_quick_send_starts_on_the_recipient(qtbot, account, controller) -> None:
    controller.handle_message("quick-send")
    dialog = controller.quick_send
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.to.edit


def test_mailto_puts_the_cursor_in_the_message_text(qtbot, account, controller) -> None:
    controller.handle_message("mailto:bob@example.com?subject=Hello&body=Dear%20Bob")
    [window] = controller.compose_windows
    qtbot.waitExposed(window)
    editor = window.form.body.editor
    assert window.focusWidget() is editor
    assert editor.textCursor().position() == 0


def test_compose_window_closes_after_sending(qtbot, account, server, controller) -> None:
    window = controller.open_compose()
    form = window.form
    assert window.focusWidget() is form.to.edit
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    qtbot.keyClicks(form.subject, "Done")
    with qtbot.waitSignal(form.finished, timeout=10_000):
        form.send_button.click()
    assert len(server.messages) == 1
    assert not window.isVisible()


def test_escape_and_ctrl_w_close_an_empty_compose_window(qtbot, account, controller) -> None:
    for keys in ("Ctrl+W", "Esc"):
        window = controller.open_compose()
        qtbot.waitExposed(window)
        sequence = QtGui.QKeySequence(keys)[0]
        qtbot.keyClick(window.form.to.edit, sequence.key(), sequence.keyboardModifiers())
        assert not window.isVisible(), keys


def test_compose_window_fits_the_screen(qtbot, account, controller) -> None:
    window = controller.open_compose()
    free = window.screen().availableGeometry()
    frame = window.frameGeometry()
    assert free.contains(frame), (free, frame)


def test_transcript_starts_at_the_left_edge(qtbot, relaydesk_home) -> None:
    wizard = AccountWizard()
    qtbot.addWidget(wizard)
    page = wizard_test_page.TestPage(wizard)
    qtbot.addWidget(page)
    page.transcript.show()
    page.resize(400, 300)
    page.show()
    long_reply = "250-" + "x" * 400
    for _ in range(3):
        page.on_runner_line(TranscriptLine(0.0, "S", long_reply))
    assert page.transcript.horizontalScrollBar().maximum() > 0
    assert page.transcript.horizontalScrollBar().value() == 0
