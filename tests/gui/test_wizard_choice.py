"""The assistant and the one-page setup follow the core's rule for settings from a provider
(app/core/setup/choice.py): the same answers the CLI gives."""

from __future__ import annotations

from app.core.accounts.model import PasswordMode, Security
from app.core.setup.detect import Candidate, Detection
from app.ui.wizard.setup_dialog import SetupDialog
from tests.gui.test_wizard import Button, click, fill_address, wizard  # noqa: F401 - fixture


def test_a_provider_whose_login_cannot_be_guessed_waits_for_it(qtbot, wizard) -> None:  # noqa: F811 - the fixture
    """Mailgun logs in with a name of its own: the CLI refuses without --username; the
    assistant says so and waits for it, instead of making an account with no login."""
    address = wizard.address_page
    address.provider.setCurrentIndex(address.provider.findData("mailgun"))
    fill_address(qtbot, wizard, "ada@example.com", name="news")
    page = wizard.server_page
    assert wizard.currentPage() is page
    assert page.host.text() == "smtp.mailgun.org" and page.username.text() == ""
    assert "needs a username that Relaydesk cannot guess" in page.subTitle()
    assert not page.isComplete()  # Next stays off until the login name is typed
    assert wizard.focusWidget() is page.username  # typing goes where it is needed
    qtbot.keyClicks(page.username, "postmaster@mg.example.com")
    assert page.isComplete()
    click(qtbot, wizard, Button.NextButton)
    assert wizard.currentPage() is wizard.password_page
    assert not wizard.password_page.no_login.isChecked()
    account = wizard.build_account()
    assert account.username == "postmaster@mg.example.com"
    assert account.password_mode is not PasswordMode.NONE


def test_a_lookup_in_the_provider_database_keeps_the_provider_like_the_cli(
    qtbot, relaydesk_home
) -> None:
    """`account add --email ada@web.de` stores preset web.de; so does the one-page setup."""

    def from_database(address: str) -> Detection:
        # A closed local port stands in for smtp.web.de: the test after the lookup fails at
        # once, and nothing leaves the machine.
        found = Candidate(
            "127.0.0.1", 9, Security.TLS, "ada", source="ispdb", preset="web.de",
            provider="WEB.DE",
        )  # fmt: skip
        return Detection(address, "web.de", (found,), ("ispdb: WEB.DE",))

    dialog = SetupDialog(detector=from_database)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.email, "ada@web.de")
    with qtbot.waitSignal(dialog.detector.found, timeout=5000):
        dialog.primary.click()
    assert dialog.source.text() == (
        "Settings: WEB.DE — 127.0.0.1:9 (found in Thunderbird's provider database)."
    )
    account = dialog.build_account()
    assert (account.host, account.port, account.username) == ("127.0.0.1", 9, "ada")
    assert account.preset == "web.de"
    dialog.reject()


def test_the_assistant_keeps_a_database_provider_found_by_the_lookup(qtbot, relaydesk_home) -> None:
    from app.ui.wizard.window import AccountWizard

    def from_database(address: str) -> Detection:
        found = Candidate(
            "smtp.web.de", 465, Security.TLS, "ada", source="ispdb", preset="web.de",
            provider="WEB.DE",
        )  # fmt: skip
        return Detection(address, "web.de", (found,), ("ispdb: WEB.DE",))

    assistant = AccountWizard(detector=from_database)
    qtbot.addWidget(assistant)
    assistant.show()
    fill_address(qtbot, assistant, "ada@web.de", name="web")
    qtbot.waitUntil(lambda: assistant.server_page.host.text() == "smtp.web.de", timeout=5000)
    account = assistant.build_account()
    assert (account.port, account.username, account.preset) == (465, "ada", "web.de")
    assistant.server_page.host.clear()
    qtbot.keyClicks(assistant.server_page.host, "relay.example.com")  # the person's own server
    assert assistant.build_account().preset is None
    assistant.reject()


def test_the_one_page_setup_asks_for_a_login_name_it_cannot_guess(
    qtbot, relaydesk_home, monkeypatch
) -> None:
    """No shipped provider with its own domains needs such a name today; one that does must
    not be tested (and stored) without a login."""
    from app.core.setup.providers import find_preset
    from app.ui.wizard import setup_dialog

    monkeypatch.setattr(setup_dialog, "preset_for_email", lambda _email: find_preset("mailgun"))
    dialog = SetupDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.email, "ada@mg.example.com")
    dialog.primary.click()
    assert not dialog.tests.running
    assert dialog.status.text().startswith("Mailgun (US) needs a username")
    assert dialog.manual.isVisible() and dialog.manual.host.text() == "smtp.mailgun.org"
    assert dialog.focusWidget() is dialog.manual.username
    dialog.reject()
