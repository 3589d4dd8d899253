"""SignInPanel offscreen, with the test browser script and a real authorization server."""

from __future__ import annotations

import os
import sys
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from app.core.accounts.model import Account, PasswordMode, Security
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.store import Store
from app.qt import QtCore, QtWidgets
from app.ui.accounts.page import AccountsPage
from app.ui.accounts.password_prompt import PasswordCache
from app.ui.wizard.oauth_signin import SignInPanel
from tests.support.oauth_server import (
    CLIENT_ID,
    RunningAuthServer,
    start_auth_server,
    write_browser,
)

pytestmark = pytest.mark.gui
SHOTS = os.environ.get("RELAYDESK_SHOTS")  # a folder: save a screenshot of each state


@pytest.fixture
def auth(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relaydesk_home: Path
) -> Iterator[RunningAuthServer]:
    server = start_auth_server(ca, "ada@example.com")
    ca_file = tmp_path / "auth-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("BROWSER", str(write_browser(tmp_path, ca_file, sys.executable)))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read $BROWSER again
    yield server
    server.stop()


def _settings(server: RunningAuthServer, client_id: str | None = CLIENT_ID) -> OAuth2Settings:
    return OAuth2Settings(
        auth_url=f"{server.base_url}/authorize",
        token_url=f"{server.base_url}/token",
        scopes=("https://mail.test/send",),
        client_id=client_id,
    )


def _shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / f"signin-{name}.png"))


def test_sign_in_with_the_browser_shows_the_result(qtbot, auth: RunningAuthServer) -> None:
    panel = SignInPanel()
    qtbot.addWidget(panel)
    panel.resize(560, 220)
    panel.configure("work", _settings(auth))
    panel.show()
    assert panel.button.text() == "&Sign in with your provider"
    _shot(panel, "1-ready")
    with qtbot.waitSignal(panel.signed_in, timeout=20000):
        qtbot.mouseClick(panel.button, qtbot_left())
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    assert panel.tokens is not None
    assert "Signed in." in panel.result.text()
    assert panel.button.isEnabled()
    _shot(panel, "3-signed-in")


