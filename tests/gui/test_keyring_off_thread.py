"""The window never waits for the keyring: every account flow, driven like a person.

On GNOME the first keyring access may pop an "unlock keyring" prompt, and a Secret
Service that does not answer holds a D-Bus call for 25 s; on the GUI thread either
freezes the window. ``keyring_guard`` (tests/gui/conftest.py, autouse) fails any GUI test
in which window code calls the keyring on the GUI thread; these tests drive each flow
that stores, reads or deletes a secret and check that the keyring *was* reached — on a
worker — so the guard cannot pass by accident. The Secret Service is real
(gnome-keyring on a private D-Bus); only a person's answer to an unlock prompt is
played by the guard's ``slow`` hook.
"""

from __future__ import annotations

import os
import sys
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import SecretService as SecretServiceBackend

from app.core.accounts import model as accounts
from app.core.accounts.changes import create_account
from app.core.accounts.model import PasswordMode
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.store import Store
from app.qt import Qt, QTimer, QtWidgets
from app.ui.wizard.window import AccountWizard
from tests.gui.test_setup import finds, type_in
from tests.gui.test_signin_panel import _settings
from tests.gui.test_wizard import LOGIN, fill_address, fill_server, run_test_page
from tests.support.keyring_guard import KeyringGuard
from tests.support.oauth_server import RunningAuthServer, start_auth_server, write_browser
from tests.support.secret_service import SecretService, start_secret_service
from tests.support.smtp_servers import USERS, RunningServer

pytestmark = pytest.mark.gui
SHOTS = os.environ.get("RELAYDESK_SHOTS")  # a folder: save a screenshot of each state
Button = QtWidgets.QWizard.WizardButton


def _shot(widget: QtWidgets.QWidget, name: str) -> None:
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / f"keyring-{name}.png"))


@pytest.fixture
def wizard(qtbot, relaydesk_home: Path, secret_service) -> Iterator[AccountWizard]:
    dialog = AccountWizard()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    yield dialog
    dialog.reject()


def to_finish(qtbot, wizard: AccountWizard, server: RunningServer) -> None:
    """Address, server and password typed; the live test passed; Finish has the focus."""
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    run_test_page(qtbot, wizard, USERS[LOGIN])
    assert wizard.test_page.report is not None and wizard.test_page.report.ok
    assert wizard.password_page.keeps_in_keyring()
    wizard.button(Button.FinishButton).setFocus()


def press_enter(qtbot, wizard: AccountWizard) -> None:
    qtbot.keyClick(wizard.focusWidget() or wizard, Qt.Key.Key_Return)


def stored_names() -> list[str]:
    with Store.open() as store:
        return [account.name for account, _ in accounts.list_accounts(store)]


def test_wizard_save_writes_the_keyring_on_a_worker(
    qtbot, wizard: AccountWizard, server: RunningServer, keyring_guard: KeyringGuard
) -> None:
    to_finish(qtbot, wizard, server)
    with qtbot.waitSignal(wizard.account_saved, timeout=10_000) as saved:
        press_enter(qtbot, wizard)
    assert saved.args == ["work"]
    qtbot.waitUntil(lambda: not wizard.isVisible())
    assert keyring.get_password("relaydesk", "work") == USERS[LOGIN]
    assert keyring_guard.off_thread("set_password"), "the password never reached the keyring"


