"""Autodetection in the wizard, offline: a dict-backed DNS table, an in-memory autoconfig
document and an aiosmtpd server standing in for a guessed host. No real domain is looked up."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from app.core.accounts.model import Security
from app.core.setup.detect import Detection, detect
from app.core.setup.dns_lookup import SrvRecord
from app.core.setup.probe import Prober
from app.qt import Qt, QtWidgets
from app.ui.wizard.window import AccountWizard
from app.workers import base as workers
from tests.support.probing import prober_for
from tests.support.smtp_servers import RecordingHandler

pytestmark = pytest.mark.gui

Button = QtWidgets.QWizard.WizardButton
M365_MX = "example-org.mail.protection.outlook.com"
CONFIG = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <outgoingServer type="smtp">
      <hostname>submit.%EMAILDOMAIN%</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


class TableResolver:
    """MX answers from a dict; every other domain has none."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    def mx(self, domain: str, timeout: float) -> list[str]:
        return self.table.get(domain, [])

    def srv(self, name: str, timeout: float) -> list[SrvRecord]:
        return []


def no_fetch(url: str, timeout: float) -> bytes | None:
    return None


def refuse(host: str, port: int, timeout: float) -> object:
    raise ConnectionRefusedError(111, "Connection refused")


OFFLINE = Prober(connect=refuse)  # type: ignore[arg-type]


def offline_detector(
    mx: dict[str, list[str]] | None = None,
    fetcher: Callable[[str, float], bytes | None] = no_fetch,
    prober: Prober = OFFLINE,
) -> Callable[[str], Detection]:
    return partial(
        detect, resolver=TableResolver(mx or {}), fetcher=fetcher, prober=prober, timeout=1.0
    )


@pytest.fixture
def open_wizard(qtbot, relaydesk_home: Path) -> Iterator[Callable[..., AccountWizard]]:
    made: list[AccountWizard] = []

    def make(detector: Callable[[str], Detection]) -> AccountWizard:
        wizard = AccountWizard(detector=detector)
        qtbot.addWidget(wizard)
        wizard.show()
        qtbot.waitExposed(wizard)
        made.append(wizard)
        return wizard

    yield make
    for wizard in made:
        wizard.reject()
    assert workers.wait_for_threads(3000)


