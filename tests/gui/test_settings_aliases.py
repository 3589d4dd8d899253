"""Settings → the aliases file and the local recipient: checked, saved, audited."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core import settings
from app.core.store import Store
from app.qt import Qt, QtWidgets
from app.ui.settings.dialog import SettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def store(relaydesk_home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        yield opened


def open_dialog(qtbot, store: Store) -> SettingsDialog:
    dialog = SettingsDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def type_into(qtbot, dialog: SettingsDialog, key: str, text: str) -> None:
    line = dialog._editors[key]
    assert isinstance(line, QtWidgets.QLineEdit)
    line.setFocus()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Delete)
    qtbot.keyClicks(line, text)


def press_ok(qtbot, dialog: SettingsDialog) -> None:
    ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_aliases_settings_are_checked_saved_and_audited(
    qtbot, store: Store, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, store)
    type_into(qtbot, dialog, "aliases_file", str(tmp_path / "missing"))
    press_ok(qtbot, dialog)
    assert dialog.isVisible()  # refused: the dialog stays, saying why
    assert "cannot be read" in dialog._error.text()
    assert settings.get(store, "aliases_file") == ""
    if os.environ.get("RELAYDESK_SCREENSHOTS"):
        dialog.grab().save(os.environ["RELAYDESK_SCREENSHOTS"] + "/settings-aliases-bad.png")

    aliases = tmp_path / "aliases"
    aliases.write_text("root: ops@corp.local\n")
    type_into(qtbot, dialog, "aliases_file", str(aliases))
    type_into(qtbot, dialog, "local_recipient", "admin@nas.home.arpa")
    press_ok(qtbot, dialog)
    assert not dialog.isVisible()
    assert settings.get(store, "aliases_file") == str(aliases)
    assert settings.get(store, "local_recipient") == "admin@nas.home.arpa"
    changes = [r["detail"] for r in store.audit_rows() if r["action"] == "setting_change"]
    assert {c["key"] for c in changes} == {"aliases_file", "local_recipient"}
    assert all(r["face"] == "gui" for r in store.audit_rows() if r["action"] == "setting_change")
