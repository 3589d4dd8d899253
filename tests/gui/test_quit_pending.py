"""Quitting with messages still to send asks first and says what stays unsent."""

from __future__ import annotations

from app.core.delivery import outbox
from app.core.delivery.outbox import State
from app.core.store import Store
from app.qt import QTimer, QtWidgets
from tests.gui.test_main_window import queue


def answer_quit_box(qtbot, button_text: str, seen: list[str]) -> None:
    """Click the button whose text (without &) is ``button_text`` once the box is up."""

    def answer() -> None:
        box = QtWidgets.QApplication.activeModalWidget()
        assert isinstance(box, QtWidgets.QMessageBox)
        seen.append(f"{box.text()}\n{box.informativeText()}")
        [button] = [b for b in box.buttons() if b.text().replace("&", "") == button_text]
        button.click()

    QTimer.singleShot(50, answer)


def test_quit_with_a_retrying_message_asks_and_can_keep_running(qtbot, account, controller) -> None:
    quits: list[bool] = []
    controller._on_quit = lambda: quits.append(True)
    item = queue(controller.store, "Invoice 42")
    outbox.set_state(controller.store, item, State.RETRYING, next_attempt_at=4e9)

    seen: list[str] = []
    answer_quit_box(qtbot, "Keep running (minimised)", seen)
    controller.quit()  # Ctrl+Q
    assert quits == [] and controller.window.isVisible()
    assert "Keep sending in the background?" in seen[0]
    assert "1 message is still in the outbox" in seen[0]
    assert "“Invoice 42”" in seen[0] and "stay unsent until you start" in seen[0]

    answer_quit_box(qtbot, "Cancel", seen)
    controller.on_window_close_requested()  # the window's close button, no tray
    assert quits == []

    answer_quit_box(qtbot, "Quit anyway", seen)
    controller.quit()
    assert quits == [True]
    with Store.open() as store:
        assert outbox.get_item(store, item).state is State.RETRYING  # kept, not lost


def test_quit_with_an_empty_outbox_asks_nothing(qtbot, account, controller) -> None:
    quits: list[bool] = []
    controller._on_quit = lambda: quits.append(True)
    controller.quit()
    assert quits == [True]


def test_send_in_the_background_turns_background_delivery_on_and_quits(
    qtbot, account, controller, monkeypatch, tmp_path
) -> None:
    from app.core.delivery import background

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    quits: list[bool] = []
    controller._on_quit = lambda: quits.append(True)
    item = queue(controller.store, "Invoice 43")
    outbox.set_state(controller.store, item, State.RETRYING, next_attempt_at=4e9)

    seen: list[str] = []
    answer_quit_box(qtbot, "Send in the background and quit", seen)
    controller.quit()
    assert quits == [True]
    assert "unless you let Relaydesk send in the background" in seen[0]
    assert background.status().enabled  # here: the autostart fallback (no systemd user bus)
    with Store.open() as store:
        assert outbox.get_item(store, item).state is State.RETRYING


def test_with_background_delivery_on_quitting_says_the_messages_still_go(
    qtbot, account, controller, monkeypatch, tmp_path
) -> None:
    from app.core.delivery import background

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    background.enable(systemd=False)
    quits: list[bool] = []
    controller._on_quit = lambda: quits.append(True)
    queue(controller.store, "Invoice 44")

    seen: list[str] = []
    answer_quit_box(qtbot, "Quit", seen)
    controller.quit()
    assert quits == [True]
    assert "Background delivery is on" in seen[0]
