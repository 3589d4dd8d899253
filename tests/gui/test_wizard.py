"""The account wizard, driven like a person against real servers and a real keyring."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.store import Store
from app.qt import QObject, Qt, QtCore, QtGui, QtWidgets, Slot
from app.ui.wizard.widgets import window_hint
from app.ui.wizard.window import AccountWizard
from app.workers import base as workers
from tests.support.smtp_servers import USERS, RunningServer

pytestmark = pytest.mark.gui

LOGIN = "alice@example.test"
Button = QtWidgets.QWizard.WizardButton


@pytest.fixture
def wizard(qtbot, relaydesk_home: Path) -> Iterator[AccountWizard]:
    dialog = AccountWizard()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    yield dialog
    dialog.reject()  # stops any test still running
    assert dialog.test_page.runner.running_thread is None
    assert not workers.running_threads()


def click(qtbot, wizard: AccountWizard, which: Button) -> None:
    button = wizard.button(which)
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def retype(qtbot, field: QtWidgets.QWidget, text: str) -> None:
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def fill_address(qtbot, wizard: AccountWizard, email: str, name: str = "work") -> None:
    page = wizard.address_page
    qtbot.keyClicks(page.email, email)
    qtbot.keyClicks(page.from_name, "Alice Example")
    retype(qtbot, page.account_name, name)
    click(qtbot, wizard, Button.NextButton)


def fill_server(qtbot, wizard: AccountWizard, server: RunningServer, *, security: str) -> None:
    page = wizard.server_page
    assert wizard.currentPage() is page
    page.security.setCurrentIndex(page.security.findData(security))
    retype(qtbot, page.host, server.host)
    retype(qtbot, page.port, str(server.port))
    qtbot.keyClicks(page.ca_file, str(server.ca_file))
    retype(qtbot, page.username, LOGIN)
    click(qtbot, wizard, Button.NextButton)


def run_test_page(qtbot, wizard: AccountWizard, password: str) -> None:
    page = wizard.password_page
    assert wizard.currentPage() is page
    qtbot.keyClicks(page.password, password)
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        click(qtbot, wizard, Button.NextButton)


def stored_accounts() -> list[Account]:
    with Store.open() as store:
        return [account for account, _ in accounts.list_accounts(store)]


def test_right_password_saves_account_and_keyring_secret(
    qtbot, wizard, smtp_server, secret_service
):
    server = smtp_server(mode="starttls")
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    run_test_page(qtbot, wizard, USERS[LOGIN])

    page = wizard.test_page
    assert page.status.text().startswith("It works: you are signed in")
    results = {
        page.checklist.topLevelItem(i).text(0): page.checklist.topLevelItem(i).text(1)
        for i in range(page.checklist.topLevelItemCount())
    }
    assert set(results.values()) == {"OK"}, results
    assert page.checklist.topLevelItem(0).text(2).endswith(" ms")
    assert "AUTH PLAIN <redacted>" in page.transcript.toPlainText() or "<redacted>" in (
        page.transcript.toPlainText()
    )
    assert USERS[LOGIN] not in page.transcript.toPlainText()
    assert not page.diagnosis.isVisible()

    with qtbot.waitSignal(wizard.account_saved, timeout=5000) as saved:
        click(qtbot, wizard, Button.FinishButton)
    assert saved.args == ["work"]
    [account] = stored_accounts()
    assert (account.name, account.email, account.username) == ("work", "alice@example.com", LOGIN)
    assert account.port == server.port and account.security is Security.STARTTLS
    assert account.password_mode is PasswordMode.KEYRING
    assert account.from_name == "Alice Example"
    assert keyring.get_password("relaydesk", "work") == USERS[LOGIN]
    with Store.open() as store:
        actions = [(row["face"], row["action"]) for row in store.audit_rows()]
    assert ("gui", "account_add") in actions and ("gui", "account_test") in actions


def test_wrong_password_shows_hint_and_saves_nothing(
    qtbot, wizard, smtp_server, secret_service, tmp_path
):
    server = smtp_server(mode="tls")
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="tls")
    run_test_page(qtbot, wizard, "not the password")

    page = wizard.test_page
    assert page.diagnosis.isVisible()
    assert page.diagnosis.message.text() and page.diagnosis.hint.text()
    assert LOGIN in page.diagnosis.message.text() + page.diagnosis.hint.text()
    assert page.diagnosis.message.wordWrap()
    auth_row = page.checklist.topLevelItem(3)
    assert (auth_row.text(0), auth_row.text(1)) == ("Authenticate", "Failed")
    assert not wizard.button(Button.FinishButton).isEnabled()
    assert page.save_anyway.isVisible() and page.save_anyway.toolTip()
    assert not page.validatePage()

    page.write_report(tmp_path / "report.txt")
    report = (tmp_path / "report.txt").read_text()
    assert page.diagnosis.hint.text() in report and "not the password" not in report

    wizard.reject()
    assert stored_accounts() == []
    assert keyring.get_password("relaydesk", "work") is None


def test_save_anyway_after_failed_test(qtbot, wizard, smtp_server, secret_service):
    server = smtp_server(mode="starttls")
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    run_test_page(qtbot, wizard, "wrong")
    assert not wizard.button(Button.FinishButton).isEnabled()
    qtbot.mouseClick(wizard.test_page.save_anyway, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(wizard.account_saved, timeout=5000):
        click(qtbot, wizard, Button.FinishButton)
    assert [a.name for a in stored_accounts()] == ["work"]


def test_untrusted_certificate_is_explained(qtbot, wizard, smtp_server, secret_service):
    server = smtp_server(mode="starttls", cert="untrusted")
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    run_test_page(qtbot, wizard, USERS[LOGIN])

    page = wizard.test_page
    assert page.report is not None and page.report.error is not None
    assert page.report.error.code == "certificate_untrusted"
    assert "certificate" in page.diagnosis.message.text().lower()
    # The CLI's words, with the window's names for settings instead of CLI options.
    assert page.diagnosis.hint.text() == window_hint(page.report.error.hint)
    assert "--ca-file" not in page.diagnosis.hint.text()
    tls_row = page.checklist.topLevelItem(1)
    assert tls_row.text(1) == "Failed"
    assert not wizard.button(Button.FinishButton).isEnabled()
    assert server.auth_attempts == []  # no password went to the untrusted server


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QtCore.QUrl)
    def open(self, url: QtCore.QUrl) -> None:
        self.urls.append(url.toString())


def test_gmail_address_is_recognised_and_guided(qtbot, wizard, secret_service):
    page = wizard.address_page
    qtbot.keyClicks(page.email, "ada.lovelace@gmail.com")
    assert page.recognised.text() == "Recognised: Gmail"
    assert page.provider.currentData() == "gmail"
    assert page.account_name.text() == "gmail"
    click(qtbot, wizard, Button.NextButton)

    server = wizard.server_page
    assert server.host.text() == "smtp.gmail.com"
    assert server.port.value() == 465 and server.current_security() is Security.TLS  # RFC 8314
    assert server.username.text() == "ada.lovelace@gmail.com"
    assert not server.allow_plaintext.isEnabled()
    server.security.setCurrentIndex(server.security.findData("tls"))
    assert server.port.value() == 465  # the matching default port is suggested
    server.security.setCurrentIndex(server.security.findData("none"))
    assert server.port.value() == 25 and server.allow_plaintext.isEnabled()
    server.security.setCurrentIndex(server.security.findData("starttls"))
    click(qtbot, wizard, Button.NextButton)

    password = wizard.password_page
    assert "app password" in password.guidance.text()
    assert password.open_url.isVisible() and "app password" in password.open_url.text()
    assert password.store_keyring.isEnabled() and password.store_keyring.isChecked()
    catcher = _UrlCatcher()
    QtGui.QDesktopServices.setUrlHandler("https", catcher, "open")
    try:
        qtbot.mouseClick(password.open_url, Qt.MouseButton.LeftButton)
    finally:
        QtGui.QDesktopServices.unsetUrlHandler("https")
    assert catcher.urls == ["https://myaccount.google.com/apppasswords"]


def test_no_keyring_offers_only_ask_each_time(qtbot, wizard, smtp_server, no_keyring):
    server = smtp_server(mode="starttls")
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    page = wizard.password_page
    # Asked on a worker (never on the GUI thread); with no D-Bus the answer comes at once.
    qtbot.waitUntil(lambda: not page.store_keyring.isEnabled(), timeout=2000)
    assert page.ask_each_time.isChecked()
    assert page.keyring_note.isVisible() and "keyring" in page.keyring_note.text()

    run_test_page(qtbot, wizard, USERS[LOGIN])
    with qtbot.waitSignal(wizard.account_saved, timeout=5000):
        click(qtbot, wizard, Button.FinishButton)
    [account] = stored_accounts()
    assert account.password_mode is PasswordMode.ASK


def test_duplicate_name_is_reported_on_the_first_page(qtbot, wizard):
    with Store.open() as store:
        accounts.add_account(
            store, Account(name="work", email="old@example.com", host="h.example", port=25)
        )
    fill_address(qtbot, wizard, "alice@example.com", name="work")
    page = wizard.address_page
    assert wizard.currentPage() is page
    assert page.error.isVisible() and "already exists" in page.error.text()


def _never_greet(conn: socket.socket) -> None:
    conn.recv(1024)  # blocks until the client goes away (or the fixture stops us)


def _start_silent_test(qtbot, wizard, scripted_server) -> QtCore.QThread:
    host, port = scripted_server(_never_greet)
    fill_address(qtbot, wizard, "alice@example.com")
    server = wizard.server_page
    retype(qtbot, server.host, host)
    retype(qtbot, server.port, str(port))
    click(qtbot, wizard, Button.NextButton)
    qtbot.keyClicks(wizard.password_page.password, "whatever")
    click(qtbot, wizard, Button.NextButton)
    page = wizard.test_page
    qtbot.waitUntil(lambda: "connecting to" in page.transcript.toPlainText(), timeout=5000)
    qtbot.wait(200)  # now blocked waiting for the greeting
    assert page.runner.running and not wizard.button(Button.FinishButton).isEnabled()
    thread = page.runner.running_thread
    assert thread is not None and thread.isRunning()
    return thread


def test_stop_during_a_test_returns_fast(qtbot, wizard, scripted_server, secret_service):
    thread = _start_silent_test(qtbot, wizard, scripted_server)
    page = wizard.test_page
    started = time.monotonic()
    with qtbot.waitSignal(page.runner.finished, timeout=1000):
        qtbot.mouseClick(page.stop, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 1.0
    assert thread.isFinished() and not page.runner.running
    assert "stopped" in page.status.text()
    assert page.retest.isEnabled() and not wizard.button(Button.FinishButton).isEnabled()


def test_closing_during_a_test_leaves_no_thread(qtbot, wizard, scripted_server, secret_service):
    thread = _start_silent_test(qtbot, wizard, scripted_server)
    started = time.monotonic()
    click(qtbot, wizard, Button.CancelButton)
    assert time.monotonic() - started < 1.0
    assert thread.isFinished() and not wizard.isVisible()
    assert stored_accounts() == []


def test_back_during_a_test_stops_it_and_test_again_reruns(
    qtbot, wizard, scripted_server, smtp_server, secret_service
):
    thread = _start_silent_test(qtbot, wizard, scripted_server)
    click(qtbot, wizard, Button.BackButton)
    assert thread.isFinished() and wizard.currentPage() is wizard.password_page

    server = smtp_server(mode="starttls")
    click(qtbot, wizard, Button.BackButton)
    page = wizard.server_page
    retype(qtbot, page.port, str(server.port))
    qtbot.keyClicks(page.ca_file, str(server.ca_file))
    retype(qtbot, page.username, LOGIN)
    click(qtbot, wizard, Button.NextButton)
    retype(qtbot, wizard.password_page.password, USERS[LOGIN])
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        click(qtbot, wizard, Button.NextButton)
    assert wizard.button(Button.FinishButton).isEnabled()
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        qtbot.mouseClick(wizard.test_page.retest, Qt.MouseButton.LeftButton)
    assert wizard.test_page.report is not None and wizard.test_page.report.ok


def test_wrong_tls_mode_offers_the_working_setting_in_one_click(
    qtbot, wizard, smtp_server, secret_service
):
    server = smtp_server(mode="starttls")
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="tls")
    run_test_page(qtbot, wizard, USERS[LOGIN])

    panel = wizard.test_page.diagnosis
    assert panel.isVisible()
    assert "STARTTLS" in panel.fix.text() and str(server.port) in panel.fix.text()
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        qtbot.mouseClick(panel.fix, Qt.MouseButton.LeftButton)
    assert wizard.test_page.status.text().startswith("It works")
    assert wizard.server_page.current_security() is Security.STARTTLS


def test_saved_report_has_the_diagnosis_and_no_password(
    qtbot, wizard, smtp_server, secret_service, tmp_path: Path
):
    server = smtp_server(mode="starttls")
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    run_test_page(qtbot, wizard, "wrong-password-17")
    report = tmp_path / "report.txt"
    wizard.test_page.write_report(report)
    text = report.read_text(encoding="utf-8")
    assert "535" in text and LOGIN in text
    assert "wrong-password-17" not in text
