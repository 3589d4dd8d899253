"""What to tell the user, row by row. The first matching row wins: specific rows first.

Messages and hints are ``str.format`` templates over: host, port, username,
email, provider (preset name or host), app_password_url, doing (what the
session was doing), reply ("535 5.7.8 ..."), server_text (the reply without
its code), error (the exception in words), verify (why a certificate is not
trusted), access (" WEB.DE asks you to allow mail programs once first: URL"
where the provider's data names such a step, else ""). To explain a new
failure, add a row above the general row that would otherwise catch it, and a
test in tests/test_diagnose.py (and one against a real server in
tests/test_catalogue.py). Provider-specific reply rows
live in ``provider_rows`` and are checked first.
"""

from __future__ import annotations

import smtplib
import socket
import ssl

from app.core.accounts.model import Security
from app.core.errors import (
    AuthFailed,
    AuthNotOffered,
    CertificateUntrusted,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    HostNotFound,
    MessageTooLarge,
    PermanentFailure,
    PossiblySent,
    ProtocolError,
    RecipientRefused,
    SenderRefused,
    ServerUnreachable,
    TemporaryFailure,
    TlsError,
    TlsModeMismatch,
)
from app.core.smtp.protocol import ProtocolViolation
from app.core.smtp.rules import PLAIN_FIRST, ExceptionRow, ReplyRow, at
from app.core.smtp.steps import GreetingTimeout, Step


def _plain_smtp_answered(failure: BaseException) -> bool:
    """The TLS client read a plaintext "220 ..." greeting as a TLS record."""
    text = f"{getattr(failure, 'reason', '')} {failure}".upper()
    return any(
        sign in text
        for sign in ("WRONG_VERSION_NUMBER", "RECORD LAYER FAILURE", "PACKET_LENGTH_TOO_LONG")
    )


def _old_protocol(failure: BaseException) -> bool:
    text = f"{getattr(failure, 'reason', '')} {failure}".upper()
    return "UNSUPPORTED_PROTOCOL" in text or "PROTOCOL_VERSION" in text


DROPPED = (smtplib.SMTPServerDisconnected, ConnectionError, EOFError)
SWITCH_MODE = "Use security TLS on port 465, or port 587 with STARTTLS."
CERT_HINT = (
    "If this is your company's server, add its CA certificate with --ca-file, or pin the "
    "server's certificate fingerprint. If you did not expect this, stop: the connection "
    "may be intercepted."
)
TRY_LATER = "This is temporary; try again in a few minutes."
RETRIES = (
    "Messages in the outbox are retried automatically: after about a minute, then at "
    "growing intervals up to an hour."
)

