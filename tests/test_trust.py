"""Certificate trust: see the certificate, pin it only with consent, fail hard when it changes."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from app.core import errors
from app.core.setup.certificate import parse_certificate
from app.core.setup.checks import run_test
from app.core.setup.trust import fetch_certificate
from tests.cli_runner import Cli, cli_env
from tests.support.probing import FAST, account_for, prober_for
from tests.support.smtp_servers import USERS

USER = "alice@example.test"


def test_parsed_certificate_matches_what_cryptography_reads(ca) -> None:
    leaf = ca.issue_cert("relay.example.test", "127.0.0.1")
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    info = parse_certificate(der)
    reference = x509.load_der_x509_certificate(der)
    assert info.not_after == reference.not_valid_after_utc
    assert info.not_before == reference.not_valid_before_utc
    assert info.issuer.split(", ") == reference.issuer.rfc4514_string().split(",")
    assert info.dns_names == ("relay.example.test", "127.0.0.1")
    assert info.fingerprint.replace(":", "").lower() == info.sha256
    with pytest.raises(ValueError):
        parse_certificate(b"\x30\x03\x02\x01")


@pytest.mark.parametrize("mode", ["tls", "starttls"])
def test_fetch_shows_the_untrusted_certificate_in_both_modes(smtp_server, mode: str) -> None:
    server = smtp_server(mode=mode, cert="untrusted")
    info = fetch_certificate(account_for(server, security=mode), timeout=2)
    assert info.subject.startswith("OU=Testing cert") and not info.expired()
    assert server.auth_attempts == []  # looking is not logging in


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(cli_env(None, tmp_path / "home"))


def add(cli: Cli, server) -> None:
    run = cli(
        "account", "add", "work", "--email", "alice@example.com", "--host", server.host,
        "--port", str(server.port), "--security", "tls", "--username", USER, "--ask-password",
    )  # fmt: skip
    assert run.code == 0, run.stderr


def account_test(cli: Cli, *extra: str):
    return cli("account", "test", "work", "--password-stdin", *extra, stdin=USERS[USER])


def test_trust_after_confirmation_then_the_test_passes(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    add(cli, server)
    failed = account_test(cli, "--json")
    assert failed.code == 76
    offered = failed.json["error"]["details"]["fix"]["pin_sha256"]
    assert "Suggested fix: trust this certificate" in account_test(cli).stderr

    declined = cli("account", "trust", "work", stdin="no\n")
    assert declined.code == 76 and "Nothing was pinned" in declined.stderr
    assert account_test(cli).code == 76
    # `yes | relaydesk account trust work`: a yes compares nothing, so nothing is pinned.
    agreed = cli("account", "trust", "work", stdin="y\n" * 100)
    assert agreed.code == 76 and "A yes is not a fingerprint" in agreed.stderr
    assert account_test(cli).code == 76
    # The fingerprint typed at the question must be the one presented.
    wrong = cli("account", "trust", "work", stdin="AB:" * 31 + "AB\n")
    assert wrong.code == 76 and "different certificate" in wrong.stderr
    assert account_test(cli).code == 76

    run = cli("account", "trust", "work", stdin=offered.upper() + "\n")
    assert run.code == 0, run.stderr
    assert "SHA-256:" in run.stdout and "Subject:" in run.stdout and "Valid until:" in run.stdout
    assert "Only if you know" in run.stderr or "only if you know" in run.stderr.lower()
    [listed] = json.loads(cli("account", "list", "--json").stdout)["accounts"]
    assert listed["name"] == "work"
    assert account_test(cli).code == 0
    assert offered in cli("account", "trust", "work", "--fingerprint", offered, "--json").stdout


def test_apply_fix_never_pins_a_certificate(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    add(cli, server)
    run = account_test(cli, "--apply-fix")
    assert run.code == 76
    assert "Suggested fix: trust this certificate, only if it is your own server's" in run.stderr
    assert "Applied:" not in run.stderr
    assert account_test(cli).code == 76  # still untrusted: a pin needs the fingerprint compared


def test_no_answer_pins_nothing(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    add(cli, server)
    run = cli("account", "trust", "work")
    assert run.code == 64 and "nothing was pinned" in run.stderr
    assert account_test(cli).code == 76


def test_yes_without_fingerprint_is_refused(cli: Cli, smtp_server) -> None:
    add(cli, smtp_server(mode="tls", cert="untrusted"))
    run = cli("account", "trust", "work", "--yes")
    assert run.code == 64 and "--fingerprint" in run.stderr


def test_a_wrong_fingerprint_pins_nothing(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    add(cli, server)
    run = cli("account", "trust", "work", "--fingerprint", "AB:" * 31 + "AB", "--yes", "--json")
    assert run.code == 76
    assert run.json["error"]["details"]["expected_sha256"] == "ab" * 32
    assert account_test(cli).code == 76


def test_matching_fingerprint_pins_without_a_question(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    add(cli, server)
    shown = fetch_certificate(account_for(server, security="tls"))
    run = cli("account", "trust", "work", "--fingerprint", shown.fingerprint, "--yes", "--json")
    assert run.code == 0, run.stderr
    assert run.json["pin_sha256"] == shown.sha256
    assert account_test(cli).code == 0


def test_a_changed_certificate_fails_hard_with_both_fingerprints(smtp_server) -> None:
    first = smtp_server(mode="tls", cert="untrusted")
    pin = fetch_certificate(account_for(first, security="tls")).sha256
    assert run_test(account_for(first, security="tls", pin_sha256=pin), USERS[USER],
                    timeouts=FAST).ok  # fmt: skip
    second = smtp_server(mode="tls", cert="untrusted")  # "renewed": another certificate
    account = account_for(second, security="tls", pin_sha256=pin)
    own = (second.host, second.port)
    report = run_test(account, USERS[USER], timeouts=FAST, prober=prober_for({own: own}))
    error = report.error
    assert isinstance(error, errors.CertificateUntrusted) and error.exit_code == 76
    new = fetch_certificate(account_for(second, security="tls")).sha256
    assert pin in error.message and new in error.message
    assert error.details["expected_sha256"] == pin and error.details["actual_sha256"] == new
    assert error.fix is None  # no one-click way around a pin
    assert second.auth_attempts == []  # no password went to the changed server


def test_other_accounts_still_verify(smtp_server) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    pinned_elsewhere = fetch_certificate(account_for(server, security="tls")).sha256
    assert pinned_elsewhere
    report = run_test(account_for(server, security="tls"), USERS[USER], timeouts=FAST,
                      second_look=False)  # fmt: skip
    assert isinstance(report.error, errors.CertificateUntrusted)
