"""SmtpSession against real servers: aiosmtpd with trustme TLS, and raw scripted servers."""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from base64 import b64decode, b64encode
from collections.abc import Callable
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.core import errors
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.smtp.session import CHUNK_SIZE, Delivery, SmtpSession, Step, Timeouts
from tests.support.smtp_servers import RecordingHandler, RunningServer

StartServer = Callable[..., RunningServer]
StartScripted = Callable[[Callable[[socket.socket], None]], tuple[str, int]]

ALICE, ALICE_PASSWORD = "alice@example.test", "correct horse"
MESSAGE = (
    b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\n"
    b"Hello.\r\n.a line that starts with a dot\r\n.\r\nend\r\n"
)
SECURITY = {"starttls": Security.STARTTLS, "tls": Security.TLS, "plain": Security.NONE}


def account_for(
    host: str, port: int, security: Security = Security.STARTTLS, **changes: Any
) -> Account:
    fields: dict[str, Any] = {
        "name": "test",
        "email": ALICE,
        "host": host,
        "port": port,
        "security": security,
        "username": ALICE,
        "password_mode": PasswordMode.ASK,
    }
    fields.update(changes)
    if fields["username"] is None:
        fields["password_mode"] = PasswordMode.NONE
    return Account(**fields)


def account_of(server: RunningServer, mode: str = "starttls", **changes: Any) -> Account:
    changes.setdefault("ca_file", str(server.ca_file))
    return account_for(server.host, server.port, SECURITY[mode], **changes)


def fail(account: Account, password: str | None = ALICE_PASSWORD, **kwargs: Any) -> Any:
    """Open a session that must fail; return the error (and the session's transcript)."""
    session = SmtpSession(account, **kwargs)
    with pytest.raises(errors.RelayError) as caught, session:
        session.open(password)
    return caught.value, session.transcript


def secrets_of(username: str, password: str) -> list[str]:
    encoded = [
        b64encode(f"\0{username}\0{password}".encode()).decode(),
        b64encode(password.encode()).decode(),
    ]
    return [password, *encoded]


# -- scripted servers ---------------------------------------------------------------------

EHLO = b"250-scripted.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"


def dialogue(
    replies: dict[str, bytes] | None = None,
    *,
    after_data: Callable[[socket.socket], None] | None = None,
    commands: list[str] | None = None,
) -> Callable[[socket.socket], None]:
    """A server that answers each command by its verb; ``after_data`` replaces the final reply."""
    answers = {
        "EHLO": EHLO,
        "AUTH": b"235 2.7.0 ok\r\n",
        "MAIL": b"250 2.1.0 ok\r\n",
        "RCPT": b"250 2.1.5 ok\r\n",
        "DATA": b"354 go ahead\r\n",
        "RSET": b"250 2.0.0 ok\r\n",
        "QUIT": b"221 2.0.0 bye\r\n",
        "*": b"250 2.0.0 queued\r\n",  # the reply to the final dot
    }
    answers.update(replies or {})

    def script(conn: socket.socket) -> None:
        with conn.makefile("rb") as lines:
            conn.sendall(b"220 scripted.test ESMTP\r\n")
            for raw in lines:
                line = raw.decode("utf-8").rstrip("\r\n")
                verb = line.split(" ")[0].upper()
                if commands is not None:
                    commands.append(line)
                conn.sendall(answers.get(verb, b"502 5.5.2 what?\r\n"))
                if verb == "QUIT":
                    return
                if verb == "DATA" and answers["DATA"].startswith(b"354"):
                    for body_line in lines:
                        if body_line == b".\r\n":
                            break
                    if after_data is not None:
                        after_data(conn)
                        return
                    conn.sendall(answers["*"])

    return script


def plain_account(host: str, port: int, **changes: Any) -> Account:
    changes.setdefault("allow_plaintext_auth", True)
    return account_for(host, port, Security.NONE, **changes)


# -- delivering ---------------------------------------------------------------------------


