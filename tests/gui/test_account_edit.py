"""Editing an account from the Accounts page: the wizard prefilled, re-tested, then updated."""

from __future__ import annotations

from dataclasses import replace

import keyring
import pytest

from app.core.accounts import model as accounts
from app.core.accounts import secrets
from app.core.accounts.model import Account, PasswordMode
from app.core.store import Store
from app.qt import Qt, QtWidgets
from app.ui.wizard.window import AccountWizard
from app.workers import base as workers
from tests.support.probing import closed_port
from tests.support.smtp_servers import USERS, RunningServer

pytestmark = [pytest.mark.gui, pytest.mark.keyring]

LOGIN = "alice@example.test"
Button = QtWidgets.QWizard.WizardButton


def click(qtbot, widget: QtWidgets.QAbstractButton) -> None:
    assert widget.isEnabled(), f"{widget.text()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def retype(qtbot, field: QtWidgets.QWidget, text: str) -> None:
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def stored(name: str = "work") -> Account:
    with Store.open() as store:
        return accounts.get_account(store, name)


def store_with(account: Account) -> None:
    with Store.open() as store:
        accounts.update_account(store, account)


def open_edit(qtbot, controller) -> AccountWizard:
    """Select the only account and press Edit…, like a person."""
    page = controller.window.accounts
    controller.window.show_page(3)
    page.table.selectRow(0)
    click(qtbot, page.edit)
    wizard = page.wizard
    assert isinstance(wizard, AccountWizard)
    qtbot.waitExposed(wizard)
    return wizard


def run_test(qtbot, wizard: AccountWizard) -> None:
    """From the password page: Next starts the live test; wait for its report."""
    assert wizard.currentPage() is wizard.password_page
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        click(qtbot, wizard.button(Button.NextButton))


def back_to_server_page(qtbot, wizard: AccountWizard) -> None:
    click(qtbot, wizard.button(Button.BackButton))
    click(qtbot, wizard.button(Button.BackButton))
    assert wizard.currentPage() is wizard.server_page


@pytest.fixture
def wrong_port(account: Account) -> Account:
    """The stored account points at a port where nothing listens."""
    broken = replace(account, port=closed_port())
    store_with(broken)
    return broken


def test_fix_a_wrong_port_keeps_the_stored_password(
    qtbot, server: RunningServer, wrong_port: Account, controller
) -> None:
    wizard = open_edit(qtbot, controller)
    address = wizard.address_page
    assert wizard.windowTitle().startswith("Edit account “work”")
    assert address.email.text() == "alice@example.com"
    assert address.from_name.text() == "Alice Example"
    assert address.account_name.text() == "work" and address.account_name.isReadOnly()

    click(qtbot, wizard.button(Button.NextButton))
    servers = wizard.server_page
    assert (servers.host.text(), servers.port.value()) == (server.host, wrong_port.port)
    assert servers.username.text() == LOGIN and servers.ca_file.text() == str(server.ca_file)
    assert not servers.found.isVisible()  # no lookup for a stored account

    click(qtbot, wizard.button(Button.NextButton))
    password = wizard.password_page
    assert password.password.text() == "" and password.store_keyring.isChecked()
    assert "keep the current password" in password.password.placeholderText()
    run_test(qtbot, wizard)
    test_page = wizard.test_page
    assert test_page.report is not None and test_page.report.error is not None
    assert test_page.report.error.code == "connection_refused"
    assert not wizard.button(Button.FinishButton).isEnabled()

    back_to_server_page(qtbot, wizard)
    retype(qtbot, servers.port, str(server.port))
    click(qtbot, wizard.button(Button.NextButton))
    run_test(qtbot, wizard)
    assert test_page.report is not None and test_page.report.ok, test_page.report.error
    with qtbot.waitSignal(wizard.account_saved, timeout=5000) as saved:
        click(qtbot, wizard.button(Button.FinishButton))

    assert saved.args == ["work"]
    assert stored() == replace(wrong_port, port=server.port)
    assert keyring.get_password("relaydesk", "work") == USERS[LOGIN]
    assert f"{server.host}:{server.port}" in controller.window.accounts.table.item(0, 2).text()
    with Store.open() as store:
        [row] = [r for r in store.audit_rows() if r["action"] == "account_edit"]
    assert (row["face"], row["account"], row["outcome"]) == ("gui", "work", "ok")
    assert row["detail"]["port"] == server.port and row["detail"]["password"] == "kept"
    assert row["detail"]["tested"] is True
    assert workers.wait_for_threads(2000)


def test_a_new_password_replaces_the_stored_one(
    qtbot, server: RunningServer, account: Account, controller
) -> None:
    secrets.store_password("work", "an old password")
    wizard = open_edit(qtbot, controller)
    click(qtbot, wizard.button(Button.NextButton))
    click(qtbot, wizard.button(Button.NextButton))
    run_test(qtbot, wizard)  # with the kept (old) password: refused
    assert wizard.test_page.report is not None
    assert wizard.test_page.report.error is not None
    assert LOGIN in wizard.test_page.diagnosis.message.text() + (
        wizard.test_page.diagnosis.hint.text()
    )

    click(qtbot, wizard.button(Button.BackButton))
    qtbot.keyClicks(wizard.password_page.password, USERS[LOGIN])
    run_test(qtbot, wizard)
    assert wizard.test_page.report is not None and wizard.test_page.report.ok
    with qtbot.waitSignal(wizard.account_saved, timeout=5000):
        click(qtbot, wizard.button(Button.FinishButton))
    assert keyring.get_password("relaydesk", "work") == USERS[LOGIN]
    assert stored() == account
    assert wizard.password_page.password.text() == ""  # not kept in the closed window


def test_ask_each_time_account_stays_so(
    qtbot, server: RunningServer, account: Account, controller
) -> None:
    store_with(replace(account, password_mode=PasswordMode.ASK))
    secrets.delete_password("work")
    wizard = open_edit(qtbot, controller)
    retype(qtbot, wizard.address_page.from_name, "Alice at Work")
    click(qtbot, wizard.button(Button.NextButton))
    click(qtbot, wizard.button(Button.NextButton))
    password = wizard.password_page
    assert password.ask_each_time.isChecked()
    assert not wizard.button(Button.NextButton).isEnabled()  # nothing stored to test with
    qtbot.keyClicks(password.password, USERS[LOGIN])
    run_test(qtbot, wizard)
    assert wizard.test_page.report is not None and wizard.test_page.report.ok
    with qtbot.waitSignal(wizard.account_saved, timeout=5000):
        click(qtbot, wizard.button(Button.FinishButton))
    edited = stored()
    assert edited.password_mode is PasswordMode.ASK and edited.from_name == "Alice at Work"
    assert keyring.get_password("relaydesk", "work") is None


def test_cancel_changes_nothing(qtbot, account: Account, controller) -> None:
    wizard = open_edit(qtbot, controller)
    click(qtbot, wizard.button(Button.NextButton))
    retype(qtbot, wizard.server_page.host, "smtp.elsewhere.test")
    click(qtbot, wizard.button(Button.CancelButton))
    assert stored() == account
    with Store.open() as store:
        assert not [r for r in store.audit_rows() if r["action"] == "account_edit"]


def test_edit_needs_a_selection(qtbot, account: Account, controller) -> None:
    page = controller.window.accounts
    page.table.clearSelection()
    assert not page.edit.isEnabled()
    page.table.selectRow(0)
    assert page.edit.isEnabled()
