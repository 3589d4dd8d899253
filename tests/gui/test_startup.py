"""Issue 9: the window frame is painted first; the pages and the outbox runner follow."""

from __future__ import annotations

from app.core.accounts.model import get_account
from app.core.delivery.attempts import queue_draft
from app.core.delivery.message import Draft
from app.core.store import Store


def test_frame_paints_first_then_pages_and_runner_follow(
    qtbot, account, server, make_controller
) -> None:
    with Store.open() as store:
        draft = Draft(to=("bob@example.com",), subject="queued before launch", text="hi")
        queue_draft(store, get_account(store, "work"), draft, face="cli")
    controller = make_controller(run_outbox=True, paint_first=True)
    controller.start()
    window = controller.window
    assert window.isVisible() and window.windowTitle() == "Relaydesk"
    assert not controller.ready and window.stack.count() == 0  # nothing heavy before the paint
    qtbot.waitUntil(lambda: controller.ready, timeout=5000)
    assert window.stack.currentWidget() is window.compose
    assert not window.sidebar.item(2).icon().isNull()
    qtbot.waitUntil(lambda: bool(server.messages), timeout=10_000)  # the runner started
    assert [m.rcpt_tos for m in server.messages] == [["bob@example.com"]]
    qtbot.waitUntil(lambda: window.outbox_status.text() == "Outbox empty", timeout=5000)


def test_a_request_before_the_pages_exist_finishes_startup(qtbot, account, make_controller) -> None:
    controller = make_controller(paint_first=True)
    controller.start()
    controller.handle_message("quick-send")  # a second launch, while the pages still load
    assert controller.ready
    assert controller.quick_send is not None and controller.quick_send.isVisible()
    assert controller.quick_send.account.currentData() == "work"


def test_a_section_chosen_before_the_pages_exist_is_kept(qtbot, make_controller) -> None:
    controller = make_controller(paint_first=True)
    controller.start()
    controller.window.show_page(1)
    controller.finish_startup()
    assert controller.window.stack.currentWidget() is controller.window.history


def test_start_in_the_tray_does_not_wait_for_a_paint(qtbot, make_controller) -> None:
    controller = make_controller(paint_first=True)
    controller.window.showMinimized()  # like a start minimised without a tray
    controller.start("minimised")
    assert controller.ready
