"""One instance per user: a second launch hands its request to the first and exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.core.paths import default_paths
from app.ui.application import message_for
from app.ui.single_instance import SingleInstance

ROOT = Path(__file__).resolve().parents[2]


def test_second_instance_forwards_activate(qtbot, relaydesk_home) -> None:
    state = default_paths().state
    first, second = SingleInstance(state), SingleInstance(state)
    try:
        assert first.claim()
        assert not second.claim()  # the lock is held by a live process
        with qtbot.waitSignal(first.message_received, timeout=3000) as received:
            assert second.send("activate")
        assert received.args == ["activate"]
    finally:
        first.release()
        second.release()
    third = SingleInstance(state)
    assert third.claim()  # released locks can be taken again
    third.release()


def test_launch_arguments_become_messages() -> None:
    assert message_for([]) == "activate"
    assert message_for(["--quick-send"]) == "quick-send"
    assert message_for(["mailto:bob@example.com?subject=Hi"]) == "mailto:bob@example.com?subject=Hi"


def test_quick_send_from_a_second_process_opens_in_the_first(
    qtbot, relaydesk_home, controller
) -> None:
    instance = SingleInstance(default_paths().state)
    assert instance.claim()
    instance.message_received.connect(controller.handle_message)
    env = {**os.environ, "RELAYDESK_HOME": str(relaydesk_home), "QT_QPA_PLATFORM": "offscreen"}
    try:
        second = subprocess.Popen(
            [sys.executable, "-m", "app", "--quick-send"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        qtbot.waitUntil(
            lambda: controller.quick_send is not None and controller.quick_send.isVisible(),
            timeout=15_000,
        )
        out, err = second.communicate(timeout=15)
        assert second.returncode == 0, err.decode()
        assert controller.quick_send.windowTitle() == "Quick send — Relaydesk"
    finally:
        instance.release()
