"""Autodetection, offline: presets, a local DNS answer table, a local autoconfig web server,
and aiosmtpd servers on several 127.0.0.x addresses standing in for guessed host names."""

from __future__ import annotations

import socket
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from app.core.accounts.model import Security
from app.core.errors import InvalidAddress
from app.core.setup import autoconfig
from app.core.setup.detect import detect
from app.core.setup.dns_lookup import SrvRecord
from app.core.setup.probe import Prober
from tests.cli_runner import Cli, cli_env
from tests.support.smtp_servers import RecordingHandler


class TableResolver:
    """MX answers from a dict; every other name has none."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def mx(self, domain: str, timeout: float) -> list[str]:
        self.asked.append(domain)
        return self.table.get(domain, [])

    def srv(self, name: str, timeout: float) -> list[SrvRecord]:
        return []


def no_fetch(url: str, timeout: float) -> bytes | None:
    return None


def no_network(*args: object) -> socket.socket:
    raise AssertionError("this step must not touch the network")


OFFLINE = Prober(connect=no_network)  # type: ignore[arg-type]


# -- 1. presets -----------------------------------------------------------------------------


def test_preset_domain_answers_without_any_lookup() -> None:
    resolver = TableResolver({})
    found = detect("ada@yahoo.com", resolver=resolver, fetcher=no_fetch, prober=OFFLINE)
    assert found.source == "preset" and found.label == "known provider"
    best = found.best
    assert best is not None
    assert (best.host, best.port, best.security) == ("smtp.mail.yahoo.com", 465, Security.TLS)
    assert best.username == "ada@yahoo.com" and best.preset == "yahoo"
    assert [(c.port, c.security) for c in found.candidates[1:]] == [(587, Security.STARTTLS)]
    assert resolver.asked == []


def test_cli_detect_a_preset_domain(tmp_path: Path) -> None:
    cli = Cli(cli_env(None, tmp_path / "home"))
    run = cli("account", "detect", "ada@gmail.com", "--json")
    assert run.code == 0, run.stderr
    assert run.json["source"] == "preset"
    assert run.json["candidates"][0]["host"] == "smtp.gmail.com"
    text = cli("account", "detect", "ada@gmail.com")
    assert "known provider" in text.stdout and "--preset gmail" in text.stdout


def test_not_an_address() -> None:
    with pytest.raises(InvalidAddress):
        detect("no-at-sign.example", resolver=TableResolver({}), prober=OFFLINE)


# -- 2. MX ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mx", "preset", "host"),
    [
        ("example-test.mail.protection.outlook.com", "microsoft365", "smtp.office365.com"),
        ("aspmx.l.google.com", "google-workspace", "smtp.gmail.com"),
        ("in1-smtp.messagingengine.com", "fastmail", "smtp.fastmail.com"),
    ],
)
def test_mx_of_a_known_provider(mx: str, preset: str, host: str) -> None:
    resolver = TableResolver({"example.test": ["mx-backup.example.test", mx]})
    found = detect("alice@example.test", resolver=resolver, fetcher=no_fetch, prober=OFFLINE)
    assert found.source == "mx" and found.label == "found via MX"
    assert found.best is not None
    assert (found.best.preset, found.best.host) == (preset, host)
    assert mx in found.best.note
    assert any(line.startswith(f"mx: {mx}") for line in found.trail)


# -- 3. autoconfig --------------------------------------------------------------------------

CONFIG = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>relay.%EMAILDOMAIN%</hostname><port>25</port><socketType>plain</socketType>
      <username>%EMAILLOCALPART%</username><authentication>none</authentication>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>submit.%EMAILDOMAIN%</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>submit.%EMAILDOMAIN%</hostname><port>587</port><socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<clientConfig version="1.1"><emailProvider id="x"><outgoingServer type="smtp">
<hostname>&lol2;</hostname><port>587</port><socketType>STARTTLS</socketType>
</outgoingServer></emailProvider></clientConfig>
"""


@pytest.fixture
def web() -> Iterator[tuple[dict[str, bytes], list[str], autoconfig.Fetcher]]:
    """A local web server: documents by "host/path"; a fetcher that sends every URL there."""
    documents: dict[str, bytes] = {}
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key = urllib.parse.urlsplit(self.path).path.lstrip("/")
            body = documents.get(key)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            self.wfile.write(body or b"not here")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    port = server.server_address[1]

    def fetch(url: str, timeout: float) -> bytes | None:
        requested.append(url)
        parts = urllib.parse.urlsplit(url)
        local = f"http://127.0.0.1:{port}/{parts.netloc}{parts.path}?{parts.query}"
        return autoconfig.fetch_url(local, timeout)

    yield documents, requested, fetch
    server.shutdown()
    server.server_close()
    thread.join()


