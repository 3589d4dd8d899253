"""Settings → Send in the background turns background delivery on and off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.delivery import background
from app.core.store import Store
from app.qt import Qt, QtWidgets
from app.ui.settings.dialog import BACKGROUND_SENDING, SettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def store(relaydesk_home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        yield opened


def toggle(qtbot, store: Store, screenshot: Path | None = None) -> None:
    dialog = SettingsDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    box = dialog._editors[BACKGROUND_SENDING]
    assert isinstance(box, QtWidgets.QCheckBox)
    was = box.isChecked()
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() is not was
    if screenshot is not None:
        dialog.grab().save(str(screenshot))
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert not dialog.isVisible()


def test_background_row_turns_delivery_on_and_off(
    qtbot, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setattr(background, "has_systemd_user", lambda: False)  # as on this machine
    shot = (
        Path(os.environ["RELAYDESK_SCREENSHOT"]) if "RELAYDESK_SCREENSHOT" in os.environ else None
    )

    toggle(qtbot, store, shot)
    status = background.status()
    assert status.enabled and status.mode == "autostart"
    assert "--minimised" in status.units[0].read_text(encoding="utf-8")

    toggle(qtbot, store)
    assert not background.status().enabled
