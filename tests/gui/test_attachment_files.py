"""The compose window attaches regular files only, checked by the same core rule as the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from app.qt import Qt
from tests.gui.test_compose import fill


def test_devices_and_fifos_are_refused_with_the_reason(qtbot, account, controller, tmp_path: Path):
    form = controller.window.compose
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    problems = form.attachments.add_paths([Path("/dev/zero"), fifo])
    assert problems == [
        "“/dev/zero” is not a regular file (it is a device, pipe or socket).",
        f"“{fifo}” is not a regular file (it is a device, pipe or socket).",
    ]
    assert form.attachments.list.count() == 0


def test_a_file_swapped_for_a_fifo_before_send_fails_instead_of_hanging(
    qtbot, account, server, controller, tmp_path: Path
) -> None:
    form = controller.window.compose
    fill(qtbot, form, "bob@example.com", "Report", "attached")
    report = tmp_path / "report.csv"
    report.write_text("a,b\n")
    assert form.attachments.add_paths([report]) == []
    report.unlink()
    os.mkfifo(report)  # now opening it for reading would block until a writer comes

    qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not a regular file" in form.status.text(), timeout=10_000)
    assert server.messages == []