def test_waiting_state_can_be_cancelled(
    qtbot, auth: RunningAuthServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle = tmp_path / "idle-browser"
    idle.write_text("#!/bin/sh\nexit 0\n")  # a browser the person never finishes in
    idle.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(idle))
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    panel = SignInPanel()
    qtbot.addWidget(panel)
    panel.resize(560, 220)
    panel.configure("work", _settings(auth))
    panel.show()
    panel.button.click()
    qtbot.waitUntil(lambda: panel.cancel_button.isVisible(), timeout=2000)
    assert "Waiting for you" in panel.waiting.text()
    assert not panel.button.isEnabled()
    _shot(panel, "2-waiting")
    with qtbot.waitSignal(panel.failed, timeout=5000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    assert "cancelled" in panel.result.text()
    assert auth.auth.token_requests == []
    _shot(panel, "4-cancelled")


def test_missing_client_id_asks_for_one(qtbot, auth: RunningAuthServer) -> None:
    panel = SignInPanel()
    qtbot.addWidget(panel)
    panel.resize(560, 300)
    panel.configure("work", _settings(auth, client_id=None))
    panel.show()
    with qtbot.waitSignal(panel.failed, timeout=5000):
        panel.button.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    assert panel.client_id.isVisible()
    assert "client ID" in panel.result.text()
    _shot(panel, "5-client-id-missing")
    qtbot.keyClicks(panel.client_id, CLIENT_ID)
    with qtbot.waitSignal(panel.signed_in, timeout=20000):
        panel.button.click()


def test_accounts_page_signs_an_account_in_again(qtbot, auth, secret_service) -> None:
    account = Account(
        name="mail", email="ada@example.com", host="smtp.example.com", port=587,
        security=Security.STARTTLS, username="ada@example.com",
        password_mode=PasswordMode.OAUTH2,
    )  # fmt: skip
    with Store.open() as store:
        from app.core.accounts.changes import create_account

        create_account(store, account, face="gui", oauth2=_settings(auth))
    store = Store.open()
    page = AccountsPage(store, PasswordCache())
    qtbot.addWidget(page)
    page.resize(900, 300)
    page.show()
    page.reload()
    texts = [page.table.item(0, c).text() for c in range(page.table.columnCount())]
    assert "sign-in needed" in texts
    page.table.selectRow(0)
    assert page.signin.isVisible()
    _shot(page, "8-accounts-sign-in-needed")

    def sign_in_in_the_dialog() -> None:
        from app.ui.wizard.oauth_signin import SignInAgainDialog

        dialog = next(w for w in QtWidgets.QApplication.topLevelWidgets()
                      if isinstance(w, SignInAgainDialog) and w.isVisible())  # fmt: skip
        dialog.panel.button.click()

    QtCore.QTimer.singleShot(100, sign_in_in_the_dialog)
    page.signin.click()  # modal: returns once the dialog accepted the sign-in
    texts = [page.table.item(0, c).text() for c in range(page.table.columnCount())]
    assert "signed in" in texts
    assert not oauth2_config.needs_signin(store, "mail")
    store.close()


def qtbot_left():
    from app.qt import QtCore

    return QtCore.Qt.MouseButton.LeftButton


def test_wizard_signs_an_outlook_address_in_and_tests_it(
    qtbot,
    auth: RunningAuthServer,
    smtp_server,
    secret_service,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The wizard's sign-in page; Microsoft's own servers are replaced by the local ones."""
    from app.core.accounts.model import list_accounts
    from app.ui.wizard import password_page as wizard_password_page
    from app.ui.wizard.window import AccountWizard
    from tests.gui.test_wizard import Button, click, fill_address, retype
    from tests.support.oauth_server import OAuthSmtpHandler

    monkeypatch.setattr(wizard_password_page, "from_preset", lambda preset: _settings(auth))
    handler = OAuthSmtpHandler(auth.auth, ("XOAUTH2",))
    server = smtp_server(mode="starttls", handler=handler)
    wizard = AccountWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    fill_address(qtbot, wizard, "ada@outlook.com", name="mail")
    page = wizard.server_page
    page.security.setCurrentIndex(page.security.findData("starttls"))
    retype(qtbot, page.host, server.host)
    retype(qtbot, page.port, str(server.port))
    qtbot.keyClicks(page.ca_file, str(server.ca_file))
    click(qtbot, wizard, Button.NextButton)

    signin_page = wizard.password_page
    assert signin_page.signin.isVisible() and not signin_page.password.isVisible()
    assert not wizard.button(Button.NextButton).isEnabled()  # not signed in yet
    _shot(wizard, "6-wizard-page")
    with qtbot.waitSignal(signin_page.signin.signed_in, timeout=20000):
        signin_page.signin.button.click()
    qtbot.waitUntil(lambda: wizard.button(Button.NextButton).isEnabled(), timeout=5000)
    _shot(wizard, "7-wizard-signed-in")
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15000):
        click(qtbot, wizard, Button.NextButton)
    assert wizard.test_page.status.text().startswith("It works: you are signed in")
    assert handler.accepted_tokens == 1
    tokens = signin_page.signin.tokens
    assert tokens is not None
    wizard.test_page.write_report(tmp_path / "report.txt")  # "Save report…" after a sign-in
    report = (tmp_path / "report.txt").read_text(encoding="utf-8")
    assert "PASSED" in report and tokens.access_token not in report
    assert not wizard.test_page.save_problem.isVisible()
    with qtbot.waitSignal(wizard.account_saved, timeout=5000):
        click(qtbot, wizard, Button.FinishButton)
    with Store.open() as store:
        [(account, _)] = list_accounts(store)
        assert account.password_mode is PasswordMode.OAUTH2
        assert not oauth2_config.needs_signin(store, "mail")
    wizard.reject()


def test_a_send_that_needs_sign_in_offers_it_in_one_click(
    qtbot, auth: RunningAuthServer, smtp_server, secret_service, make_controller
) -> None:
    from app.core.accounts.changes import create_account
    from app.core.delivery.message import Draft
    from app.core.delivery.outbox import State, get_item
    from app.ui.wizard.oauth_signin import SignInAgainDialog
    from tests.support.oauth_server import OAuthSmtpHandler

    handler = OAuthSmtpHandler(auth.auth, ("XOAUTH2",))
    server = smtp_server(mode="starttls", handler=handler)
    account = Account(
        name="mail", email="ada@example.com", host=server.host, port=server.port,
        security=Security.STARTTLS, username="ada@example.com",
        password_mode=PasswordMode.OAUTH2, ca_file=str(server.ca_file),
    )  # fmt: skip
    with Store.open() as store:
        create_account(store, account, face="gui", oauth2=_settings(auth))  # not signed in
    controller = make_controller()
    controller.start()
    with qtbot.waitSignal(controller.service.problem, timeout=10_000) as problem:
        draft = Draft(to=("bob@example.com",), subject="Waits", text="for the sign-in")
        worker = controller.service.prepare_draft(account, draft)
        assert worker is not None
        controller.service.start(worker)
    result, error = problem.args
    assert error.hint == "relaydesk account login mail"
    assert get_item(controller.store, result.item_id).state is State.RETRYING
    dialog = controller._signin_dialogs["mail"]
    assert isinstance(dialog, SignInAgainDialog) and dialog.isVisible()
    _shot(dialog, "9-send-needs-sign-in")
    with qtbot.waitSignal(dialog.accepted, timeout=20_000):
        qtbot.mouseClick(dialog.panel.button, qtbot_left())  # the one click
    with qtbot.waitSignal(controller.service.sent, timeout=10_000):
        controller.service.send_item(result.item_id, "mail")
    assert [m.rcpt_tos for m in server.messages] == [["bob@example.com"]]


def test_wizard_offers_microsoft_sign_in_when_basic_auth_is_off(
    qtbot, smtp_server, secret_service, relaydesk_home
) -> None:
    from app.ui.wizard.window import AccountWizard
    from tests.gui.test_wizard import Button, click, fill_address, retype
    from tests.support.probing import ProviderAuth

    reply = (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    server = smtp_server(mode="starttls", handler=ProviderAuth(reply))
    wizard = AccountWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    address = wizard.address_page
    address.provider.setCurrentIndex(address.provider.findData("microsoft365"))
    fill_address(qtbot, wizard, "ada@contoso.example", name="work")
    page = wizard.server_page
    retype(qtbot, page.host, server.host)
    retype(qtbot, page.port, str(server.port))
    qtbot.keyClicks(page.ca_file, str(server.ca_file))
    retype(qtbot, page.username, "ada@contoso.example")
    click(qtbot, wizard, Button.NextButton)
    password_page = wizard.password_page
    assert password_page.use_signin.isVisible()  # offered, not forced, for Microsoft 365
    assert not password_page.use_signin.isChecked()
    qtbot.keyClicks(password_page.password, "old password")
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        click(qtbot, wizard, Button.NextButton)
    diagnosis = wizard.test_page.diagnosis
    assert diagnosis.fix.isVisible()
    assert diagnosis.fix.text() == "&Sign in with Microsoft instead"
    _shot(wizard, "10-wizard-basic-auth-off")
    diagnosis.fix.click()  # one click: back to the password step, now signing in
    assert wizard.currentPage() is password_page
    assert password_page.signin.isVisible() and not password_page.password.isVisible()
    assert password_page.signin.button.text() == "&Sign in with Microsoft"
    wizard.reject()


def test_editing_a_signed_in_account_keeps_its_sign_in_and_tests_with_it(
    qtbot, auth: RunningAuthServer, smtp_server, secret_service
) -> None:
    from app.core.accounts.changes import create_account
    from app.core.accounts.oauth2 import tokens
    from app.core.accounts.oauth2.http import TokenSet
    from app.ui.wizard.window import AccountWizard
    from tests.gui.test_wizard import Button, click, retype
    from tests.support.oauth_server import OAuthSmtpHandler

    handler = OAuthSmtpHandler(auth.auth, ("XOAUTH2",))
    server = smtp_server(mode="starttls", handler=handler)
    account = Account(
        name="mail", email="ada@example.com", host=server.host, port=server.port,
        security=Security.STARTTLS, username="ada@example.com",
        password_mode=PasswordMode.OAUTH2, ca_file=str(server.ca_file),
    )  # fmt: skip
    issued = auth.auth._tokens("ada@example.com")
    with Store.open() as store:
        create_account(store, account, face="gui", oauth2=_settings(auth))
        tokens.save(store, "mail", TokenSet("stale-access", 0, issued["refresh_token"]))
    tokens._memory.clear()  # a fresh start of the app: only the keyring holds tokens

    wizard = AccountWizard(account=account)
    qtbot.addWidget(wizard)
    wizard.show()
    retype(qtbot, wizard.address_page.from_name, "Ada L.")
    click(qtbot, wizard, Button.NextButton)
    click(qtbot, wizard, Button.NextButton)
    page = wizard.password_page
    assert page.signin.isVisible()
    assert page.signin.button.text() == "&Sign in again with your provider"
    assert wizard.button(Button.NextButton).isEnabled()  # keeps its sign-in; may sign in again
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        click(qtbot, wizard, Button.NextButton)
    assert wizard.test_page.status.text().startswith("It works: you are signed in")
    assert auth.auth.token_requests == ["refresh_token"]  # refreshed on the worker thread
    with qtbot.waitSignal(wizard.account_saved, timeout=5000):
        click(qtbot, wizard, Button.FinishButton)
    with Store.open() as store:
        assert oauth2_config.needs_signin(store, "mail") is False
        assert oauth2_config.load(store, "mail") == _settings(auth)
    wizard.reject()
