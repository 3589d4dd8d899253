"""Every situation of the diagnosis table, reproduced by a local server that behaves that way.

Each test runs the real credential test (checks.run_test) — the code path of both the CLI's
`account test` and the wizard's test page — and checks what the person is told.
"""

from __future__ import annotations

import socket

import pytest

from app.core import errors
from app.core.accounts.model import Security
from app.core.setup.checks import run_test
from app.core.setup.fixes import ServerFix, TrustFix
from app.core.smtp.session import SmtpSession
from tests.support.probing import (
    FAST,
    ProviderAuth,
    RefuseData,
    RefuseSender,
    account_for,
    closed_port,
    full_backlog,
    prober_for,
)
from tests.support.smtp_servers import USERS

USER = "alice@example.test"
PASSWORD = USERS[USER]


def check(account, password=PASSWORD, prober=None):
    """run_test; the auto-fix may reach the account's own host and port only, unless told."""
    own = (account.host, account.port)
    prober = prober or prober_for({own: own}, account.ca_file)
    report = run_test(account, password, timeouts=FAST, prober=prober)
    assert report.error is not None, "the test should have failed"
    return report.error


# -- authentication -----------------------------------------------------------------------


def test_gmail_application_specific_password_required(smtp_server) -> None:
    server = smtp_server(
        handler=ProviderAuth(
            "534-5.7.9 Application-specific password required. Learn more at\r\n"
            "534 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor"
        )
    )
    error = check(account_for(server, preset="gmail"))
    assert isinstance(error, errors.AuthFailed) and error.exit_code == 77
    assert error.message == f"Gmail refused the password for {USER}: it needs an app password."
    assert "2-Step Verification" in error.hint
    assert "https://myaccount.google.com/apppasswords" in error.hint
    assert error.details["enhanced"] == "5.7.9"


def test_bad_credentials_name_the_username_used(smtp_server) -> None:
    server = smtp_server()  # aiosmtpd says "535 5.7.8 Authentication credentials invalid"
    error = check(account_for(server), password="not the password")
    assert isinstance(error, errors.AuthFailed) and error.exit_code == 77
    assert error.message == f"127.0.0.1 rejected the username {USER} or its password."
    assert "app password" in error.hint
    assert "not the password" not in f"{error.message} {error.hint}"


def test_gmail_bad_credentials_in_gmails_words(smtp_server) -> None:
    server = smtp_server(
        handler=ProviderAuth(
            "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
            "535 5.7.8  https://support.google.com/mail/?p=BadCredentials"
        )
    )
    error = check(account_for(server, preset="gmail"))
    assert isinstance(error, errors.AuthFailed)
    assert error.message == f"Gmail did not accept the username {USER} or its password."
    assert "app password" in error.hint and "myaccount.google.com/apppasswords" in error.hint


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
            "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
            "whole organisation (tenant)",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
            "the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
            "for the mailbox",
        ),
    ],
)
def test_microsoft_365_smtp_auth_disabled(smtp_server, reply: str, words: str) -> None:
    server = smtp_server(handler=ProviderAuth(reply))
    error = check(account_for(server, preset="microsoft365"))
    assert isinstance(error, errors.AuthFailed) and error.exit_code == 77
    assert "Microsoft 365 has SMTP AUTH switched off" in error.message and words in error.message
    assert "Authenticated SMTP" in error.hint and "OAuth2" in error.hint


@pytest.mark.parametrize(
    ("preset", "reply", "message", "link"),
    [
        (
            "yahoo",
            "535 5.7.0 (#MBR1212) Incorrect username or password.",
            "Yahoo Mail refused the login for",
            "https://login.yahoo.com/account/security",
        ),
        (
            "icloud",
            "535 5.7.8 Error: authentication failed: Invalid user or password",
            "iCloud Mail refused the login for",
            "https://account.apple.com/account/manage",
        ),
        (
            "aol",
            "535 5.7.0 (#AUTH005) Too many bad auth attempts.",
            "AOL Mail has blocked logins for",
            "https://login.aol.com/account/security",
        ),
    ],
)
def test_app_password_providers_say_where_to_make_one(
    smtp_server, preset: str, reply: str, message: str, link: str
) -> None:
    server = smtp_server(handler=ProviderAuth(reply))
    error = check(account_for(server, preset=preset))
    assert isinstance(error, errors.AuthFailed) and error.exit_code == 77
    assert error.message.startswith(message) and USER in error.message
    assert "app password" in error.hint and link in error.hint


def test_temporary_authentication_failure(smtp_server) -> None:
    server = smtp_server(handler=ProviderAuth("454 4.7.0 Temporary authentication failure"))
    error = check(account_for(server))
    assert type(error) is errors.TemporaryFailure and error.exit_code == 75
    assert "could not check the password right now" in error.message
    assert "provider's side" in error.hint and "try again" in error.hint


