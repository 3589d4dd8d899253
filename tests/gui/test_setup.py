"""The one-page setup, driven with the keyboard against a real server and keyring."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest

from app.core.accounts import model as accounts
from app.core.accounts.model import PasswordMode, Security
from app.core.setup.detect import Candidate, Detection
from app.core.store import Store
from app.qt import Qt
from app.ui.wizard.setup_dialog import SetupDialog
from tests.gui.conftest import find_nothing
from tests.support.smtp_servers import USERS, RunningServer

LOGIN = "alice@example.test"


def finds(server: RunningServer) -> Callable[[str], Detection]:
    def detector(address: str) -> Detection:
        domain = address.rpartition("@")[2]
        found = Candidate(server.host, server.port, Security.STARTTLS, LOGIN, source="autoconfig")
        return Detection(address, domain, (found,), ("autoconfig: found at the domain",))

    return detector


@pytest.fixture
def open_setup(qtbot, relaydesk_home: Path) -> Iterator[Callable[..., SetupDialog]]:
    made: list[SetupDialog] = []

    def open_it(detector: Callable[[str], Detection] = find_nothing) -> SetupDialog:
        dialog = SetupDialog(detector=detector)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        made.append(dialog)
        return dialog

    yield open_it
    for dialog in made:
        dialog.reject()


def type_in(qtbot, dialog: SetupDialog, name: str, email: str, password: str) -> None:
    qtbot.keyClicks(dialog.from_name, name)
    qtbot.keyClicks(dialog.email, email)
    qtbot.keyClicks(dialog.password, password)


def test_name_address_password_then_done(qtbot, open_setup, server, secret_service) -> None:
    dialog = open_setup(finds(server))
    assert not dialog.manual.isVisible()  # settings only on demand
    dialog.manual_toggle.click()
    qtbot.keyClicks(dialog.manual.ca_file, str(server.ca_file))  # the test server's own CA
    dialog.manual_toggle.click()
    type_in(qtbot, dialog, "Alice Example", "alice@corp.example.com", USERS[LOGIN])
    assert dialog.primary.text() == "&Continue"
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert "autoconfig" in dialog.source.text() and server.host in dialog.source.text()
    assert dialog.status.text().startswith("It works")
    assert dialog.primary.text() == "&Done"

    with qtbot.waitSignal(dialog.account_saved, timeout=5000) as saved:
        qtbot.keyClick(dialog.primary, Qt.Key.Key_Return)
    assert saved.args == ["corp"]
    with Store.open() as store:
        account = accounts.get_account(store, "corp")
        audit = [r["action"] for r in store.audit_rows()]
    assert (account.email, account.username, account.from_name) == (
        "alice@corp.example.com",
        LOGIN,
        "Alice Example",
    )
    assert account.password_mode is PasswordMode.KEYRING
    assert keyring.get_password("relaydesk", "corp") == USERS[LOGIN]
    assert "account_add" in audit
    assert dialog.password.text() == ""  # nothing kept in the closed dialog


def test_wrong_password_explains_and_offers_test_again(
    qtbot, open_setup, server, secret_service
) -> None:
    dialog = open_setup(finds(server))
    dialog.manual_toggle.click()
    qtbot.keyClicks(dialog.manual.ca_file, str(server.ca_file))
    type_in(qtbot, dialog, "", "alice@corp.example.com", "wrong")
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        dialog.primary.click()
    assert dialog.diagnosis.isVisible() and dialog.diagnosis.hint.text()
    assert dialog.manual.isVisible()
    assert dialog.primary.text() == "&Test again"
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, USERS[LOGIN])
    assert dialog.primary.text() == "&Continue"  # the typed password was not tested yet
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        dialog.primary.click()
    assert dialog.primary.text() == "&Done"
    with Store.open() as store:
        assert accounts.list_accounts(store) == []  # nothing saved before Done


def test_nothing_found_opens_the_manual_settings(qtbot, open_setup, server, secret_service):
    dialog = open_setup()
    type_in(qtbot, dialog, "Alice", "alice@unknown.example.com", USERS[LOGIN])
    with qtbot.waitSignal(dialog.detector.found, timeout=5000):
        dialog.primary.click()
    assert dialog.manual.isVisible()
    assert "could not find the settings for unknown.example.com" in dialog.source.text()
    assert dialog.focusWidget() is dialog.manual.host
    assert dialog.manual.username.text() == "alice@unknown.example.com"
    qtbot.keyClicks(dialog.manual.host, server.host)
    dialog.manual.port.setValue(server.port)
    dialog.manual.username.setText(LOGIN)
    dialog.manual.ca_file.setText(str(server.ca_file))
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        dialog.primary.click()
    assert dialog.source.text() == "Settings: entered by you."
    assert dialog.primary.text() == "&Done"


def test_known_provider_is_named_and_oauth_replaces_the_password(qtbot, open_setup) -> None:
    dialog = open_setup()
    qtbot.keyClicks(dialog.email, "ada@outlook.com")
    dialog.primary.click()
    assert "Outlook.com (known provider" in dialog.source.text()
    assert not dialog.password_row.isVisible()
    assert dialog.sign_in.isVisible() and dialog.sign_in.objectName() == "sign-in-area"
    assert dialog.status.text() == "Sign in with your provider first."
    assert not dialog.tests.running


def test_without_a_keyring_the_password_is_asked_each_time(
    qtbot, open_setup, server, no_keyring
) -> None:
    dialog = open_setup(finds(server))
    qtbot.waitUntil(dialog.keyring_note.isVisible, timeout=2000)  # asked on a worker
    assert "ask for the password each time" in dialog.keyring_note.text()
    dialog.manual_toggle.click()
    qtbot.keyClicks(dialog.manual.ca_file, str(server.ca_file))
    type_in(qtbot, dialog, "Alice", "alice@corp.example.com", USERS[LOGIN])
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        dialog.primary.click()
    with qtbot.waitSignal(dialog.account_saved, timeout=5000):
        dialog.primary.click()
    with Store.open() as store:
        account = accounts.get_account(store, "corp")
    assert account.password_mode is PasswordMode.ASK  # kept in memory only, never on disk


def test_a_known_provider_is_named_with_its_advice_as_soon_as_the_address_is_typed(
    qtbot, open_setup
) -> None:
    dialog = open_setup()
    qtbot.keyClicks(dialog.email, "ada.lovelace@gmail.com")
    dialog.email.editingFinished.emit()  # Tab to the password
    assert "Gmail (known provider" in dialog.source.text()
    assert dialog.guidance.isVisible()
    assert "app password" in dialog.guidance.text().lower()
    assert 'href="https://' in dialog.guidance.text()
    assert dialog.manual.host.text() == "smtp.gmail.com"
    dialog.email.clear()
    qtbot.keyClicks(dialog.email, "ada@")
    assert dialog.source.text() == "" and not dialog.guidance.isVisible()


def test_after_the_first_account_the_window_is_ready_to_write(
    qtbot, controller, server, secret_service
) -> None:
    window = controller.window
    assert window.stack.currentWidget() is window.accounts
    qtbot.keyClick(window.accounts.setup_button, Qt.Key.Key_Return)
    dialog = window.accounts.wizard
    assert isinstance(dialog, SetupDialog)
    dialog.detector._detector = finds(server)  # the lookup answers for the test domain
    dialog.manual_toggle.click()
    qtbot.keyClicks(dialog.manual.ca_file, str(server.ca_file))
    dialog.manual_toggle.click()
    type_in(qtbot, dialog, "Alice", "alice@corp.example.com", USERS[LOGIN])
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        dialog.primary.click()
    with qtbot.waitSignal(dialog.account_saved, timeout=5000):
        dialog.primary.click()
    assert window.stack.currentWidget() is window.compose
    assert window.compose.account.currentData() == "corp"
    assert window.focusWidget() is window.compose.to.edit


def test_a_provider_that_only_signs_in_continues_in_the_assistant(qtbot, controller) -> None:
    from app.ui.wizard.window import AccountWizard

    page = controller.window.accounts
    page.open_setup()
    dialog = page.wizard
    qtbot.keyClicks(dialog.from_name, "Ada")
    qtbot.keyClicks(dialog.email, "ada@outlook.com")
    dialog.primary.click()
    assert not dialog.sign_in.isHidden()
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    wizard = page.wizard
    assert isinstance(wizard, AccountWizard) and wizard.isVisible()
    assert wizard.address_page.email.text() == "ada@outlook.com"
    assert wizard.address_page.from_name.text() == "Ada"
    wizard.reject()


def test_wrong_tls_mode_is_fixed_in_one_click(qtbot, open_setup, smtp_server, secret_service):
    server = smtp_server(mode="starttls")
    dialog = open_setup()
    dialog.manual_toggle.click()
    qtbot.keyClicks(dialog.manual.host, server.host)
    dialog.manual.security.setCurrentIndex(dialog.manual.security.findData("tls"))
    dialog.manual.port.setValue(server.port)
    dialog.manual.username.setText(LOGIN)
    dialog.manual.ca_file.setText(str(server.ca_file))
    type_in(qtbot, dialog, "Alice", "alice@corp.example.com", USERS[LOGIN])
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        dialog.primary.click()
    fix = dialog.diagnosis.fix
    assert fix.isVisible() and fix.text() == f"&Use port {server.port} with STARTTLS"
    with qtbot.waitSignal(dialog.tests.finished, timeout=15_000):
        qtbot.mouseClick(fix, Qt.MouseButton.LeftButton)
    assert dialog.status.text().startswith("It works")
    assert dialog.manual.current_security() is Security.STARTTLS
    assert dialog.manual.port.value() == server.port


def test_basic_auth_off_hands_the_sign_in_over_to_the_assistant(qtbot, open_setup) -> None:
    from app.core.accounts.model import Account
    from app.core.smtp.diagnose import classify
    from app.core.smtp.reply import Reply
    from app.core.smtp.steps import Step

    dialog = open_setup()
    type_in(qtbot, dialog, "Ada", "ada@contoso.example", "old password")
    account = Account(
        name="contoso", email="ada@contoso.example", host="smtp.office365.com", port=587,
        username="ada@contoso.example", preset="microsoft365",
    )  # fmt: skip
    refused = Reply(535, ("5.7.139 Authentication unsuccessful, basic authentication is off.",))
    dialog.diagnosis.show_error(classify(Step.AUTH, refused, account))  # what the test reports
    assert dialog.diagnosis.fix.text() == "&Sign in with Microsoft instead"
    with qtbot.waitSignal(dialog.step_by_step_requested) as handed:
        qtbot.mouseClick(dialog.diagnosis.fix, Qt.MouseButton.LeftButton)
    handover = handed.args[0]
    assert (handover.email, handover.from_name) == ("ada@contoso.example", "Ada")
    assert handover.preset == "microsoft365" and handover.sign_in  # the assistant signs in
    assert not dialog.isVisible()
