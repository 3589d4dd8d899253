"""Defects a new user hit (issue 15), each driven the way the person met it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.accounts import model as accounts
from app.core.accounts.model import PasswordMode, Security
from app.core.delivery.attempts import SendOptions, queue_draft, send_item
from app.core.delivery.message import Draft
from app.core.delivery.outbox import State
from app.core.store import Store
from app.qt import Qt, QtGui, QtWidgets
from app.ui.outbox.view import REASON_COLUMN
from app.ui.wizard.window import AccountWizard
from tests.gui.conftest import make_account, make_relay_account
from tests.support.smtp_servers import RecordingHandler

pytestmark = pytest.mark.gui

Button = QtWidgets.QWizard.WizardButton


@pytest.fixture
def wizard(qtbot, relaydesk_home: Path) -> Iterator[AccountWizard]:
    dialog = AccountWizard()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    yield dialog
    dialog.reject()


def typed_into_focus(qtbot, text: str) -> QtWidgets.QWidget:
    widget = QtWidgets.QApplication.focusWidget()
    assert widget is not None
    qtbot.keyClicks(widget, text)
    return widget


def test_password_typed_after_enter_lands_in_the_password_field(qtbot, wizard, secret_service):
    page = wizard.address_page
    page.email.setFocus()
    qtbot.keyClicks(page.email, "alice@example.com")
    qtbot.keyClick(page.email, Qt.Key.Key_Return)
    assert wizard.currentPage() is wizard.server_page, page.error.text()
    qtbot.keyClicks(wizard.server_page.host, "mail.example.com")
    wizard.server_page.host.setFocus()
    qtbot.keyClick(wizard.server_page.host, Qt.Key.Key_Return)
    assert wizard.currentPage() is wizard.password_page

    widget = typed_into_focus(qtbot, "correct horse battery")

    assert widget is wizard.password_page.password
    assert wizard.password_page.password.text() == "correct horse battery"
    assert wizard.server_page.username.text() == "alice@example.com"


class MailboxBusy(RecordingHandler):
    """Postfix-like greylisting: 450 at RCPT for every recipient."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        return "450 4.2.0 <bob@example.com>: Recipient address rejected: Greylisted"


def test_outbox_says_why_a_message_waits_after_450_at_rcpt(
    qtbot, relaydesk_home, smtp_server, make_controller
):
    server = smtp_server(mode="plain", users=None, handler=MailboxBusy())
    with Store.open() as store:
        account = make_relay_account(server.host, server.port)
        draft = Draft(to=("bob@example.com",), subject="Invoice", text="hi")
        item_id = queue_draft(store, account, draft, face="gui")
        result = send_item(store, item_id, lambda _a: None, SendOptions(face="gui"))
    assert result.state is State.RETRYING

    controller = make_controller()
    controller.start()
    view = controller.window.outbox
    assert view.table.item(0, 0).text() == "Retrying"
    reason = view.table.item(0, REASON_COLUMN).text()
    assert reason == "The server asked to try bob@example.com again later."
    view.table.selectRow(0)
    assert "Greylisted" in view.detail.text()  # the server's own words, in the details
    assert "450" not in reason
    assert controller.window.outbox_status.text() == "1 retrying"
    with qtbot.waitSignal(controller.service.outbox_changed, timeout=10_000):
        qtbot.mouseClick(view.retry, Qt.MouseButton.LeftButton)
        assert view.detail.text() == "Sending “Invoice” again now…"  # Retry now answers
    qtbot.waitUntil(lambda: "2 attempts" in view.detail.text(), timeout=10_000)
    assert "Greylisted" in view.detail.text()  # tried again, and told why it still waits


def test_edit_keeps_plaintext_password_off_for_an_encrypted_account(
    qtbot, relaydesk_home, secret_service, server
):
    account = make_account(server)  # STARTTLS
    dialog = AccountWizard(account=account)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.next()
    page = dialog.server_page
    assert page.current_security() is Security.STARTTLS
    assert not page.allow_plaintext.isEnabled() and not page.allow_plaintext.isChecked()
    page.security.setCurrentIndex(page.security.findData("none"))
    assert page.allow_plaintext.isEnabled()
    page.security.setCurrentIndex(page.security.findData("tls"))
    assert not page.allow_plaintext.isEnabled()
    dialog.reject()


def test_edit_shows_plaintext_choice_of_an_unencrypted_relay(qtbot, relaydesk_home):
    relay = make_relay_account("relay.example.com", 25)
    with Store.open() as store:
        accounts.update_account(
            store,
            relay.with_changes(
                username="u", allow_plaintext_auth=True, password_mode=PasswordMode.ASK
            ),
        )
        relay = accounts.get_account(store, "relay")
    dialog = AccountWizard(account=relay)
    qtbot.addWidget(dialog)
    page = dialog.server_page
    assert page.allow_plaintext.isEnabled() and page.allow_plaintext.isChecked()
    dialog.reject()


def test_app_password_address_can_be_copied_when_no_browser_opens(qtbot, wizard, secret_service):
    page = wizard.address_page
    qtbot.keyClicks(page.email, "ada.lovelace@gmail.com")
    wizard.next()
    wizard.next()
    password_page = wizard.password_page
    assert wizard.currentPage() is password_page
    url = password_page.url_text.text()
    assert url.startswith("https://") and password_page.url_text.isVisible()
    qtbot.mouseClick(password_page.copy_url, Qt.MouseButton.LeftButton)
    assert QtGui.QGuiApplication.clipboard().text() == url
    assert "copied" in password_page.url_note.text()
    assert password_page.subTitle().startswith("The password ada.lovelace@gmail.com signs in")