def test_starttls_auth_delivers_and_the_transcript_hides_the_password(
    smtp_server: StartServer,
) -> None:
    server = smtp_server(mode="starttls")
    steps: list[Step] = []
    with SmtpSession(account_of(server), on_step=steps.append) as session:
        session.open(ALICE_PASSWORD)
        delivery = session.send(ALICE, ["bob@example.test"], MESSAGE)

    assert delivery.final is not None and delivery.final.code == 250
    assert list(delivery.accepted) == ["bob@example.test"] and delivery.refused == {}
    [received] = server.messages
    assert received.data == MESSAGE  # dot-stuffing was undone by the server
    assert received.authenticated_as == ALICE
    assert steps == [
        Step.CONNECT, Step.EHLO, Step.TLS, Step.EHLO, Step.AUTH,
        Step.MAIL, Step.RCPT, Step.DATA, Step.FINAL_DOT, Step.DONE,
    ]  # fmt: skip
    assert session.tls_version in ("TLSv1.2", "TLSv1.3")
    assert session.peer_certificate_sha256 is not None
    rendered = session.transcript.render()
    assert "C: AUTH PLAIN <redacted>" in rendered
    assert "certificate verified for 127.0.0.1" in rendered
    assert f"<message data: {len(MESSAGE) + 2} bytes>" in rendered  # two dots were doubled
    assert "Hello." not in rendered
    for secret in secrets_of(ALICE, ALICE_PASSWORD):
        assert secret not in rendered


def test_implicit_tls_delivers(smtp_server: StartServer) -> None:
    server = smtp_server(mode="tls")
    steps: list[Step] = []
    with SmtpSession(account_of(server, "tls"), on_step=steps.append) as session:
        session.open(ALICE_PASSWORD)
        session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert len(server.messages) == 1
    assert steps[:4] == [Step.CONNECT, Step.TLS, Step.EHLO, Step.AUTH]