def leave_address_page(qtbot, wizard: AccountWizard, email: str) -> None:
    qtbot.keyClicks(wizard.address_page.email, email)
    qtbot.mouseClick(wizard.button(Button.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.currentPage() is wizard.server_page


def detect_on_page_two(qtbot, wizard: AccountWizard, email: str) -> None:
    with qtbot.waitSignal(wizard.detector.found, timeout=10_000):
        leave_address_page(qtbot, wizard, email)


def test_mx_of_a_known_provider_fills_page_two(qtbot, open_wizard) -> None:
    wizard = open_wizard(offline_detector({"example.org": [M365_MX]}))
    detect_on_page_two(qtbot, wizard, "alice@example.org")

    page = wizard.server_page
    assert page.found.isVisible() and page.found.text() == "Found via MX"
    assert M365_MX in page.subTitle()
    assert (page.host.text(), page.port.value()) == ("smtp.office365.com", 587)
    assert page.current_security() is Security.STARTTLS
    assert page.username.text() == "alice@example.org"
    assert wizard.address_page.preset().id == "microsoft365"
    qtbot.mouseClick(wizard.button(Button.NextButton), Qt.MouseButton.LeftButton)
    assert "switched SMTP sending off" in wizard.password_page.guidance.text()  # its advice
    assert wizard.build_account().preset == "microsoft365"


def test_autoconfig_document_fills_page_two(qtbot, open_wizard) -> None:
    asked: list[str] = []

    def fetch(url: str, timeout: float) -> bytes | None:
        asked.append(url)
        return CONFIG if url.startswith("https://autoconfig.example.org/") else None

    wizard = open_wizard(offline_detector(fetcher=fetch))
    detect_on_page_two(qtbot, wizard, "alice@example.org")
    page = wizard.server_page
    assert page.found.text() == "Found via autoconfig"
    assert (page.host.text(), page.port.value()) == ("submit.example.org", 465)
    assert page.current_security() is Security.TLS and page.username.text() == "alice"
    assert asked and "autoconfig.example.org" in page.subTitle()


@pytest.fixture
def guessed_server(tmp_path: Path) -> Iterator[Prober]:
    """smtp.example.org:587 (STARTTLS, its own trusted certificate), reached on loopback."""
    ca = trustme.CA()
    ca_file = tmp_path / "guessed-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("smtp.example.org").configure_cert(context)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(
        RecordingHandler(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="smtp.example.org",
        tls_context=context,
        authenticator=lambda *args: None,
    )
    controller.start()
    yield prober_for({("smtp.example.org", 587): ("127.0.0.1", port)}, str(ca_file))
    controller.stop()


def test_guessed_server_is_marked_for_checking(qtbot, open_wizard, guessed_server) -> None:
    wizard = open_wizard(offline_detector(prober=guessed_server))
    detect_on_page_two(qtbot, wizard, "alice@example.org")
    page = wizard.server_page
    assert page.found.text() == "Guessed — please check"
    assert (page.host.text(), page.port.value()) == ("smtp.example.org", 587)
    assert page.current_security() is Security.STARTTLS
    assert "guessed" in page.subTitle()


def test_nothing_found_says_so_and_leaves_the_fields_to_the_person(qtbot, open_wizard) -> None:
    wizard = open_wizard(offline_detector())
    detect_on_page_two(qtbot, wizard, "alice@example.org")
    page = wizard.server_page
    assert page.found.text() == "No settings found" and page.host.text() == ""
    assert "could not find the settings for example.org" in page.subTitle()
    assert not wizard.button(Button.NextButton).isEnabled()
    qtbot.keyClicks(page.host, "relay.example.org")
    assert not page.found.isVisible()  # it would read as "this host was not found"
    assert wizard.button(Button.NextButton).isEnabled()


def test_a_preset_domain_is_not_looked_up(qtbot, open_wizard) -> None:
    calls: list[str] = []

    def detector(address: str) -> Detection:
        calls.append(address)
        raise AssertionError("a preset domain must not be looked up")

    wizard = open_wizard(detector)
    leave_address_page(qtbot, wizard, "ada@gmail.com")
    qtbot.wait(50)
    assert calls == [] and not wizard.detector.running
    assert wizard.server_page.host.text() == "smtp.gmail.com"
    assert not wizard.server_page.found.isVisible()


def test_a_host_typed_while_looking_is_kept(qtbot, open_wizard) -> None:
    release = threading.Event()
    found = offline_detector({"example.org": [M365_MX]})

    def slow(address: str) -> Detection:
        release.wait(5)
        return found(address)

    wizard = open_wizard(slow)
    leave_address_page(qtbot, wizard, "alice@example.org")
    page = wizard.server_page
    assert page.found.text() == "Looking up…" and "Looking up" in page.subTitle()
    qtbot.keyClicks(page.host, "relay.example.org")
    with qtbot.waitSignal(wizard.detector.found, timeout=5000):
        release.set()
    assert page.host.text() == "relay.example.org"
    assert page.found.text() == "Found via MX" and "kept" in page.subTitle()


def test_moving_on_abandons_a_slow_lookup_without_waiting(qtbot, open_wizard) -> None:
    release = threading.Event()
    answered: list[str] = []

    def slow(address: str) -> Detection:
        release.wait(5)
        answered.append(address)
        return offline_detector({"example.org": [M365_MX]})(address)

    wizard = open_wizard(slow)
    leave_address_page(qtbot, wizard, "alice@example.org")
    assert wizard.detector.running
    started = time.monotonic()
    qtbot.mouseClick(wizard.button(Button.BackButton), Qt.MouseButton.LeftButton)
    wizard.address_page.email.setText("alice@example.net")
    qtbot.mouseClick(wizard.button(Button.NextButton), Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 0.5  # the first lookup was not waited for
    assert wizard.detector.address == "alice@example.net"
    release.set()
    with qtbot.waitSignal(wizard.detector.found, timeout=5000) as signal:
        pass
    assert signal.args[0] == "alice@example.net"  # the abandoned answer never arrived
    assert wizard.server_page.found.text() == "No settings found"  # example.net: no MX here
    assert wizard.server_page.host.text() == ""
    assert workers.wait_for_threads(3000)
    assert sorted(answered) == ["alice@example.net", "alice@example.org"]