def test_while_saving_the_wizard_says_so_and_stays_responsive(
    qtbot, wizard: AccountWizard, server: RunningServer, keyring_guard: KeyringGuard
) -> None:
    to_finish(qtbot, wizard, server)
    unlocked = threading.Event()  # the person has not yet answered the unlock prompt
    keyring_guard.slow = lambda function: unlocked.wait(10) if function == "set_password" else None
    press_enter(qtbot, wizard)
    finish = wizard.button(Button.FinishButton)
    qtbot.waitUntil(lambda: finish.text() == "Saving…")
    assert not finish.isEnabled() and not wizard.button(Button.BackButton).isEnabled()
    assert not wizard.button(Button.CancelButton).isEnabled()
    note = wizard.test_page.save_problem
    assert note.isVisible() and "unlock the keyring" in note.text()
    _shot(wizard, "1-wizard-saving")

    ticks: list[int] = []  # the event loop runs: timers fire, the window repaints
    timer = QTimer(wizard)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=2000)
    timer.stop()
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # closing now would hide the outcome
    assert wizard.isVisible() and stored_names() in ([], ["work"])

    with qtbot.waitSignal(wizard.account_saved, timeout=10_000):
        unlocked.set()
    qtbot.waitUntil(lambda: not wizard.isVisible())
    assert keyring.get_password("relaydesk", "work") == USERS[LOGIN]


def test_until_the_keyring_answers_the_password_page_offers_it_and_says_so(
    qtbot, wizard: AccountWizard, server: RunningServer, keyring_guard: KeyringGuard
) -> None:
    answering = threading.Event()
    keyring_guard.slow = lambda function: answering.wait(10) if function == "get_keyring" else None
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    page = wizard.password_page
    assert (
        page.keyring_note.isVisible() and "Checking the system keyring" in page.keyring_note.text()
    )
    assert page.store_keyring.isEnabled() and page.store_keyring.isChecked()
    assert page.ask_each_time.isEnabled()  # the other choice is there at once
    _shot(wizard, "0-password-page-checking")
    answering.set()
    qtbot.waitUntil(lambda: not page.keyring_note.isVisible())
    assert page.store_keyring.isChecked()


def test_a_dismissed_unlock_prompt_keeps_everything_typed(
    qtbot, wizard: AccountWizard, server: RunningServer, keyring_guard: KeyringGuard
) -> None:
    to_finish(qtbot, wizard, server)

    def dismissed(function: str) -> None:
        if function == "set_password":  # what keyring raises when the prompt is dismissed
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    keyring_guard.slow = dismissed
    press_enter(qtbot, wizard)
    problem = wizard.test_page.save_problem
    qtbot.waitUntil(lambda: "keyring is locked" in problem.text())
    assert "unlock the keyring when your desktop asks" in problem.text()
    assert wizard.isVisible() and wizard.currentPage() is wizard.test_page
    assert wizard.password_page.password.text() == USERS[LOGIN]  # nothing lost
    assert stored_names() == []  # the half-made account was rolled back
    finish = wizard.button(Button.FinishButton)
    assert finish.isEnabled() and finish.text() == "&Save account"
    _shot(wizard, "2-wizard-keyring-failed")

    keyring_guard.slow = None  # unlocked this time
    finish.setFocus()
    with qtbot.waitSignal(wizard.account_saved, timeout=10_000):
        press_enter(qtbot, wizard)
    assert keyring.get_password("relaydesk", "work") == USERS[LOGIN]


@pytest.fixture
def stoppable_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """A real Secret Service the test may stop halfway."""
    previous = keyring.get_keyring()
    keyring.set_keyring(SecretServiceBackend.Keyring())
    service = start_secret_service()
    for name, value in service.env.items():
        monkeypatch.setenv(name, value)
    try:
        yield service
    finally:
        service.stop()
        keyring.set_keyring(previous)


def test_a_secret_service_that_went_away_is_explained(
    qtbot, relaydesk_home: Path, server: RunningServer, stoppable_keyring: SecretService
) -> None:
    dialog = AccountWizard()
    qtbot.addWidget(dialog)
    dialog.show()
    to_finish(qtbot, dialog, server)
    stoppable_keyring.stop()  # the desktop's keyring daemon quit (or crashed)
    press_enter(qtbot, dialog)
    problem = dialog.test_page.save_problem
    qtbot.waitUntil(lambda: "Saving" not in problem.text())
    assert "No usable system keyring was found (FileNotFoundError)" in problem.text()
    assert "Start your desktop" in problem.text()
    assert dialog.isVisible() and dialog.password_page.password.text() == USERS[LOGIN]
    assert stored_names() == []
    dialog.reject()


