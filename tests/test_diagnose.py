"""diagnose.classify: replies and exceptions in, plain words and exit codes out."""

from __future__ import annotations

import smtplib
import socket
import ssl

import pytest

from app.core import errors
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.smtp.diagnose import classify
from app.core.smtp.reply import Reply
from app.core.smtp.steps import GreetingTimeout, Step


def account(security: Security = Security.STARTTLS, port: int = 587) -> Account:
    return Account(
        name="work",
        email="alice@example.test",
        host="smtp.example.test",
        port=port,
        security=security,
        username="alice@example.test",
        password_mode=PasswordMode.ASK,
    )


def reply(code: int, *lines: str) -> Reply:
    return Reply(code, lines)


def cert_error(message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] ({message})")
    error.verify_message = message
    error.verify_code = 20
    return error


def test_connection_refused_names_host_and_port() -> None:
    error = classify(Step.CONNECT, ConnectionRefusedError(111, "refused"), account())
    assert isinstance(error, errors.ConnectionRefused)
    assert error.exit_code == 69
    assert error.message == "Nothing is listening on smtp.example.test:587."
    assert "port" in error.hint
    assert error.details == {"step": "connect", "exception": "ConnectionRefusedError"}


def test_unknown_host() -> None:
    error = classify(Step.CONNECT, socket.gaierror(-2, "Name or service not known"), account())
    assert isinstance(error, errors.HostNotFound)
    assert "smtp.example.test" in error.message


def test_connect_timeout_suggests_other_ports() -> None:
    error = classify(Step.CONNECT, TimeoutError("timed out"), account(Security.NONE, 25))
    assert isinstance(error, errors.ConnectTimeout)
    assert error.exit_code == 69
    assert "port 25" in error.hint and "587" in error.hint and "465" in error.hint


@pytest.mark.parametrize(
    "text",
    [
        "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
        "[SSL: RECORD_LAYER_FAILURE] record layer failure (_ssl.c:1000)",
        "[SSL: PACKET_LENGTH_TOO_LONG] packet length too long (_ssl.c:1000)",
    ],
)
def test_tls_account_on_a_starttls_port(text: str) -> None:
    error = classify(Step.TLS, ssl.SSLError(1, text), account(Security.TLS, 587))
    assert isinstance(error, errors.TlsModeMismatch)
    assert error.exit_code == 76
    assert error.message == (
        "Port 587 on smtp.example.test speaks plain SMTP first; this is a STARTTLS port."
    )
    assert error.hint == "Use security STARTTLS on this port, or port 465 with TLS."


@pytest.mark.parametrize("security", [Security.STARTTLS, Security.NONE])
def test_no_greeting_on_a_plain_first_account_means_port_465(security: Security) -> None:
    error = classify(Step.CONNECT, GreetingTimeout("timed out"), account(security, 465))
    assert isinstance(error, errors.TlsModeMismatch)
    assert "port 465 usually expects implicit TLS" in error.message
    assert error.hint == "Use security TLS on port 465, or port 587 with STARTTLS."


def test_no_greeting_after_implicit_tls_is_not_a_mode_mismatch() -> None:
    error = classify(Step.CONNECT, GreetingTimeout("timed out"), account(Security.TLS, 465))
    assert not isinstance(error, errors.TlsModeMismatch)


@pytest.mark.parametrize(
    ("verify", "words"),
    [
        (
            "unable to get local issuer certificate",
            "signed by an authority this computer does not trust",
        ),
        ("self-signed certificate", "self-signed"),
        ("certificate has expired", "expired"),
        (
            "Hostname mismatch, certificate is not valid for 'smtp.example.test'.",
            "issued for another name than smtp.example.test",
        ),
    ],
)
def test_untrusted_certificate_in_plain_words(verify: str, words: str) -> None:
    error = classify(Step.TLS, cert_error(verify), account())
    assert isinstance(error, errors.CertificateUntrusted)
    assert error.exit_code == 76
    assert error.message.startswith("The certificate of smtp.example.test is not trusted: ")
    assert words in error.message
    assert "--ca-file" in error.hint and "pin" in error.hint


def test_wrong_password_names_the_username_only() -> None:
    failure = reply(535, "5.7.8 Authentication credentials invalid")
    error = classify(Step.AUTH, failure, account())
    assert isinstance(error, errors.AuthFailed)
    assert error.exit_code == 77
    assert "alice@example.test" in error.message
    assert error.reply == failure
    assert error.details == {"step": "auth", "code": 535, "enhanced": "5.7.8"}