EXCEPTION_ROWS: tuple[ExceptionRow, ...] = (
    ExceptionRow(
        kind=OSError,
        steps=at(Step.FINAL_DOT),
        error=PossiblySent,
        message="The connection to {host} ended after the whole message was sent, "
        "before the server confirmed it ({error}).",
        hint="The server may have accepted it. Check the recipients' inbox or your Sent "
        "folder before sending again.",
    ),
    ExceptionRow(
        kind=GreetingTimeout,
        security=PLAIN_FIRST,
        error=TlsModeMismatch,
        message="{host} port {port} accepted the connection but the server did not greet; "
        "port 465 usually expects implicit TLS.",
        hint=SWITCH_MODE,
    ),
    ExceptionRow(
        kind=GreetingTimeout,
        error=ConnectTimeout,
        message="{host} port {port} accepted the connection but the server did not greet.",
        hint="The server may be overloaded; try again later, or check the port.",
    ),
    ExceptionRow(
        kind=ssl.SSLCertVerificationError,
        error=CertificateUntrusted,
        message="The certificate of {host} is not trusted: {verify}.",
        hint=CERT_HINT,
    ),
    ExceptionRow(
        kind=ssl.SSLError,
        when=_plain_smtp_answered,
        security=frozenset({Security.TLS}),
        error=TlsModeMismatch,
        message="Port {port} on {host} speaks plain SMTP first; this is a STARTTLS port.",
        hint="Use security STARTTLS on this port, or port 465 with TLS.",
    ),
    ExceptionRow(
        kind=ssl.SSLError,
        when=_old_protocol,
        error=TlsError,
        message="{host} only offers an old TLS version that this computer refuses ({error}).",
        hint="Ask the mail provider to enable TLS 1.2 or newer.",
    ),
    ExceptionRow(
        kind=ssl.SSLError,
        error=TlsError,
        message="The TLS handshake with {host} failed: {error}.",
        hint="Check the security setting: port 465 uses TLS, port 587 uses STARTTLS.",
    ),
    ExceptionRow(
        kind=ConnectionRefusedError,
        steps=at(Step.CONNECT),
        error=ConnectionRefused,
        message="Nothing is listening on {host}:{port}.",
        hint="Check the host name and port (587 for STARTTLS, 465 for TLS) and that the "
        "server is running.",
    ),
    ExceptionRow(
        kind=socket.gaierror,
        error=HostNotFound,
        message="The host name {host} could not be found.",
        hint="Check the spelling of the host name and your internet connection.",
    ),
    ExceptionRow(
        kind=TimeoutError,
        steps=at(Step.CONNECT),
        error=ConnectTimeout,
        message="Connecting to {host}:{port} timed out.",
        hint="The port may be blocked by a firewall; internet providers often block port 25. "
        "Try 587 (STARTTLS) or 465 (TLS).",
    ),
    ExceptionRow(
        kind=TimeoutError,
        error=ConnectionLost,
        message="{host} stopped answering while {doing}.",
        hint="The message was not sent. Check your connection and try again.",
    ),
    ExceptionRow(
        kind=DROPPED,
        steps=at(Step.CONNECT),
        error=ConnectionLost,
        message="{host} closed the connection before greeting.",
        hint="The server may be refusing your network, or expect another security mode: "
        + SWITCH_MODE,
    ),
    ExceptionRow(
        kind=DROPPED,
        error=ConnectionLost,
        message="The connection to {host} was lost while {doing}.",
        hint="The message was not sent. Try again.",
    ),
    ExceptionRow(
        kind=(smtplib.SMTPException, ProtocolViolation),
        error=ProtocolError,
        message="{host} sent something that is not SMTP while {doing}: {error}.",
        hint="Check the host name and port.",
    ),
    ExceptionRow(
        kind=OSError,
        steps=at(Step.CONNECT),
        error=ServerUnreachable,
        message="{host}:{port} cannot be reached: {error}.",
        hint="Check your internet connection.",
    ),
    ExceptionRow(
        kind=OSError,
        error=ConnectionLost,
        message="The connection to {host} failed while {doing}: {error}.",
        hint="The message was not sent. Try again.",
    ),
    ExceptionRow(
        kind=BaseException,
        error=ProtocolError,
        message="Unexpected failure while {doing} with {host}: {error}.",
        hint="Try again; if it keeps happening, save the transcript and report it.",
    ),
)