def test_non_ascii_username_and_password(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    user, password = "jürgen@example.test", "pässwörd-€"
    with SmtpSession(account_of(server, username=user)) as session:
        session.open(password)
        session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert server.messages[0].authenticated_as == user
    for secret in secrets_of(user, password):
        assert secret not in session.transcript.render()


def test_auth_login_with_utf8_credentials(scripted_server: StartScripted) -> None:
    got: list[str] = []

    def script(conn: socket.socket) -> None:
        with conn.makefile("rb") as lines:
            conn.sendall(b"220 scripted.test\r\n")
            lines.readline()
            conn.sendall(b"250-scripted.test\r\n250 AUTH LOGIN\r\n")
            got.append(lines.readline().decode().strip())
            conn.sendall(b"334 VXNlcm5hbWU6\r\n")
            got.append(b64decode(lines.readline()).decode())
            conn.sendall(b"334 UGFzc3dvcmQ6\r\n")
            got.append(b64decode(lines.readline()).decode())
            conn.sendall(b"235 2.7.0 ok\r\n")
            lines.readline()
            conn.sendall(b"221 bye\r\n")

    host, port = scripted_server(script)
    with SmtpSession(plain_account(host, port, username="jürgen")) as session:
        session.open("pässwörd-€")
    assert got == ["AUTH LOGIN", "jürgen", "pässwörd-€"]
    texts = [line.text for line in session.transcript.lines if line.direction == "C"]
    assert texts[1:4] == ["AUTH LOGIN", "<redacted>", "<redacted>"]


def test_several_messages_on_one_connection(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        session.send(ALICE, ["bob@example.test"], MESSAGE)
        session.reset()
        session.send(ALICE, ["carol@example.test"], MESSAGE)
    assert [m.rcpt_tos for m in server.messages] == [["bob@example.test"], ["carol@example.test"]]


def test_smtputf8(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", smtputf8=True)
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        assert session.supports_smtputf8
        session.send(ALICE, ["jürgen@exämple.test"], MESSAGE, smtputf8=True)
    assert server.messages[0].smtputf8
    assert server.messages[0].rcpt_tos == ["jürgen@exämple.test"]


def test_smtputf8_unsupported_fails_before_mail(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", smtputf8=False)
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        with pytest.raises(errors.SmtpUtf8Unsupported) as caught:
            session.send(ALICE, ["jürgen@exämple.test"], MESSAGE, smtputf8=True)
    assert caught.value.exit_code == 65
    assert "MAIL FROM" not in session.transcript.render()


def test_progress_counts_up_to_the_total(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    body = b"".join(b"line %06d of a long message\r\n" % n for n in range(20_000))
    message = MESSAGE + body
    progress: list[tuple[int, int]] = []
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        session.send(
            ALICE, ["bob@example.test"], message, on_progress=lambda *p: progress.append(p)
        )
    total = len(message) + 2
    assert len(progress) == 2 + total // CHUNK_SIZE
    assert [sent for sent, _ in progress] == sorted({sent for sent, _ in progress})
    assert progress[0] == (0, total) and progress[-1] == (total, total)
    assert server.messages[0].data == message


def test_check_sender(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        assert session.check_sender(ALICE).code == 250
        session.send(ALICE, ["bob@example.test"], MESSAGE)  # RSET left a clean state
    assert len(server.messages) == 1


# -- TLS and authentication failures ---------------------------------------------------


def test_wrong_password_names_the_username_not_the_password(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    error, transcript = fail(account_of(server), "wrong battery")
    assert isinstance(error, errors.AuthFailed)
    assert error.exit_code == 77
    assert ALICE in error.message
    for secret in secrets_of(ALICE, "wrong battery"):
        assert secret not in f"{error} {error.to_dict()} {error!r} {transcript.render()}"


def test_untrusted_certificate(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", cert="untrusted")
    error, _ = fail(account_of(server))
    assert isinstance(error, errors.CertificateUntrusted)
    assert error.exit_code == 76
    assert "does not trust" in error.message
    assert server.auth_attempts == []


def test_test_ca_is_untrusted_without_the_ca_file(smtp_server: StartServer) -> None:
    server = smtp_server(mode="tls")
    error, _ = fail(account_of(server, "tls", ca_file=None))
    assert isinstance(error, errors.CertificateUntrusted)


def test_certificate_for_another_name(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", cert="wrong_host")
    error, _ = fail(account_of(server))
    assert isinstance(error, errors.CertificateUntrusted)
    assert "127.0.0.1" in error.message and "another" in error.message


def _fingerprint(server: RunningServer) -> str:
    pem = ssl.get_server_certificate((server.host, server.port), timeout=5)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def test_a_pin_replaces_the_chain(smtp_server: StartServer) -> None:
    server = smtp_server(mode="tls", cert="untrusted")
    pin = _fingerprint(server)
    colons = ":".join(pin[i : i + 2] for i in range(0, len(pin), 2)).upper()
    with SmtpSession(account_of(server, "tls", ca_file=None, pin_sha256=colons)) as session:
        session.open(ALICE_PASSWORD)
        session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert session.peer_certificate_sha256 == pin
    assert len(server.messages) == 1


def test_a_wrong_pin_is_refused_with_both_fingerprints(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    actual = _fingerprint_after_starttls(server)
    error, _ = fail(account_of(server, pin_sha256="ab" * 32))
    assert isinstance(error, errors.CertificateUntrusted)
    assert "ab" * 32 in error.message and actual in error.message
    assert error.details["actual_sha256"] == actual
    assert server.auth_attempts == []


def _fingerprint_after_starttls(server: RunningServer) -> str:
    account = account_of(server, username=None)
    with SmtpSession(account) as session:
        session.open()
    assert session.peer_certificate_sha256 is not None
    return session.peer_certificate_sha256


def test_missing_starttls_stops_before_auth(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", offer_starttls=False)
    error, transcript = fail(account_of(server))
    assert isinstance(error, errors.StartTlsMissing)
    assert error.exit_code == 76
    assert "No password was sent" in error.message and "intercept" in error.message
    assert server.auth_attempts == []
    assert "AUTH" not in [line.text[:4] for line in transcript.lines if line.direction == "C"]


def test_plaintext_auth_refused_without_consent(smtp_server: StartServer) -> None:
    server = smtp_server(mode="plain", auth_require_tls=False)
    error, transcript = fail(account_of(server, "plain"))
    assert isinstance(error, errors.PlaintextAuthRefused)
    assert error.exit_code == 76
    assert server.auth_attempts == []
    assert not any(line.text.startswith("AUTH") for line in transcript.lines)


def test_plaintext_auth_with_consent(smtp_server: StartServer) -> None:
    server = smtp_server(mode="plain", auth_require_tls=False)
    with SmtpSession(account_of(server, "plain", allow_plaintext_auth=True)) as session:
        session.open(ALICE_PASSWORD)
        session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert server.messages[0].authenticated_as == ALICE


def test_auth_not_offered(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", users=None)
    error, _ = fail(account_of(server))
    assert isinstance(error, errors.AuthNotOffered)


def test_missing_password_is_refused_before_connecting() -> None:
    with pytest.raises(errors.PasswordMissing), SmtpSession(account_for("127.0.0.1", 9)) as s:
        s.open(None)


@pytest.mark.parametrize(
    ("auth_reply", "error_type", "words"),
    [
        (
            b"534-5.7.9 Application-specific password required. Learn more at\r\n"
            b"534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor\r\n",
            errors.AuthFailed,
            "https://myaccount.google.com/apppasswords",
        ),
        (
            b"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
            b"for the Tenant.\r\n",
            errors.AuthFailed,
            "Authenticated SMTP",
        ),
        (b"454 4.7.0 Temporary authentication failure\r\n", errors.TemporaryFailure, "again"),
    ],
)
def test_provider_auth_replies(
    scripted_server: StartScripted, auth_reply: bytes, error_type: type, words: str
) -> None:
    host, port = scripted_server(dialogue({"AUTH": auth_reply}))
    error, _ = fail(plain_account(host, port))
    assert type(error) is error_type
    assert words in error.hint


# -- wrong ports and unreachable servers -----------------------------------------------


def test_tls_account_on_a_starttls_port_fails_fast(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    started = time.monotonic()
    error, _ = fail(account_of(server, "tls"))
    assert time.monotonic() - started < 3
    assert isinstance(error, errors.TlsModeMismatch)
    assert "STARTTLS port" in error.message


def test_starttls_account_on_a_silent_port(scripted_server: StartScripted) -> None:
    host, port = scripted_server(lambda conn: conn.recv(1024) and None)
    started = time.monotonic()
    error, _ = fail(account_for(host, port), timeouts=Timeouts(greeting=1))
    assert 1 <= time.monotonic() - started < 3
    assert isinstance(error, errors.TlsModeMismatch)
    assert "465" in error.message


def test_closed_port_is_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    error, _ = fail(account_for("127.0.0.1", port))
    assert isinstance(error, errors.ConnectionRefused)
    assert error.exit_code == 69
    assert f"127.0.0.1:{port}" in error.message


# -- refusals during the transaction ----------------------------------------------------


class RefusingHandler(RecordingHandler):
    """Refuses recipients whose local part names a reply, e.g. ``r550@example.test``."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("r5"):
            return "550 5.1.1 No such user"
        if address.startswith("r4"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("closing"):
            return "421 4.3.2 Service shutting down"
        if address.startswith("nobody"):
            return "553 5.7.1 Sender address rejected: not owned by user"
        envelope.mail_from = address
        return "250 2.1.0 OK"


def test_some_recipients_refused(smtp_server: StartServer) -> None:
    handler = RefusingHandler()
    server = smtp_server(mode="starttls", handler=handler)
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        delivery = session.send(
            ALICE, ["bob@example.test", "r550@example.test", "r452@example.test"], MESSAGE
        )
    assert list(delivery.accepted) == ["bob@example.test"]
    assert {a: r.code for a, r in delivery.refused.items()} == {
        "r550@example.test": 550,
        "r452@example.test": 452,
    }
    assert delivery.final is not None and delivery.final.is_positive
    assert handler.messages[0].rcpt_tos == ["bob@example.test"]


def test_all_recipients_refused_sends_no_data(smtp_server: StartServer) -> None:
    handler = RefusingHandler()
    server = smtp_server(mode="starttls", handler=handler)
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        delivery = session.send(ALICE, ["r550@example.test"], MESSAGE)
        assert delivery == Delivery(
            {}, {"r550@example.test": delivery.refused["r550@example.test"]}, None
        )
        session.send(ALICE, ["bob@example.test"], MESSAGE)  # still usable
    assert [m.rcpt_tos for m in handler.messages] == [["bob@example.test"]]
    assert session.transcript.render().count("C: DATA") == 1


def test_sender_refused(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", handler=RefusingHandler())
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        with pytest.raises(errors.SenderRefused) as caught:
            session.check_sender("nobody@example.test")
        assert caught.value.reply is not None and caught.value.reply.code == 553
        with pytest.raises(errors.SenderRefused):
            session.send("nobody@example.test", ["bob@example.test"], MESSAGE)


def test_421_at_mail_is_temporary(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", handler=RefusingHandler())
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        with pytest.raises(errors.TemporaryFailure) as caught:
            session.send("closing@example.test", ["bob@example.test"], MESSAGE)
    assert caught.value.exit_code == 75
    assert caught.value.details["code"] == 421
    assert not session.is_open  # the server is closing: so do we
    with pytest.raises(errors.ConnectionLost):
        session.send(ALICE, ["bob@example.test"], MESSAGE)


@pytest.mark.parametrize(
    ("final", "error_type"),
    [
        (b"451 4.3.0 Try again later\r\n", errors.TemporaryFailure),
        (b"552 5.3.4 Message too big for system\r\n", errors.MessageTooLarge),
        (b"554 5.7.1 Rejected as spam\r\n", errors.PermanentFailure),
    ],
)
def test_final_reply_refusals(
    scripted_server: StartScripted, final: bytes, error_type: type[errors.RelayError]
) -> None:
    host, port = scripted_server(dialogue({"*": final}))
    with SmtpSession(account_for(host, port, Security.NONE, username=None)) as session:
        session.open()
        with pytest.raises(error_type) as caught:
            session.send(ALICE, ["bob@example.test"], MESSAGE)
        assert session.is_open  # a refused message does not end the connection
    assert type(caught.value) is error_type
    assert caught.value.reply is not None and caught.value.reply.code == int(final[:3])
    assert caught.value.details["step"] == "final_dot"


def test_size_limit_is_checked_before_mail(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", data_size_limit=1_000_000)
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        assert session.max_size == 1_000_000
        with pytest.raises(errors.MessageTooLarge) as caught:
            session.send(ALICE, ["bob@example.test"], MESSAGE + b"x" * 2_500_000 + b"\r\n")
    assert "2.5 MB" in caught.value.message and "1.0 MB" in caught.value.message
    assert "MAIL FROM" not in session.transcript.render()


def test_size_is_declared_on_mail_from(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls", data_size_limit=1_000_000)
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert f"MAIL FROM:<{ALICE}> SIZE={len(MESSAGE)}" in session.transcript.render()


def test_size_counts_the_line_end_added_to_a_message_without_one(
    smtp_server: StartServer,
) -> None:
    """The server measures what arrives, and a message without a final CRLF gets one.

    (No line starts with a dot: aiosmtpd also counts doubled dots, RFC 1870 does not.)
    """
    limit = 10_000
    server = smtp_server(mode="starttls", data_size_limit=limit)
    lines = b"Subject: big\r\n\r\n" + b"x" * 78 + b"\r\n" + (b"y" * 78 + b"\r\n") * (limit // 80)
    no_final_newline = lines[: limit - 1]  # cut inside a line of y
    assert no_final_newline.endswith(b"yy")
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        with pytest.raises(errors.MessageTooLarge) as caught:  # limit - 1 here, limit + 1 there
            session.send(ALICE, ["bob@example.test"], no_final_newline)
        assert caught.value.reply is None  # known before the upload, not from the server after it
        session.send(ALICE, ["bob@example.test"], no_final_newline[:-2])
    assert f"MAIL FROM:<{ALICE}> SIZE={limit - 1} " in session.transcript.render()
    assert len(server.messages) == 1


def test_newlines_in_addresses_are_refused(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    with SmtpSession(account_of(server)) as session:
        session.open(ALICE_PASSWORD)
        with pytest.raises(errors.InvalidAddress):
            session.send(ALICE, ["bob@example.test>\r\nRCPT TO:<eve@example.test"], MESSAGE)


# -- after the final dot, and cancel ------------------------------------------------------


def test_connection_lost_after_the_final_dot_is_possibly_sent(
    scripted_server: StartScripted,
) -> None:
    host, port = scripted_server(dialogue(after_data=lambda conn: None))
    with SmtpSession(account_for(host, port, Security.NONE, username=None)) as session:
        session.open()
        with pytest.raises(errors.PossiblySent) as caught:
            session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert caught.value.exit_code == 75
    assert caught.value.details["step"] == "final_dot"


def test_no_final_reply_in_time_is_possibly_sent(scripted_server: StartScripted) -> None:
    host, port = scripted_server(dialogue(after_data=lambda conn: conn.recv(1024) and None))
    account = account_for(host, port, Security.NONE, username=None)
    with SmtpSession(account, timeouts=Timeouts(final_reply=0.5)) as session:
        session.open()
        with pytest.raises(errors.PossiblySent):
            session.send(ALICE, ["bob@example.test"], MESSAGE)


def test_a_connection_lost_before_the_final_dot_is_not_possibly_sent(
    scripted_server: StartScripted,
) -> None:
    host, port = scripted_server(dialogue({"RCPT": b""}))  # no answer, then gone at stop
    account = account_for(host, port, Security.NONE, username=None)
    with SmtpSession(account, timeouts=Timeouts(command=0.5)) as session:
        session.open()
        with pytest.raises(errors.ConnectionLost) as caught:
            session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert not isinstance(caught.value, errors.PossiblySent)


def _send_in_thread(session: SmtpSession, data: bytes) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(session.send(ALICE, ["bob@example.test"], data))
        except errors.RelayError as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("stall", ["no 354", "not reading"])
def test_cancel_during_a_stalled_data(scripted_server: StartScripted, stall: str) -> None:
    release = threading.Event()
    if stall == "no 354":
        host, port = scripted_server(dialogue({"DATA": b""}))
    else:
        host, port = scripted_server(_stop_reading_after_354(release))
    steps: list[Step] = []
    account = account_for(host, port, Security.NONE, username=None)
    with SmtpSession(account, on_step=steps.append) as session:
        session.open()
        thread, outcome = _send_in_thread(session, MESSAGE + b"x" * 30_000_000 + b"\r\n")
        _wait_for(lambda: Step.DATA in steps)
        time.sleep(0.3)  # let it block in recv or sendall
        started = time.monotonic()
        session.cancel()
        thread.join(5)
        release.set()
    assert time.monotonic() - started < 1
    [error] = outcome
    assert isinstance(error, errors.Cancelled)
    assert Step.FINAL_DOT not in steps


def _stop_reading_after_354(release: threading.Event) -> Callable[[socket.socket], None]:
    def script(conn: socket.socket) -> None:
        with conn.makefile("rb") as lines:
            conn.sendall(b"220 scripted.test\r\n")
            for raw in lines:
                verb = raw[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    release.wait(10)
                    return
                conn.sendall(EHLO if verb == b"EHLO" else b"250 ok\r\n")

    return script


def _wait_for(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_cancel_after_the_final_dot_has_no_effect(scripted_server: StartScripted) -> None:
    holder: list[SmtpSession] = []

    def after_data(conn: socket.socket) -> None:
        holder[0].cancel()  # the client is waiting for the final reply now
        conn.sendall(b"250 2.0.0 queued\r\n")
        conn.recv(1024)

    host, port = scripted_server(dialogue(after_data=after_data))
    with SmtpSession(account_for(host, port, Security.NONE, username=None)) as session:
        holder.append(session)
        session.open()
        delivery = session.send(ALICE, ["bob@example.test"], MESSAGE)
    assert delivery.final is not None and delivery.final.code == 250


def test_cancel_before_open_stops_at_the_first_step(smtp_server: StartServer) -> None:
    server = smtp_server(mode="starttls")
    session = SmtpSession(account_of(server))
    session.cancel()
    with pytest.raises(errors.Cancelled), session:
        session.open(ALICE_PASSWORD)
    assert server.auth_attempts == []
