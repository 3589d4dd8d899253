"""Auto-fix: after a mismatch or a blocked port, the alternatives are probed and the first that
works is offered — to the wizard as error.fix, to the CLI as a "Suggested fix" line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.accounts.model import PasswordMode, Security
from app.core.setup.autofix import alternatives, find_fix
from app.core.setup.certificate import CertificateInfo
from app.core.setup.fixes import ServerFix, SignInFix, TrustFix
from app.core.setup.probe import Target
from tests.cli_runner import Cli, cli_env
from tests.support.probing import account_for, full_backlog, prober_for
from tests.support.smtp_servers import USERS

USER = "alice@example.test"


def test_alternatives_same_port_other_mode_first_then_preset_then_standard() -> None:
    account = account_for(("smtp.gmail.com", 587), security="tls", preset="gmail")
    assert alternatives(account) == [
        Target("smtp.gmail.com", 587, Security.STARTTLS),
        Target("smtp.gmail.com", 465, Security.TLS),
        Target("smtp.gmail.com", 25, Security.STARTTLS),
    ]


def test_alternatives_include_a_presets_extra_ports() -> None:
    account = account_for(("smtp.sendgrid.net", 587), preset="sendgrid")
    ports = [(t.port, t.security.value) for t in alternatives(account)]
    assert (2525, "starttls") in ports and (587, "starttls") not in ports


def test_a_verified_alternative_wins_over_an_untrusted_one(smtp_server) -> None:
    untrusted = smtp_server(mode="tls", cert="untrusted")
    trusted = smtp_server(mode="starttls")
    routes = {
        ("127.0.0.1", 465): ("127.0.0.1", untrusted.port),
        ("127.0.0.1", 587): ("127.0.0.1", trusted.port),
    }
    account = account_for(("127.0.0.1", 2), ca_file=str(trusted.ca_file))
    fix = find_fix(account, prober_for(routes, str(trusted.ca_file)))
    assert fix is not None
    assert (fix.port, fix.security, fix.verified) == (587, Security.STARTTLS, True)


def test_an_untrusted_alternative_is_offered_when_nothing_better_works(smtp_server) -> None:
    untrusted = smtp_server(mode="tls", cert="untrusted")
    routes = {("127.0.0.1", 465): ("127.0.0.1", untrusted.port)}
    fix = find_fix(account_for(("127.0.0.1", 2)), prober_for(routes, str(untrusted.ca_file)))
    assert fix is not None and (fix.port, fix.verified) == (465, False)
    assert "certificate is not trusted" in fix.describe()


def test_a_port_without_login_is_no_fix_for_an_account_that_logs_in(smtp_server) -> None:
    relay = smtp_server(mode="starttls", users=None)
    routes = {("127.0.0.1", 25): ("127.0.0.1", relay.port)}
    assert find_fix(account_for(("127.0.0.1", 2)), prober_for(routes, str(relay.ca_file))) is None
    relay_account = account_for(("127.0.0.1", 2), username=None)
    assert find_fix(relay_account, prober_for(routes, str(relay.ca_file))) is not None


def test_each_fix_changes_the_account_it_is_applied_to() -> None:
    account = account_for(("smtp.example.test", 25), security="starttls")
    fixed = ServerFix(465, Security.TLS, verified=True, auth_offered=True).apply_to(account)
    assert (fixed.port, fixed.security, fixed.pin_sha256) == (465, Security.TLS, None)
    pinned = TrustFix(_certificate("ab" * 32)).apply_to(account)
    assert (pinned.pin_sha256, pinned.port) == ("ab" * 32, 25)
    signing_in = SignInFix("outlook").apply_to(account)
    assert signing_in.password_mode is PasswordMode.OAUTH2 and signing_in.port == 25


def _certificate(sha256: str) -> CertificateInfo:
    now = datetime.now(UTC)
    return CertificateInfo(sha256, "CN=relay.corp.local", "CN=relay.corp.local", now, now)


def test_probing_is_parallel_and_bounded(smtp_server) -> None:
    """Every alternative times out: the whole search still takes about one timeout."""
    import time

    with full_backlog() as port:
        routes = {("127.0.0.1", p): ("127.0.0.1", port) for p in (465, 587, 25, 2)}
        started = time.monotonic()
        assert find_fix(account_for(("127.0.0.1", 2)), prober_for(routes, timeout=0.5)) is None
        assert time.monotonic() - started < 1.5


# -- the CLI face ---------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(cli_env(None, tmp_path / "home"))


def add(cli: Cli, server, security: str) -> None:
    run = cli(
        "account", "add", "work", "--email", "alice@example.com", "--host", server.host,
        "--port", str(server.port), "--security", security, "--username", USER,
        "--ask-password", "--ca-file", str(server.ca_file),
    )  # fmt: skip
    assert run.code == 0, run.stderr


def test_cli_suggests_the_fix_and_puts_it_in_json(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    add(cli, server, "tls")
    run = cli("account", "test", "work", "--password-stdin", stdin=USERS[USER] + "\n")
    assert run.code == 76
    assert f"Suggested fix: use port {server.port} with security STARTTLS" in run.stderr
    as_json = cli("account", "test", "work", "--password-stdin", "--json", stdin=USERS[USER])
    fix = as_json.json["error"]["details"]["fix"]
    assert fix == {"port": server.port, "security": "starttls", "verified": True,
                   "auth_offered": True}  # fmt: skip


def test_cli_apply_fix_then_the_test_passes(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    add(cli, server, "tls")
    run = cli("account", "test", "work", "--password-stdin", "--apply-fix", stdin=USERS[USER])
    assert run.code == 76 and "Applied:" in run.stderr
    [listed] = json.loads(cli("account", "list", "--json").stdout)["accounts"]
    assert listed["security"] == "starttls" and listed["port"] == server.port
    again = cli("account", "test", "work", "--password-stdin", stdin=USERS[USER])
    assert again.code == 0, again.stderr


def test_an_untrusted_starttls_alternative_is_probed_without_leaking(smtp_server) -> None:
    # The verified attempt fails in the STARTTLS handshake; its TLS socket must be closed
    # (pytest turns a ResourceWarning from a leaked socket into a failure).
    untrusted = smtp_server(mode="starttls", cert="untrusted")
    routes = {("127.0.0.1", 587): ("127.0.0.1", untrusted.port)}
    fix = find_fix(account_for(("127.0.0.1", 2)), prober_for(routes, str(untrusted.ca_file)))
    assert fix is not None
    assert (fix.port, fix.security, fix.verified) == (587, Security.STARTTLS, False)
