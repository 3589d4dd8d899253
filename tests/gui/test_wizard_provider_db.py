"""The wizard with the bundled provider database: a database domain is filled in at once with
its source named and the provider's page linked; a consumer Outlook domain is Outlook.com."""

from __future__ import annotations

import pytest

from app.core.accounts import Security
from app.ui.qt import Qt
from tests.gui import test_wizard_detect as base
from tests.gui.test_wizard_detect import Button, offline_detector

open_wizard = base.open_wizard  # the fixture, shared

pytestmark = pytest.mark.gui


def test_database_domain_is_filled_in_with_its_source_and_page(qtbot, open_wizard) -> None:
    wizard = open_wizard(offline_detector())
    qtbot.keyClicks(wizard.address_page.email, "alice@web.de")
    assert "WEB.DE" in wizard.address_page.recognised.text()
    assert "provider database" in wizard.address_page.recognised.text()
    with qtbot.waitSignal(wizard.detector.found, timeout=10_000):
        qtbot.mouseClick(wizard.button(Button.NextButton), Qt.MouseButton.LeftButton)

    page = wizard.server_page
    assert page.found.isVisible()
    assert page.found.text() == "From Thunderbird's database"
    assert (page.host.text(), page.port.value()) == ("smtp.web.de", 465)
    assert page.current_security() is Security.TLS
    assert page.username.text() == "alice"  # web.de logs in with the local part
    assert page.guide.isVisible()
    assert 'href="https://hilfe.web.de/pop-imap/einschalten.html"' in page.guide.text()
    assert "POP3 &amp; IMAP" in page.guide.text()  # the provider's own instruction


def test_consumer_outlook_domain_is_outlook_com(qtbot, open_wizard) -> None:
    calls: list[str] = []

    def detector(address: str):
        calls.append(address)
        raise AssertionError("a known domain needs no lookup")

    wizard = open_wizard(detector)
    qtbot.keyClicks(wizard.address_page.email, "alice@hotmail.co.uk")
    assert wizard.address_page.preset().id == "outlook"
    qtbot.mouseClick(wizard.button(Button.NextButton), Qt.MouseButton.LeftButton)
    page = wizard.server_page
    assert page.host.text() == "smtp-mail.outlook.com" and calls == []
    assert page.guide.isVisible() and "support.microsoft.com" in page.guide.text()