REPLY_ROWS: tuple[ReplyRow, ...] = (
    ReplyRow(
        code="4xx",
        text="too many",
        error=TemporaryFailure,
        message="{host} is limiting you right now (too many connections or messages): {reply}.",
        hint="Wait a few minutes before trying again. " + RETRIES,
    ),
    ReplyRow(
        code="4xx",
        text="rate",
        error=TemporaryFailure,
        message="{host} is limiting how fast you send: {reply}.",
        hint="Wait a few minutes before trying again. " + RETRIES,
    ),
    ReplyRow(
        code="421",
        error=TemporaryFailure,
        message="{host} is closing the connection: {reply}.",
        hint="The server is busy or restarting. " + TRY_LATER + " " + RETRIES,
    ),
    ReplyRow(
        code="535",
        error=AuthFailed,
        message="{provider} rejected the username {username} or its password.",
        hint="Check the password, and that {username} is the right username (often the full "
        "address). Some providers need an app password instead of your normal one.{access}",
    ),
    ReplyRow(
        code="534",
        error=AuthFailed,
        message="{host} wants a different way to log in for {username}: {server_text}",
        hint="The provider may need an app password or OAuth2 sign-in; see its help page.",
    ),
    ReplyRow(
        code="454",
        steps=at(Step.AUTH),
        error=TemporaryFailure,
        message="{provider} could not check the password right now: {reply}.",
        hint="This is a problem on the provider's side, not your password. " + TRY_LATER,
    ),
    ReplyRow(
        code="530",
        text="tls",
        error=AuthNotOffered,
        message="{host} wants encryption before anything else: {reply}.",
        hint="Use security STARTTLS (port 587) or TLS (port 465).",
    ),
    ReplyRow(
        code="538",
        error=AuthNotOffered,
        message="{host} wants encryption before a login: {reply}.",
        hint="Use security STARTTLS (port 587) or TLS (port 465).",
    ),
    ReplyRow(
        code="530",
        error=AuthFailed,
        message="{host} wants a login before it accepts mail: {reply}.",
        hint="Add the username and password to the account.",
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.AUTH),
        error=AuthFailed,
        message="{host} refused the login for {username}: {reply}.",
        hint="Check the username and password, and whether the provider allows password login.",
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.TLS),
        error=TlsError,
        message="{host} offers STARTTLS but refused to start it: {reply}.",
        hint="Nothing was sent unencrypted. Try port 465 with security TLS.",
    ),
    ReplyRow(
        code="552",
        steps=at(Step.MAIL, Step.DATA, Step.FINAL_DOT),
        error=MessageTooLarge,
        message="{host} refused the message as too large: {reply}.",
        hint="Send smaller attachments, or share large files as a link.",
    ),
    ReplyRow(
        code="4xx",
        error=TemporaryFailure,
        message="{host} could not go on right now while {doing}: {reply}.",
        hint=TRY_LATER,
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.MAIL),
        error=SenderRefused,
        message="{host} refused the sender address {email}: {reply}.",
        hint="Many servers only let you send as your own address: use the account's address, "
        "or ask the provider to allow this one for your login.",
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.RCPT),
        error=RecipientRefused,
        message="{host} refused a recipient: {reply}.",
        hint="Check the address for typos; the mailbox may not exist.",
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.CONNECT),
        error=PermanentFailure,
        message="{host} refused the connection: {reply}.",
        hint="The server may block your network address (common for port 25 on home "
        "connections); try port 587 with your login.",
    ),
    ReplyRow(
        code="5xx",
        error=PermanentFailure,
        message="{host} refused while {doing}: {reply}.",
        hint="The reason is permanent; change what the server objects to before trying again.",
    ),
    ReplyRow(
        code="xxx",
        error=ProtocolError,
        message="{host} gave an unexpected answer while {doing}: {reply}.",
        hint="The server does not behave like an SMTP server; check the host name and port.",
    ),
)

DOING = {
    Step.CONNECT: "connecting",
    Step.TLS: "setting up encryption",
    Step.EHLO: "greeting the server",
    Step.AUTH: "logging in",
    Step.MAIL: "giving the sender",
    Step.RCPT: "giving the recipients",
    Step.DATA: "sending the message",
    Step.FINAL_DOT: "waiting for the final answer",
    Step.DONE: "finishing",
}

# OpenSSL's verify messages, in plain words. First match wins.
VERIFY_WORDS: tuple[tuple[str, str], ...] = (
    ("hostname mismatch", "it was issued for another name than {host}"),
    ("ip address mismatch", "it was issued for another address than {host}"),
    ("self-signed certificate in certificate chain", "it is signed by an unknown authority"),
    ("self-signed certificate", "it is self-signed"),
    ("self signed certificate", "it is self-signed"),
    ("unable to get local issuer", "it is signed by an authority this computer does not trust"),
    ("has expired", "it has expired"),
    ("not yet valid", "it is not valid yet (check this computer's clock)"),
)
