"""The one-page setup hands a provider that signs in over to the assistant: the address, the
name and the provider come along, and the assistant opens on its sign-in step with the
sign-in chosen — the person does not have to find the box."""

from __future__ import annotations

import os
from pathlib import Path

from app.core.accounts.model import Account
from app.qt import Qt
from app.ui.wizard.model import Handover
from app.ui.wizard.window import AccountWizard

SHOTS = os.environ.get("RELAYDESK_SHOTS")  # a folder: save a screenshot of each state


def _shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / f"handover-{name}.png"))


def _open_setup(qtbot, controller):
    page = controller.window.accounts
    page.open_setup()
    dialog = page.wizard
    qtbot.waitExposed(dialog)
    return page, dialog


def test_outlook_sign_in_opens_the_assistant_on_its_sign_in_step(qtbot, controller) -> None:
    page, dialog = _open_setup(qtbot, controller)
    qtbot.keyClicks(dialog.from_name, "Ada")
    qtbot.keyClicks(dialog.email, "ada@outlook.com")
    dialog.primary.click()
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    wizard = page.wizard
    assert isinstance(wizard, AccountWizard) and wizard.isVisible()
    password_page = wizard.password_page
    assert wizard.currentPage() is password_page
    assert password_page.uses_signin() and password_page.signin.isVisible()
    assert not password_page.password.isVisible()  # Outlook.com takes no password
    assert password_page.signin.button.text() == "&Sign in with Microsoft"
    assert wizard.focusWidget() is password_page.signin.button  # Return signs in
    assert wizard.build_account().username == "ada@outlook.com"
    assert wizard.address_page.from_name.text() == "Ada"
    wizard.reject()


def test_basic_auth_off_arrives_with_sign_in_ticked_for_the_provider_found(
    qtbot, controller
) -> None:
    from app.core.smtp.diagnose import classify
    from app.core.smtp.reply import Reply
    from app.core.smtp.steps import Step

    page, dialog = _open_setup(qtbot, controller)
    qtbot.keyClicks(dialog.from_name, "Ada")
    qtbot.keyClicks(dialog.email, "ada@contoso.example")  # Microsoft 365 behind its own domain
    account = Account(
        name="contoso", email="ada@contoso.example", host="smtp.office365.com", port=587,
        username="ada@contoso.example", preset="microsoft365",
    )  # fmt: skip
    refused = Reply(535, ("5.7.139 Authentication unsuccessful, basic authentication is off.",))
    dialog.diagnosis.show_error(classify(Step.AUTH, refused, account))
    qtbot.mouseClick(dialog.diagnosis.fix, Qt.MouseButton.LeftButton)  # "Sign in with Microsoft"

    wizard = page.wizard
    assert isinstance(wizard, AccountWizard) and wizard.isVisible()
    qtbot.waitExposed(wizard)
    _shot(wizard, "microsoft365")
    password_page = wizard.password_page
    assert wizard.currentPage() is password_page
    assert wizard.address_page.preset().id == "microsoft365"
    assert wizard.server_page.host.text() == "smtp.office365.com"
    assert password_page.use_signin.isVisible()  # offered beside the password …
    assert password_page.use_signin.isChecked()  # … and already chosen
    assert password_page.signin.isVisible() and not password_page.password.isVisible()
    assert password_page.signin.button.text() == "&Sign in with Microsoft"

    # Unticked by the person, it stays unticked when they come back to the step.
    password_page.use_signin.click()
    wizard.back()
    wizard.next()
    assert wizard.currentPage() is password_page and not password_page.use_signin.isChecked()
    wizard.reject()


def test_a_handover_for_an_unknown_provider_stays_on_the_address(qtbot, relaydesk_home) -> None:
    wizard = AccountWizard(start=Handover("ada@corp.example", "Ada", None, sign_in=True))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.go_to_sign_in()
    assert wizard.currentPage() is wizard.address_page  # the server is not known yet
    assert wizard.address_page.email.text() == "ada@corp.example"
    assert wizard.address_page.from_name.text() == "Ada"
    wizard.reject()


def test_a_handover_whose_account_name_is_taken_stops_where_it_says_so(
    qtbot, relaydesk_home
) -> None:
    from app.core.accounts import model as accounts
    from app.core.store import Store

    with Store.open() as store:
        taken = Account(name="outlook", email="old@outlook.com", host="smtp.example", port=587)
        accounts.add_account(store, taken)
    wizard = AccountWizard(start=Handover("ada@outlook.com", "Ada", "outlook", sign_in=True))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.go_to_sign_in()
    assert wizard.currentPage() is wizard.address_page
    assert "already exists" in wizard.address_page.error.text()
    wizard.reject()
