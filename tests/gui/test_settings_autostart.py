"""Settings → Start at login writes (and removes) the XDG autostart entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.store import Store
from app.qt import Qt, QtWidgets
from app.ui.settings.dialog import START_AT_LOGIN, SettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def store(relaydesk_home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        yield opened


def toggle_start_at_login(qtbot, store: Store) -> None:
    dialog = SettingsDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    box = dialog._editors[START_AT_LOGIN]
    assert isinstance(box, QtWidgets.QCheckBox)
    was = box.isChecked()
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() is not was
    qtbot.mouseClick(
        dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok),
        Qt.MouseButton.LeftButton,
    )
    assert not dialog.isVisible()


def test_start_at_login_writes_and_removes_the_autostart_entry(
    qtbot, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    entry = config / "autostart" / "io.github.relaydesk.Relaydesk.desktop"

    toggle_start_at_login(qtbot, store)
    assert "Exec=relaydesk --minimised" in entry.read_text(encoding="utf-8")

    toggle_start_at_login(qtbot, store)
    assert not entry.exists()
