"""The test report: steps, timings, diagnosis, redacted transcript, versions — and no secret."""

from __future__ import annotations

import platform
import ssl
from base64 import b64encode
from pathlib import Path

from app import __version__
from app.core.setup.checks import run_test
from app.core.setup.report import render_report, scrub
from tests.cli_runner import Cli, cli_env
from tests.support.probing import FAST, account_for, prober_for
from tests.support.smtp_servers import USERS

USER = "jürgen@example.test"
PASSWORD = USERS[USER]  # non-ASCII on purpose: its UTF-8 base64 must not leak either


def secret_forms(user: str, password: str) -> list[str]:
    raw = password.encode()
    return [
        password,
        b64encode(raw).decode(),
        b64encode(f"\0{user}\0{password}".encode()).decode(),
    ]


def test_failed_report_has_steps_diagnosis_versions_and_no_secret(smtp_server) -> None:
    server = smtp_server(mode="starttls")
    account = account_for(server, username="bob", email="bob@example.test")
    own = (server.host, server.port)
    report = run_test(account, "hunter2-wrong", timeouts=FAST, prober=prober_for({own: own}))
    text = render_report(report, hide=["hunter2-wrong"])
    assert "FAILED" in text
    assert f"Relaydesk {__version__}" in text and platform.python_version() in text
    assert ssl.OPENSSL_VERSION in text
    assert "ok   Connect" in text and "FAIL Authenticate" in text and " ms " in text
    assert "Problem:    127.0.0.1 rejected the username bob or its password." in text
    assert "Error code: auth_failed (exit code 77)" in text
    assert "AUTH PLAIN <redacted>" in text
    for form in secret_forms("bob", "hunter2-wrong"):
        assert form not in text


def test_passed_report_over_the_cli_has_no_password(smtp_server, tmp_path: Path) -> None:
    server = smtp_server(mode="starttls")
    cli = Cli(cli_env(None, tmp_path / "home"))
    added = cli(
        "account", "add", "work", "--email", "juergen@example.com", "--host", server.host,
        "--port", str(server.port), "--username", USER, "--ask-password",
        "--ca-file", str(server.ca_file),
    )  # fmt: skip
    assert added.code == 0, added.stderr
    path = tmp_path / "report.txt"
    run = cli("account", "test", "work", "--password-stdin", "--report", str(path),
              "--json", stdin=PASSWORD + "\n")  # fmt: skip
    assert run.code == 0, run.stderr
    text = path.read_text(encoding="utf-8")
    assert "PASSED" in text and "the server accepted the login" in text
    assert "Transcript (passwords redacted):" in text and "EHLO" in text
    for form in secret_forms(USER, PASSWORD):
        assert form not in text


def test_report_shows_the_offered_fix_and_certificate(smtp_server) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    account = account_for(server, security="tls")
    own = (server.host, server.port)
    report = run_test(account, USERS["alice@example.test"], timeouts=FAST,
                      prober=prober_for({own: own}))  # fmt: skip
    text = render_report(report)
    assert "Offered fix: pin_sha256=" in text and "Certificate presented:" in text


def test_scrub_blanks_a_password_inside_a_longer_base64_run() -> None:
    for user in ("a", "ab", "abc", "alice@example.test"):
        line = "C: AUTH PLAIN " + b64encode(f"\0{user}\0{PASSWORD}".encode()).decode()
        cleaned = scrub(line, [PASSWORD])
        assert "<redacted>" in cleaned
        middle = b64encode(PASSWORD.encode()).decode()[4:-8]
        assert middle not in cleaned
