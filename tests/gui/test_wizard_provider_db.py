"""The wizard with the bundled provider database: a database domain is filled in at once with
its source named and the provider's page linked; a consumer Outlook domain is Outlook.com."""

from __future__ import annotations

import threading
import time

import pytest

from app.core import settings
from app.core.accounts.model import Security
from app.core.setup.detect import Detection, detect
from app.core.store import Store
from app.qt import Qt, QtWidgets
from app.ui.settings.dialog import SettingsDialog
from app.workers import detect_worker
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


REAL_DEFAULT_DETECTOR = detect_worker.default_detector  # before the autouse offline patch


def test_settings_dialog_turns_the_online_database_on_for_the_wizard(qtbot, relaydesk_home) -> None:
    assert REAL_DEFAULT_DETECTOR().keywords["online"] is False  # off until asked for
    with Store.open() as store:
        dialog = SettingsDialog(store)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        box = dialog._editors["detect_online_lookup"]
        assert isinstance(box, QtWidgets.QCheckBox) and not box.isChecked()
        assert "autoconfig.thunderbird.net" in box.toolTip()
        box.setFocus()
        qtbot.keyClick(box, Qt.Key.Key_Space)
        ok = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        assert settings.get(store, "detect_online_lookup") is True
    assert REAL_DEFAULT_DETECTOR().keywords["online"] is True


class SlowDns:
    """A DNS server that takes 3 s to answer anything."""

    def mx(self, domain: str, timeout: float) -> list[str]:
        time.sleep(3)
        return []

    def srv(self, name: str, timeout: float) -> list:
        time.sleep(3)
        return []


def test_moving_on_cancels_the_running_lookup(qtbot, open_wizard) -> None:
    ended: list[float] = []

    def detector(address: str, *, cancel: threading.Event) -> Detection:
        try:
            return detect(address, resolver=SlowDns(), fetcher=lambda u, t: None, cancel=cancel)
        finally:
            ended.append(time.monotonic())

    wizard = open_wizard(detector)
    qtbot.keyClicks(wizard.address_page.email, "alice@slow.example")
    qtbot.mouseClick(wizard.button(Button.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.detector.running and wizard.server_page.found.text() == "Looking up…"
    qtbot.mouseClick(wizard.button(Button.BackButton), Qt.MouseButton.LeftButton)
    wizard.address_page.email.clear()
    qtbot.keyClicks(wizard.address_page.email, "alice@gmail.com")  # a known provider
    moved_on = time.monotonic()
    qtbot.mouseClick(wizard.button(Button.NextButton), Qt.MouseButton.LeftButton)
    assert not wizard.detector.running
    qtbot.waitUntil(lambda: bool(ended), timeout=1000)  # not the 3 s DNS wait
    assert ended[0] - moved_on < 0.5
    assert wizard.server_page.host.text() == "smtp.gmail.com"