def test_autoconfig_from_the_domains_well_known_location(web) -> None:
    documents, requested, fetch = web
    documents["example.test/.well-known/autoconfig/mail/config-v1.1.xml"] = CONFIG
    resolver = TableResolver({"example.test": ["mx.example.test"]})  # MX of no known provider
    found = detect("alice@example.test", resolver=resolver, fetcher=fetch, prober=OFFLINE)
    assert found.source == "autoconfig" and found.label == "found via autoconfig"
    assert [(c.host, c.port, c.security, c.username) for c in found.candidates] == [
        ("submit.example.test", 465, Security.TLS, "alice"),
        ("submit.example.test", 587, Security.STARTTLS, "alice@example.test"),
        ("relay.example.test", 25, Security.NONE, "alice"),
    ]
    # The locations are asked at once; the address goes only to the domain's own host.
    first = next(u for u in requested if u.startswith("https://autoconfig.example.test/"))
    assert "emailaddress=alice%40example.test" in first
    assert "https://example.test/.well-known/autoconfig/mail/config-v1.1.xml" in requested
    assert "mx: mx.example.test (no known provider)" in found.trail


def test_autoconfig_with_entities_is_refused_and_the_next_location_used(web) -> None:
    documents, _, fetch = web
    documents["autoconfig.example.test/mail/config-v1.1.xml"] = ENTITY_BOMB
    documents["example.test/.well-known/autoconfig/mail/config-v1.1.xml"] = CONFIG
    found = detect("alice@example.test", resolver=TableResolver({}), fetcher=fetch, prober=OFFLINE)
    assert found.source == "autoconfig"
    assert found.best is not None and found.best.host == "submit.example.test"


def test_plain_http_autoconfig_is_marked(web) -> None:
    documents, requested, fetch = web

    def https_fails(url: str, timeout: float) -> bytes | None:
        return fetch(url, timeout) if url.startswith("http://") else None

    documents["autoconfig.example.test/mail/config-v1.1.xml"] = CONFIG
    found = detect(
        "alice@example.test", resolver=TableResolver({}), fetcher=https_fails, prober=OFFLINE
    )
    assert found.best is not None and "plain HTTP" in found.best.note


# -- 4. guess and probe ---------------------------------------------------------------------


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def guessed_servers(tmp_path: Path) -> Iterator[tuple[Prober, dict[tuple[str, int], str]]]:
    """smtp.example.test on 127.0.0.2 and mail.example.test on 127.0.0.3, several ports each."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    stranger = trustme.CA()  # a CA the prober does not trust
    routes: dict[tuple[str, int], tuple[str, int]] = {}
    kinds: dict[tuple[str, int], str] = {}
    controllers: list[Controller] = []

    def serve(name: str, address: str, port: int, mode: str, *, trusted=True, auth=True):
        cert = (ca if trusted else stranger).issue_cert(name)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        options: dict[str, object] = {"auth_require_tls": mode == "starttls"}
        options.update({"ssl_context": context} if mode == "tls" else {"tls_context": context})
        if not auth:
            options["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]
        real_port = _free_port(address)
        controller = Controller(
            RecordingHandler(),
            hostname=address,
            port=real_port,
            server_hostname=name,
            authenticator=lambda *a: None,
            **options,
        )
        controller.start()
        controllers.append(controller)
        routes[(name, port)] = (address, real_port)
        kinds[(name, port)] = mode

    serve("smtp.example.test", "127.0.0.2", 465, "tls", trusted=False)
    serve("smtp.example.test", "127.0.0.2", 25, "starttls", auth=False)
    serve("mail.example.test", "127.0.0.3", 587, "starttls")

    def connect(host: str, port: int, timeout: float) -> socket.socket:
        if (host, port) not in routes:
            raise ConnectionRefusedError(111, "Connection refused")
        return socket.create_connection(routes[(host, port)], timeout=timeout)

    yield Prober(connect=connect, cafile=str(ca_file), timeout=2.0), kinds
    for controller in controllers:
        controller.stop()


def test_guess_and_probe_ranks_verified_tls_then_auth(guessed_servers) -> None:
    prober, _ = guessed_servers
    found = detect(
        "alice@example.test", resolver=TableResolver({}), fetcher=no_fetch, prober=prober
    )
    assert found.source == "probe" and found.label == "guessed"
    summary = [(c.host, c.port, c.security, c.verified, c.auth_offered) for c in found.candidates]
    assert summary == [
        ("mail.example.test", 587, Security.STARTTLS, True, True),
        ("smtp.example.test", 25, Security.STARTTLS, True, False),
        ("smtp.example.test", 465, Security.TLS, False, True),
    ]
    assert "certificate not trusted" in found.candidates[2].note
    assert found.best is not None and found.best.username == "alice@example.test"
    assert "probe: 3 of 9 guesses answered" in found.trail


def test_nothing_found_anywhere() -> None:
    def refuse(host: str, port: int, timeout: float) -> socket.socket:
        raise ConnectionRefusedError(111, "Connection refused")

    prober = Prober(connect=refuse)
    found = detect(
        "alice@example.test", resolver=TableResolver({}), fetcher=no_fetch, prober=prober
    )
    assert found.candidates == () and found.best is None and found.label == "not found"
    assert found.to_dict()["status"] == "not_found"
    steps = [line.split(":")[0] for line in found.trail]
    assert steps == ["preset", "autoconfig", "srv", "mx", "online", "probe"]