def test_one_page_setup_saves_on_a_worker(
    qtbot, relaydesk_home: Path, server, secret_service, keyring_guard: KeyringGuard
) -> None:
    from app.ui.wizard.setup_dialog import SetupDialog

    dialog = SetupDialog(detector=finds(server))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.manual_toggle.click()
    qtbot.keyClicks(dialog.manual.ca_file, str(server.ca_file))
    type_in(qtbot, dialog, "Alice", "alice@corp.example.com", USERS[LOGIN])
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    unlocked = threading.Event()
    keyring_guard.slow = lambda function: unlocked.wait(10) if function == "set_password" else None
    qtbot.keyClick(dialog.primary, Qt.Key.Key_Return)  # Done
    qtbot.waitUntil(lambda: dialog.primary.text() == "Saving…")
    assert not dialog.primary.isEnabled() and not dialog.cancel_button.isEnabled()
    assert "unlock the keyring" in dialog.status.text()
    _shot(dialog, "3-setup-saving")
    with qtbot.waitSignal(dialog.account_saved, timeout=10_000) as saved:
        unlocked.set()
    assert saved.args == ["corp"]
    assert keyring.get_password("relaydesk", "corp") == USERS[LOGIN]
    assert not dialog.isVisible()
    assert keyring_guard.off_thread("set_password")
    with Store.open() as store:
        assert accounts.get_account(store, "corp").password_mode is PasswordMode.KEYRING
        rows = [row for row in store.audit_rows() if row["action"] == "account_add"]
    assert len(rows) == 1 and rows[0]["face"] == "gui"


def test_one_page_setup_keeps_what_was_typed_when_the_keyring_stays_locked(
    qtbot, relaydesk_home: Path, server, secret_service, keyring_guard: KeyringGuard
) -> None:
    from app.ui.wizard.setup_dialog import SetupDialog

    dialog = SetupDialog(detector=finds(server))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.manual_toggle.click()
    qtbot.keyClicks(dialog.manual.ca_file, str(server.ca_file))
    dialog.manual_toggle.click()
    type_in(qtbot, dialog, "Alice", "alice@corp.example.com", USERS[LOGIN])
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    def dismissed(function: str) -> None:
        if function == "set_password":
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    keyring_guard.slow = dismissed
    qtbot.keyClick(dialog.primary, Qt.Key.Key_Return)  # Done
    qtbot.waitUntil(dialog.save_problem.isVisible)
    assert "keyring is locked" in dialog.save_problem.text()
    assert dialog.status.text() == "The account was not saved."
    assert dialog.isVisible() and dialog.password.text() == USERS[LOGIN]
    assert dialog.primary.isEnabled() and dialog.primary.text() == "&Done"
    assert stored_names() == []
    _shot(dialog, "4-setup-keyring-failed")


def test_one_page_setup_without_a_keyring_offers_ask_each_time_at_once(
    qtbot, relaydesk_home: Path, no_keyring, keyring_guard: KeyringGuard
) -> None:
    from app.ui.wizard.setup_dialog import SetupDialog

    dialog = SetupDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.keyring_note.isVisible, timeout=2000)
    assert "ask for the password each time" in dialog.keyring_note.text()
    assert keyring_guard.off_thread("get_keyring")  # the question went to a worker