# -- sender -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
        "550 5.7.1 Client does not have permissions to send as this sender",
    ],
)
def test_microsoft_send_as_denied(smtp_server, reply: str) -> None:
    server = smtp_server(handler=RefuseSender(reply))
    account = account_for(server, username="bob", preset="microsoft365")
    error = check(account, password=USERS["bob"])
    assert isinstance(error, errors.SenderRefused) and error.exit_code == 77
    assert error.message.startswith("Microsoft 365 does not let bob send as alice@example.test")
    assert "Send As" in error.hint


def test_send_as_denied_after_the_message(smtp_server) -> None:
    server = smtp_server(
        handler=RefuseData("554 5.2.252 SendAsDenied; alice@example.test not allowed to send")
    )
    account = account_for(server, username="bob", preset="microsoft365")
    with SmtpSession(account, timeouts=FAST) as session:
        session.open(USERS["bob"])
        with pytest.raises(errors.SenderRefused) as caught:
            session.send("alice@example.test", ["carol@example.test"], b"Subject: x\r\n\r\nhi\r\n")
    assert "does not let bob send as alice@example.test" in caught.value.message


@pytest.mark.parametrize(
    "reply",
    [
        "553 5.7.1 <alice@example.test>: Sender address rejected: not owned by user alice",
        "550 5.1.0 Sender rejected",
    ],
)
def test_sender_rejected_at_mail_from(smtp_server, reply: str) -> None:
    server = smtp_server(handler=RefuseSender(reply))
    error = check(account_for(server))
    assert isinstance(error, errors.SenderRefused) and error.exit_code == 77
    assert error.message.startswith("127.0.0.1 refused the sender address alice@example.test")
    assert "your own address" in error.hint


# -- encryption mode ------------------------------------------------------------------------


def test_implicit_tls_spoken_to_a_starttls_port_offers_starttls(smtp_server) -> None:
    server = smtp_server(mode="starttls")
    error = check(account_for(server, security="tls"))
    assert isinstance(error, errors.TlsModeMismatch) and error.exit_code == 76
    assert "speaks plain SMTP first" in error.message
    assert error.fix == ServerFix(server.port, Security.STARTTLS, verified=True, auth_offered=True)
    assert f"port {server.port} with security STARTTLS" in error.hint


def test_starttls_spoken_to_an_implicit_tls_port_offers_tls(smtp_server) -> None:
    server = smtp_server(mode="tls")
    error = check(account_for(server, security="starttls"))
    assert isinstance(error, errors.TlsModeMismatch) and error.exit_code == 76
    assert "did not greet" in error.message and "implicit TLS" in error.message
    assert isinstance(error.fix, ServerFix)
    assert (error.fix.port, error.fix.security) == (server.port, Security.TLS)


def test_starttls_not_offered_is_refused_before_the_password(smtp_server) -> None:
    server = smtp_server(mode="starttls", offer_starttls=False)
    error = check(account_for(server))
    assert isinstance(error, errors.StartTlsMissing) and error.exit_code == 76
    assert "No password was sent" in error.message and "intercepting" in error.message
    assert server.auth_attempts == []


def test_must_issue_starttls_first(smtp_server) -> None:
    server = smtp_server(mode="starttls")
    error = check(account_for(server, security="none", username=None))
    assert isinstance(error, errors.AuthNotOffered) and error.exit_code == 76
    assert "wants encryption before anything else" in error.message
    assert "STARTTLS" in error.hint
    assert isinstance(error.fix, ServerFix)
    assert (error.fix.port, error.fix.security) == (server.port, Security.STARTTLS)


def test_auth_not_offered_without_encryption(smtp_server) -> None:
    # A plaintext server that offers login only after TLS, which it cannot do.
    server = smtp_server(mode="plain", auth_require_tls=True)
    error = check(account_for(server, security="none", allow_plaintext_auth=True))
    assert isinstance(error, errors.AuthNotOffered) and error.exit_code == 76
    assert "STARTTLS or TLS" in error.hint
    assert server.auth_attempts == []


def test_plaintext_auth_account_takes_an_offered_starttls(smtp_server) -> None:
    # "Send the password without encryption" must not mean ignoring the server's STARTTLS.
    server = smtp_server(mode="starttls")
    account = account_for(server, security="none", allow_plaintext_auth=True)
    report = run_test(account, PASSWORD, timeouts=FAST)
    assert report.ok and report.facts["tls_version"]
    assert server.auth_attempts  # logged in, over TLS (the server refuses AUTH before it)