def test_gmail_app_password() -> None:
    failure = reply(
        534,
        "5.7.9 Application-specific password required. For more information, go to",
        "5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
    )
    error = classify(Step.AUTH, failure, account())
    assert isinstance(error, errors.AuthFailed)
    assert "app password" in error.message
    assert "https://myaccount.google.com/apppasswords" in error.hint
    assert error.details["enhanced"] == "5.7.9"


def test_microsoft_365_smtp_auth_disabled() -> None:
    failure = reply(
        535,
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
    )
    error = classify(Step.AUTH, failure, account())
    assert isinstance(error, errors.AuthFailed)
    assert "Microsoft 365" in error.message
    assert "Authenticated SMTP" in error.hint and "OAuth2" in error.hint


def test_auth_temporarily_unavailable() -> None:
    error = classify(Step.AUTH, reply(454, "4.7.0 Temporary authentication failure"), account())
    assert isinstance(error, errors.TemporaryFailure)
    assert error.exit_code == 75


def test_encryption_required_first() -> None:
    error = classify(Step.MAIL, reply(530, "5.7.0 Must issue a STARTTLS command first"), account())
    assert isinstance(error, errors.AuthNotOffered)
    assert "encryption" in error.message
    assert "STARTTLS" in error.hint


@pytest.mark.parametrize("step", [Step.CONNECT, Step.MAIL, Step.RCPT, Step.FINAL_DOT])
def test_421_is_temporary_anywhere(step: Step) -> None:
    error = classify(step, reply(421, "4.3.2 Service shutting down"), account())
    assert type(error) is errors.TemporaryFailure
    assert "closing the connection" in error.message


def test_4xx_is_temporary() -> None:
    error = classify(Step.RCPT, reply(452, "4.5.3 Too many recipients"), account())
    assert type(error) is errors.TemporaryFailure
    assert error.details["code"] == 452


def test_552_is_too_large() -> None:
    error = classify(Step.FINAL_DOT, reply(552, "5.3.4 Message size exceeds limit"), account())
    assert isinstance(error, errors.MessageTooLarge)
    assert error.exit_code == 65


def test_sender_and_recipient_refusals() -> None:
    sender = classify(Step.MAIL, reply(553, "5.7.1 Sender address rejected"), account())
    assert isinstance(sender, errors.SenderRefused)
    assert sender.exit_code == 77
    recipient = classify(Step.RCPT, reply(550, "5.1.1 User unknown"), account())
    assert isinstance(recipient, errors.RecipientRefused)
    assert recipient.exit_code == 67


def test_other_permanent_final_reply() -> None:
    error = classify(Step.FINAL_DOT, reply(554, "5.7.1 Message rejected as spam"), account())
    assert type(error) is errors.PermanentFailure
    assert "554 5.7.1 Message rejected as spam" in error.message


def test_starttls_refused_is_a_tls_error() -> None:
    error = classify(Step.TLS, reply(501, "5.5.4 Syntax error"), account())
    assert isinstance(error, errors.TlsError)


@pytest.mark.parametrize(
    "failure",
    [
        smtplib.SMTPServerDisconnected("the server closed the connection"),
        ConnectionResetError(104, "Connection reset by peer"),
        BrokenPipeError(32, "Broken pipe"),
    ],
)
@pytest.mark.parametrize("step", [Step.MAIL, Step.DATA])
def test_connection_lost_before_the_final_dot(failure: BaseException, step: Step) -> None:
    error = classify(step, failure, account())
    assert type(error) is errors.ConnectionLost
    assert error.exit_code == 75


@pytest.mark.parametrize(
    "failure",
    [
        smtplib.SMTPServerDisconnected("the server closed the connection"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError("timed out"),
    ],
)
def test_anything_after_the_final_dot_is_possibly_sent(failure: BaseException) -> None:
    error = classify(Step.FINAL_DOT, failure, account())
    assert isinstance(error, errors.PossiblySent)
    assert "may have accepted" in error.hint


def test_smtplib_response_exceptions_are_classified_as_replies() -> None:
    failure = smtplib.SMTPResponseException(535, b"5.7.8 Bad credentials")
    error = classify(Step.AUTH, failure, account())
    assert isinstance(error, errors.AuthFailed)
    assert error.reply == Reply(535, ("5.7.8 Bad credentials",))


def test_every_step_has_words_for_an_unexpected_reply() -> None:
    for step in Step:
        error = classify(step, reply(250, "OK"), account())
        assert type(error) is errors.ProtocolError
        assert error.message and error.hint
