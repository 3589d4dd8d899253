"""The main window: sections by keyboard, outbox status bar, outbox actions, accounts."""

from __future__ import annotations

import keyring

from app.core.accounts.model import get_account
from app.core.delivery import outbox
from app.core.delivery.attempts import queue_draft
from app.core.delivery.message import Draft
from app.core.delivery.outbox import State
from app.core.errors import RecipientRefused
from app.qt import Qt, QtWidgets
from tests.gui.conftest import make_account


def queue(store, subject: str) -> int:
    draft = Draft(to=("bob@example.com",), subject=subject, text="hi")
    return queue_draft(store, get_account(store, "work"), draft, face="gui")


def test_sections_are_keyboard_reachable(qtbot, account, controller) -> None:
    window = controller.window
    assert window.windowTitle() == "Relaydesk"
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.history
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.accounts
    window.sidebar.setFocus()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Up)
    assert window.stack.currentWidget() is window.outbox
    for field in (window.compose.to.edit, window.compose.subject, window.compose.body.editor):
        assert field.accessibleName()


def test_status_bar_and_outbox_view_show_what_the_store_holds(qtbot, account, controller) -> None:
    store = controller.store
    _, _, third = (queue(store, f"m{i}") for i in range(3))
    outbox.set_state(store, third, State.RETRYING, next_attempt_at=4e9)
    failed = queue(store, "refused one")
    error = RecipientRefused("The server refused bob@example.com.", hint="Check the address.")
    outbox.set_state(store, failed, State.FAILED, error=error)
    controller.service.outbox_changed.emit()
    assert controller.window.outbox_status.text() == "2 waiting, 1 retrying, 1 not sent"

    view = controller.window.outbox
    assert view.table.rowCount() == 4
    row = [view.table.item(r, 2).text() for r in range(4)].index("refused one")
    assert view.table.item(row, 0).text() == "Not sent"
    assert view.table.item(row, 4).text() == "The server refused bob@example.com."
    view.table.selectRow(row)
    assert "Check the address." in view.detail.text()

    answer_next_question(qtbot, "&Discard message")
    qtbot.mouseClick(view.discard, Qt.MouseButton.LeftButton)
    assert view.table.rowCount() == 3
    assert controller.window.outbox_status.text() == "2 waiting, 1 retrying"


def answer_next_question(qtbot, text: str) -> None:
    """Answer the next modal question box as a person would: the button named ``text``."""

    def answer() -> None:
        box = QtWidgets.QApplication.activeModalWidget()
        assert isinstance(box, QtWidgets.QMessageBox)
        [button] = [b for b in box.buttons() if b.text() == text]
        button.click()

    from app.qt import QTimer

    QTimer.singleShot(50, answer)


def test_remove_account_deletes_its_keyring_entry(qtbot, account, controller) -> None:
    page = controller.window.accounts
    assert keyring.get_password("relaydesk", "work") is not None
    page.table.selectRow(0)
    answer_next_question(qtbot, "&Remove account")
    qtbot.mouseClick(page.remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.table.rowCount() == 0)  # the keyring is written on a worker
    assert not page.empty.isHidden()
    assert keyring.get_password("relaydesk", "work") is None
    assert controller.window.compose.account.count() == 0
    assert (
        controller.window.compose.send_button.toolTip()
        == "Add account first: Accounts → Add account…"
    )


def test_default_account_and_send_again_from_history(
    qtbot, account, smtp_server, server, controller
) -> None:
    make_account(smtp_server(mode="starttls"), name="home")
    page = controller.window.accounts
    page.reload()
    page.table.selectRow(1)
    qtbot.mouseClick(page.default, Qt.MouseButton.LeftButton)
    assert page.table.item(1, 4).text() == "★ default"

    form = controller.window.compose
    form.reload_accounts()
    form.account.setCurrentIndex(form.account.findData("work"))
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    qtbot.keyClicks(form.cc.edit, "carol@example.com")
    qtbot.keyClicks(form.subject, "Minutes")
    qtbot.keyClicks(form.body.editor, "See you")
    form.subject.setFocus()
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.keyClick(form.subject, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    history = controller.window.history
    history.table.selectRow(0)
    qtbot.mouseClick(history.again, Qt.MouseButton.LeftButton)
    [window] = controller.compose_windows
    again = window.form
    assert again.account.currentData() == "work"
    assert again.to.text() == "bob@example.com" and again.cc.text() == "carol@example.com"
    assert again.subject.text() == "Minutes"
    assert again.body.editor.toPlainText().strip() == "See you"
    assert window.windowTitle() == "Minutes — Relaydesk"


def test_outbox_runner_sends_what_the_cli_queued(qtbot, account, server, make_controller) -> None:
    from app.core.store import Store

    with Store.open() as store:
        queue(store, "queued by a script")
    controller = make_controller(run_outbox=True)
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        controller.start()
    assert [m.rcpt_tos for m in server.messages] == [["bob@example.com"]]
    qtbot.waitUntil(lambda: controller.window.outbox_status.text() == "Outbox empty")
    assert controller.window.history.model.rowCount() == 1
