"""Settings → Tool callers: edit a caller's send_email policy through the widgets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.accounts import model as accounts
from app.core.accounts.model import Account
from app.core.agents import policy
from app.core.agents.policy import Policy
from app.core.store import Store
from app.qt import Qt, QtWidgets
from app.ui.settings.dialog import SettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def store(relaydesk_home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        for name in ("work", "home"):
            accounts.add_account(
                opened, Account(name=name, email=f"{name}@example.com", host="h.example", port=587)
            )
        yield opened


@pytest.fixture
def dialog(qtbot, store: Store) -> SettingsDialog:
    policy.set_policy(store, Policy(caller="cron-reports"), face="cli")
    opened = SettingsDialog(store)
    qtbot.addWidget(opened)
    opened.show()
    qtbot.waitExposed(opened)
    opened.tabs.setCurrentWidget(opened.policies)
    return opened


def retype(qtbot, field: QtWidgets.QWidget, text: str) -> None:
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def toggle(qtbot, box: QtWidgets.QCheckBox) -> None:
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)


def press_ok(qtbot, dialog: SettingsDialog) -> None:
    box = dialog.findChild(QtWidgets.QDialogButtonBox)
    ok = box.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_edit_a_new_caller_and_read_it_back(
    qtbot, dialog: SettingsDialog, store: Store, tmp_path: Path, monkeypatch
) -> None:
    page = dialog.policies
    assert [page.callers.item(i).text() for i in range(page.callers.count())] == ["cron-reports"]
    qtbot.keyClicks(page.new_caller, "claude")
    qtbot.mouseClick(page.add, Qt.MouseButton.LeftButton)
    assert page.callers.currentItem().text() == "claude"
    assert "claude" in page.rules.title()

    toggle(qtbot, page.any_account)
    assert page.accounts.isEnabled()
    home = page.accounts.findItems("home", Qt.MatchFlag.MatchExactly)[0]
    home.setCheckState(Qt.CheckState.Checked)
    toggle(qtbot, page.any_recipient)
    qtbot.keyClicks(page.recipients, "example.org")
    qtbot.keyClick(page.recipients, Qt.Key.Key_Return)
    qtbot.keyClicks(page.recipients, "boss@example.net")
    retype(qtbot, page.per_hour, "5")
    retype(qtbot, page.per_day, "40")
    retype(qtbot, page.max_size, "2.5")
    reports = tmp_path / "reports"
    reports.mkdir()
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(reports)
    )
    qtbot.mouseClick(page.add_folder, Qt.MouseButton.LeftButton)
    assert page.folders.count() == 1

    page.callers.setCurrentRow(0)  # look at another caller; the edits are kept
    page.callers.setCurrentRow(1)
    assert page.recipients.toPlainText() == "example.org\nboss@example.net"
    press_ok(qtbot, dialog)

    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    assert policy.get_policy(store, "claude") == Policy(
        caller="claude",
        accounts=("home",),
        recipients=("example.org", "boss@example.net"),
        per_hour=5,
        per_day=40,
        max_attachment_size=2_500_000,
        attachment_dirs=(str(reports.resolve()),),
    )
    assert policy.get_policy(store, "cron-reports") == Policy(caller="cron-reports")
    actions = [(r["face"], r["action"], r["detail"]) for r in store.audit_rows()]
    assert ("gui", "policy_set", {"caller": "claude"}) in actions
    assert ("gui", "policy_set", {"caller": "cron-reports"}) not in actions  # unchanged


def test_no_limit_and_remove(qtbot, dialog: SettingsDialog, store: Store) -> None:
    page = dialog.policies
    assert page.per_hour.value() == 20 and page.per_hour.text() == "20"
    page.per_day.setValue(page.per_day.minimum())
    assert page.per_day.text() == "No limit"
    press_ok(qtbot, dialog)
    assert policy.get_policy(store, "cron-reports").per_day is None

    again = SettingsDialog(store)
    qtbot.addWidget(again)
    again.show()
    again.tabs.setCurrentWidget(again.policies)
    assert again.policies.per_day.text() == "No limit"
    qtbot.mouseClick(again.policies.remove, Qt.MouseButton.LeftButton)
    assert again.policies.callers.count() == 0 and again.policies.empty.isVisible()
    press_ok(qtbot, again)
    assert policy.list_policies(store) == []


def test_a_bad_rule_is_shown_and_nothing_is_saved(
    qtbot, dialog: SettingsDialog, store: Store
) -> None:
    page = dialog.policies
    toggle(qtbot, page.any_recipient)
    qtbot.keyClicks(page.recipients, "not an address@@")
    press_ok(qtbot, dialog)
    assert dialog.isVisible()  # still open, showing why
    assert page.error.isVisible() and "cron-reports" in page.error.text()
    assert policy.get_policy(store, "cron-reports") == Policy(caller="cron-reports")


def test_a_bad_caller_id_is_refused(qtbot, dialog: SettingsDialog) -> None:
    page = dialog.policies
    qtbot.keyClicks(page.new_caller, "no spaces please")
    qtbot.keyClick(page.new_caller, Qt.Key.Key_Return)
    assert page.callers.count() == 1 and dialog.isVisible()  # Enter did not press OK
    assert page.error.isVisible() and "caller id" in page.error.text()