# -- certificates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cert", "words"),
    [
        ("untrusted", "signed by an authority this computer does not trust"),
        ("wrong_host", "issued for another address than 127.0.0.1"),
        ("expired", "it has expired"),
    ],
)
def test_untrusted_certificate_shows_it_and_offers_a_pin(smtp_server, cert: str, words) -> None:
    server = smtp_server(mode="tls", cert=cert)
    error = check(account_for(server, security="tls"))
    assert isinstance(error, errors.CertificateUntrusted) and error.exit_code == 76
    assert words in error.message
    shown = error.details["certificate"]
    assert shown["subject"] and shown["issuer"].startswith("OU=Testing CA")
    assert shown["not_before"] < shown["not_after"]
    assert len(shown["sha256"]) == 64
    assert isinstance(error.fix, TrustFix) and error.fix.pin_sha256 == shown["sha256"]
    assert "only if you know" in error.fix.warning.lower()
    assert error.to_dict()["details"]["fix"] == {  # what --json prints
        "pin_sha256": shown["sha256"],
        "warning": error.fix.warning,
    }
    assert shown["fingerprint"] in error.hint
    if cert == "wrong_host":
        assert shown["dns_names"] == ["other.example"]
    if cert == "expired":
        assert shown["not_after"].startswith("2021-01-01")


# -- reaching the server --------------------------------------------------------------------


def test_connection_refused() -> None:
    port = closed_port()
    error = check(account_for(("127.0.0.1", port)))
    assert isinstance(error, errors.ConnectionRefused) and error.exit_code == 69
    assert error.message == f"Nothing is listening on 127.0.0.1:{port}."
    assert "host name and port" in error.hint
    assert error.fix is None  # nothing else answered either
    assert "fix" not in error.to_dict().get("details", {})


def test_connect_timeout_offers_a_port_that_works(smtp_server) -> None:
    working = smtp_server(mode="starttls")
    prober = prober_for({("127.0.0.1", 587): ("127.0.0.1", working.port)}, str(working.ca_file))
    with full_backlog() as port:
        error = check(account_for(("127.0.0.1", port), ca_file=str(working.ca_file)), prober=prober)
    assert isinstance(error, errors.ConnectTimeout) and error.exit_code == 69
    assert error.message == f"Connecting to 127.0.0.1:{port} timed out."
    assert "blocked" in error.hint and "port 25" in error.hint
    assert error.fix == ServerFix(587, Security.STARTTLS, verified=True, auth_offered=True)


def test_host_name_that_does_not_exist() -> None:
    error = check(account_for(("smtp.example.invalid", 587)))
    assert isinstance(error, errors.HostNotFound) and error.exit_code == 69
    assert error.message == "The host name smtp.example.invalid could not be found."
    assert "spelling" in error.hint


# -- size and rate limits -------------------------------------------------------------------


def test_message_over_the_advertised_size(smtp_server) -> None:
    server = smtp_server(data_size_limit=1_000_000)
    with SmtpSession(account_for(server), timeouts=FAST) as session:
        session.open(PASSWORD)
        with pytest.raises(errors.MessageTooLarge) as caught:
            session.send(USER, ["bob@example.test"], b"x" * 2_500_000)
    error = caught.value
    assert error.exit_code == 65
    assert error.message == "The message is 2.5 MB but 127.0.0.1 takes at most 1.0 MB."
    assert server.messages == []


def test_552_at_the_final_dot(smtp_server) -> None:
    server = smtp_server(handler=RefuseData("552 5.3.4 Message size exceeds fixed limit"))
    with SmtpSession(account_for(server), timeouts=FAST) as session:
        session.open(PASSWORD)
        with pytest.raises(errors.MessageTooLarge) as caught:
            session.send(USER, ["bob@example.test"], b"Subject: big\r\n\r\nbody\r\n")
    assert "too large" in caught.value.message and "attachments" in caught.value.hint


def test_421_too_many_connections(scripted_server) -> None:
    def busy(conn: socket.socket) -> None:
        conn.sendall(b"421 4.7.0 Too many concurrent SMTP connections; try again later\r\n")

    error = check(account_for(scripted_server(busy)))
    assert type(error) is errors.TemporaryFailure and error.exit_code == 75
    assert "too many connections or messages" in error.message
    assert "retried automatically" in error.hint


def test_421_rate_limited_at_mail_from(smtp_server) -> None:
    server = smtp_server(handler=RefuseSender("421 4.7.0 Sending rate limit exceeded"))
    error = check(account_for(server))
    assert type(error) is errors.TemporaryFailure and error.exit_code == 75
    assert "limiting how fast you send" in error.message
    assert "Wait a few minutes" in error.hint
