"""Where detection finds settings beyond the address's own domain: SRV records, the MX host's
provider (Public Suffix List), the Microsoft consumer/business split, the curated overlay over
the database, and the online database only when allowed. Offline: DNS and HTTP are tables."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from app.core import settings
from app.core.accounts.model import Security
from app.core.errors import Cancelled
from app.core.setup.detect import detect
from app.core.setup.dns_lookup import SrvRecord
from app.core.setup.ispdb import Provider, Server
from app.core.setup.presets import Link, get_preset
from app.core.setup.probe import Prober
from app.core.setup.providers import Catalogue
from app.core.store import Store
from tests.cli_runner import Cli, cli_env


class Dns:
    """MX and SRV answers from dicts; records which names were asked."""

    def __init__(
        self,
        mx: dict[str, list[str]] | None = None,
        srv: dict[str, list[SrvRecord]] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.mx_table, self.srv_table, self.delay = mx or {}, srv or {}, delay
        self.asked: list[str] = []

    def mx(self, domain: str, timeout: float) -> list[str]:
        self.asked.append(f"MX {domain}")
        time.sleep(self.delay)
        return self.mx_table.get(domain, [])

    def srv(self, name: str, timeout: float) -> list[SrvRecord]:
        self.asked.append(f"SRV {name}")
        time.sleep(self.delay)
        return self.srv_table.get(name, [])


class Web:
    """GET answers by URL; records every URL asked."""

    def __init__(self, pages: dict[str, bytes] | None = None, delay: float = 0.0) -> None:
        self.pages, self.delay = pages or {}, delay
        self.asked: list[str] = []

    def __call__(self, url: str, timeout: float) -> bytes | None:
        self.asked.append(url)
        time.sleep(self.delay)
        return self.pages.get(url)


def refuse(host: str, port: int, timeout: float) -> socket.socket:
    raise ConnectionRefusedError(111, "Connection refused")


CLOSED = Prober(connect=refuse)


def find(address: str, dns: Dns | None = None, web: Web | None = None, **kw: object):
    return detect(address, resolver=dns or Dns(), fetcher=web or Web(), prober=CLOSED, **kw)


# -- SRV ------------------------------------------------------------------------------------


def test_srv_records_give_the_submission_server_implicit_tls_first() -> None:
    dns = Dns(
        srv={
            "_submission._tcp.example.test": [SrvRecord(0, 1, 587, "mail.example.test")],
            "_submissions._tcp.example.test": [
                SrvRecord(10, 1, 465, "backup.example.test"),
                SrvRecord(0, 5, 465, "smtp.example.test"),
                SrvRecord(0, 50, 465, "heavy.example.test"),
            ],
        }
    )
    found = find("ann@example.test", dns)
    assert found.source == "srv" and found.label == "found via DNS SRV records"
    assert [(c.host, c.port, c.security) for c in found.candidates] == [
        ("heavy.example.test", 465, Security.TLS),
        ("smtp.example.test", 465, Security.TLS),
        ("backup.example.test", 465, Security.TLS),
        ("mail.example.test", 587, Security.STARTTLS),
    ]
    assert found.best is not None and found.best.username == "ann@example.test"
    assert "outside" not in found.best.note


def test_srv_server_outside_the_domain_is_pointed_out() -> None:
    dns = Dns(srv={"_submissions._tcp.example.test": [SrvRecord(0, 0, 465, "smtp.hoster.example")]})
    found = find("ann@example.test", dns)
    assert found.best is not None and found.best.host == "smtp.hoster.example"
    assert "outside example.test" in found.best.note


def test_srv_dot_target_means_no_service_and_the_next_source_answers() -> None:
    dns = Dns(
        mx={"example.test": ["mx00.web.de"]},
        srv={
            "_submissions._tcp.example.test": [SrvRecord(0, 0, 0, ".")],
            "_submission._tcp.example.test": [SrvRecord(0, 0, 587, ".")],
        },
    )
    found = find("ann@example.test", dns)
    assert "srv: _submissions._tcp says the domain offers no such service" in found.trail
    assert all(c.host != "." for c in found.candidates)
    assert found.source == "mx" and found.best is not None and found.best.host == "smtp.web.de"


# -- MX → the provider of the MX host's domain ------------------------------------------------


@pytest.mark.parametrize(
    ("mx", "host", "port", "preset"),
    [
        ("mx00.web.de", "smtp.web.de", 465, "web.de"),  # registrable domain of the MX
        ("mx01.kundenserver.de", "smtp.1und1.de", 465, "1und1.de"),  # a listed hosting domain
        ("mx.zoho.eu", "smtp.zoho.eu", 465, "zoho.eu"),
        ("mx1.mail.ovh.net", "ssl0.ovh.net", 465, "ovh.net"),
    ],
)
def test_mx_of_a_hosted_domain_finds_the_database_provider(
    mx: str, host: str, port: int, preset: str
) -> None:
    found = find("ann@shop.example.test", Dns(mx={"shop.example.test": [mx]}))
    assert found.source == "mx" and found.best is not None
    assert (found.best.host, found.best.port, found.best.preset) == (host, port, preset)
    assert mx in found.best.note


def test_mx_lookalike_of_a_public_suffix_does_not_match() -> None:
    # web.de.example.test is not web.de; co.uk alone is a public suffix, nobody's provider.
    dns = Dns(mx={"example.test": ["web.de.example.test", "mx.co.uk"]})
    found = find("ann@example.test", dns)
    assert found.source is None and "mx: web.de.example.test, mx.co.uk (no known provider)" in (
        found.trail
    )


# -- Microsoft: consumer Outlook and Microsoft 365 share protection.outlook.com -----------------


@pytest.mark.parametrize("address", ["a@hotmail.co.uk", "a@outlook.de"])
def test_consumer_outlook_domains_are_outlook_com_not_microsoft_365(address: str) -> None:
    domain = address.split("@")[1]
    dns = Dns(mx={domain: ["eur.olc.protection.outlook.com"]})
    found = find(address, dns)
    assert found.best is not None and found.best.preset == "outlook"
    assert found.best.host == "smtp-mail.outlook.com" and found.best.provider == "Outlook.com"
    assert dns.asked == []  # known by its domain: no DNS needed


def test_mx_routes_consumer_and_business_microsoft_hosts_apart() -> None:
    dns = Dns(
        mx={
            "family.example": ["family-example.olc.protection.outlook.com"],
            "contoso.example": ["contoso-example.mail.protection.outlook.com"],
        }
    )
    consumer = find("a@family.example", dns).best
    business = find("a@contoso.example", dns).best
    assert consumer is not None and consumer.preset == "outlook"
    assert business is not None and business.preset == "microsoft365"
    assert business.host == "smtp.office365.com"


# -- the curated overlay wins ----------------------------------------------------------------


def test_curated_preset_wins_and_the_database_fills_the_rest() -> None:
    curated = get_preset("gmail")
    database = (
        Provider(
            "googlemail.com",
            "Google Mail (database)",
            ("gmail.com", "googlemail.com", "example-school.edu"),
            (
                Server("smtp.gmail.com", 2465, Security.TLS, "%EMAILLOCALPART%", ("OAuth2",)),
                Server("other.example", 465, Security.TLS, None, ()),
            ),
            (Link("https://example.org/enable", "Switch IMAP on", "enable"),),
        ),
    )
    cat = Catalogue((curated, get_preset("custom")), database)
    found = cat.for_domain("example-school.edu")  # a domain only the database lists
    assert found is not None and found.origin == "curated+ispdb"
    preset = found.preset
    assert (preset.id, preset.name, preset.host) == ("gmail", "Gmail", "smtp.gmail.com")
    assert preset.username == curated.username and preset.daily_limit == 500
    assert preset.app_password_url == curated.app_password_url
    assert (2465, Security.TLS) in [(o.port, o.security) for o in preset.options]
    assert preset.options[0].port == 465  # the curated implicit-TLS port stays first
    assert [link.kind for link in preset.guidance()] == ["app_password", "enable", "docs"]


def test_gmail_detection_names_the_curated_preset() -> None:
    found = find("ada@gmail.com")
    assert found.source == "preset" and found.best is not None
    assert found.best.provider == "Gmail"  # not the database's "Google Mail"
    assert found.links[0].kind == "app_password"


# -- the online database --------------------------------------------------------------------

ONLINE_DOC = b"""<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="new.example">
<domain>new.example</domain><displayName>New Mail</displayName>
<outgoingServer type="smtp"><hostname>smtp.new.example</hostname><port>587</port>
<socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username>
<authentication>password-cleartext</authentication></outgoingServer>
<documentation url="https://new.example/help"><descr>Help</descr></documentation>
</emailProvider></clientConfig>"""
ONLINE_URL = "https://autoconfig.thunderbird.net/v1.1/new.example"


def test_online_database_is_not_asked_unless_allowed() -> None:
    web = Web({ONLINE_URL: ONLINE_DOC})
    found = find("ann@new.example", web=web)
    assert ONLINE_URL not in web.asked and found.source is None
    assert "online: not asked (turned off in the settings)" in found.trail


def test_online_database_when_allowed_learns_only_the_domain() -> None:
    web = Web({ONLINE_URL: ONLINE_DOC})
    found = find("ann@new.example", web=web, online=True)
    assert found.source == "online" and found.best is not None
    assert (found.best.host, found.best.port) == ("smtp.new.example", 587)
    assert found.best.preset is None  # nothing shipped to refer to later
    assert [link.url for link in found.links] == ["https://new.example/help"]
    thunderbird = [url for url in web.asked if "thunderbird.net" in url]
    assert thunderbird == [ONLINE_URL] and "ann" not in thunderbird[0]


def test_the_setting_turns_the_online_database_off_for_the_cli(relaydesk_home: Path) -> None:
    cli = Cli(cli_env(None, relaydesk_home))
    args = ("account", "detect", "ann@nothing-here.test", "--timeout", "0.5", "--json")
    assert "online: not asked (turned off in the settings)" in cli(*args).json["trail"]
    with Store.open() as store:
        assert settings.get(store, "detect_online_lookup") is False  # the default
        settings.put(store, "detect_online_lookup", True)
    assert "online: not asked (turned off in the settings)" not in cli(*args).json["trail"]


# -- bounded and cancellable ------------------------------------------------------------------


def test_network_sources_are_asked_at_once() -> None:
    dns, web = Dns(delay=0.4), Web(delay=0.4)
    started = time.monotonic()
    find("ann@slow.example", dns, web, timeout=2.0)
    # Seven questions of 0.4 s each (three autoconfig URLs, MX, two SRV): in parallel.
    assert time.monotonic() - started < 1.2
    assert len(web.asked) == 3 and len(dns.asked) == 3


def test_a_hanging_step_is_cut_off_at_the_timeout() -> None:
    started = time.monotonic()
    found = find("ann@slow.example", Dns(delay=5.0), timeout=0.3)
    assert time.monotonic() - started < 2.0 and found.best is None


def test_cancel_stops_the_lookup() -> None:
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        find("ann@slow.example", Dns(delay=3.0), timeout=5.0, cancel=cancel)
    assert time.monotonic() - started < 1.0