def test_edit_with_a_new_password_and_remove_use_a_worker(
    qtbot, account, server, controller, keyring_guard: KeyringGuard
) -> None:
    from tests.gui.test_account_edit import open_edit, run_test
    from tests.gui.test_main_window import answer_next_question

    keyring.set_password("relaydesk", "work", "an old password")
    wizard = open_edit(qtbot, controller)
    wizard.button(Button.NextButton).click()
    wizard.button(Button.NextButton).click()
    qtbot.keyClicks(wizard.password_page.password, USERS[LOGIN])
    run_test(qtbot, wizard)
    with qtbot.waitSignal(wizard.account_saved, timeout=10_000):
        wizard.button(Button.FinishButton).click()
    assert keyring.get_password("relaydesk", "work") == USERS[LOGIN]
    assert keyring_guard.off_thread("set_password")

    page = controller.window.accounts
    page.table.selectRow(0)
    answer_next_question(qtbot, "&Remove account")
    page.remove.click()
    qtbot.waitUntil(lambda: page.table.rowCount() == 0)
    assert "removed" in page.status.text()
    assert keyring.get_password("relaydesk", "work") is None
    assert keyring_guard.off_thread("delete_password")


@pytest.fixture
def auth_server(ca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningAuthServer]:
    """A local OAuth2 authorization server; $BROWSER signs the person in."""
    server = start_auth_server(ca, "ada@example.com")
    ca_file = tmp_path / "auth-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("BROWSER", str(write_browser(tmp_path, ca_file, sys.executable)))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read $BROWSER again
    yield server
    server.stop()


def test_signing_in_again_stores_the_tokens_on_a_worker(
    qtbot, auth_server, secret_service, controller, keyring_guard: KeyringGuard
) -> None:
    from app.core.accounts.model import Account, Security
    from app.ui.wizard.oauth_signin import SignInAgainDialog

    account = Account(
        name="mail", email="ada@example.com", host="smtp.example.com", port=587,
        security=Security.STARTTLS, username="ada@example.com",
        password_mode=PasswordMode.OAUTH2,
    )  # fmt: skip
    with Store.open() as store:
        create_account(store, account, face="test", oauth2=_settings(auth_server))
    page = controller.window.accounts
    page.reload()
    page.table.selectRow(0)

    def sign_in_in_the_dialog() -> None:
        dialog = next(w for w in QtWidgets.QApplication.topLevelWidgets()
                      if isinstance(w, SignInAgainDialog) and w.isVisible())  # fmt: skip
        dialog.panel.button.click()

    QTimer.singleShot(100, sign_in_in_the_dialog)
    page.signin.click()  # modal until the sign-in is stored
    with Store.open() as store:
        assert not oauth2_config.needs_signin(store, "mail")
    assert keyring.get_password("relaydesk", "mail#oauth2-refresh")
    assert keyring_guard.off_thread("set_password")


def test_first_launch_settings_and_send_read_the_keyring_on_workers(
    qtbot, account, server, controller, keyring_guard: KeyringGuard
) -> None:
    from app.workers.keyring_status import keyring_status

    qtbot.waitUntil(lambda: keyring_status().usable is True)  # asked at startup, on a worker

    seen: list[str] = []

    def close_settings() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        assert dialog is not None
        seen.append(dialog.windowTitle())
        dialog.reject()

    QTimer.singleShot(100, close_settings)
    controller.window.settings_requested.emit()
    assert seen == ["Relaydesk settings"]

    form = controller.window.compose
    qtbot.keyClicks(form.to.edit, "bob@example.com")
    qtbot.keyClicks(form.subject, "Minutes")
    qtbot.keyClicks(form.body.editor, "Hello Bob")
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    assert len(server.messages) == 1
    assert keyring_guard.off_thread("get_password")  # the send worker read the password


def test_the_keyring_answer_is_remembered_but_a_no_is_asked_again(
    qtbot, no_keyring, keyring_guard: KeyringGuard
) -> None:
    from app.workers.keyring_status import KeyringStatus

    status = KeyringStatus()
    with qtbot.waitSignal(status.answered, timeout=5000) as answer:
        status.check()
    assert answer.args == [False] and status.usable is False
    status.check()  # the person may have started their keyring meanwhile
    assert status.usable is None
    qtbot.waitUntil(lambda: status.usable is False)
    assert len(keyring_guard.off_thread("get_keyring")) >= 2  # both asked on a worker
    status.forget()
