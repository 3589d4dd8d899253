"""The transport on real sockets: what a hostile or odd server sends never confuses a session."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from app.core import errors
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.smtp.session import SmtpSession, Timeouts

MESSAGE = b"Subject: t\r\n\r\n.dot\r\nbody\r\n"


def account(port: int, security: Security = Security.NONE, ca_file: str | None = None) -> Account:
    return Account(
        name="odd", email="a@example.com", host="127.0.0.1", port=port, security=security,
        ca_file=ca_file,
    )  # fmt: skip


def serve_mail(conn: socket.socket | ssl.SSLSocket, ehlo: bytes, *, dribble: bool = False) -> None:
    """Answer like a pipelining server until QUIT; ``dribble`` sends one byte per write."""

    def say(data: bytes) -> None:
        for i in range(len(data)) if dribble else [None]:
            conn.sendall(data if i is None else data[i : i + 1])

    with conn.makefile("rb") as lines:
        in_data = False
        for raw in lines:
            if in_data:
                if raw == b".\r\n":
                    in_data = False
                    say(b"250 2.0.0 queued\r\n")
                continue
            verb = raw[:4].upper()
            if verb == b"EHLO":
                say(ehlo)
            elif verb == b"DATA":
                in_data = True
                say(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                say(b"221 bye\r\n")
                return
            else:
                say(b"250 ok\r\n")


def test_replies_that_arrive_one_byte_at_a_time(scripted_server) -> None:
    host, port = scripted_server(
        lambda conn: (
            conn.sendall(b"220 slow.test\r\n"),
            serve_mail(conn, b"250-slow.test\r\n250-PIPELINING\r\n250 SIZE 9000\r\n", dribble=True),
        )
    )
    with SmtpSession(account(port)) as session:
        session.open()
        delivery = session.send("a@example.com", ["b@example.com", "c@example.com"], MESSAGE)
        transcript = session.transcript.render()
    assert delivery.final is not None and delivery.final.code == 250
    assert list(delivery.accepted) == ["b@example.com", "c@example.com"]
    assert session.max_size == 9000
    assert "S: 250-PIPELINING" in transcript and "S: 250 SIZE 9000" in transcript


def test_plaintext_sent_with_the_starttls_go_ahead_is_dropped(
    scripted_server, ca: trustme.CA, tmp_path: Path
) -> None:
    """A man in the middle appends a fake EHLO reply to "220 go ahead": it must not count."""
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    def script(conn: socket.socket) -> None:
        conn.sendall(b"220 tls.test\r\n")
        assert conn.recv(1024).upper().startswith(b"EHLO")
        conn.sendall(b"250-tls.test\r\n250 STARTTLS\r\n")
        assert conn.recv(1024).upper().startswith(b"STARTTLS")
        conn.sendall(b"220 go ahead\r\n250-injected\r\n250 SIZE 1\r\n")
        with context.wrap_socket(conn, server_side=True) as tls:
            serve_mail(tls, b"250-tls.test\r\n250 SIZE 5000\r\n")

    host, port = scripted_server(script)
    with SmtpSession(account(port, Security.STARTTLS, str(ca_file))) as session:
        session.open()
        delivery = session.send("a@example.com", ["b@example.com"], MESSAGE)
    assert session.max_size == 5000  # the EHLO after TLS, not the injected one
    assert session.tls_version is not None
    assert delivery.final is not None and delivery.final.code == 250


@pytest.mark.parametrize(
    ("greeting", "words"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not SMTP"),
        (b"220 " + b"x" * 9000 + b"\r\n", "not SMTP"),
    ],
    ids=["http", "line-too-long"],
)
def test_a_server_that_does_not_speak_smtp_is_one_clear_error(
    scripted_server, greeting: bytes, words: str
) -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(greeting)
        conn.recv(1024)

    host, port = scripted_server(script)
    with SmtpSession(account(port)) as session:
        with pytest.raises(errors.ProtocolError) as caught:
            session.open()
        assert not session.is_open
    assert words in caught.value.message and "\n" not in caught.value.message
    assert caught.value.hint == "Check the host name and port."


class FixedToken:
    """An OAuth2 token source that counts renewals (the server here never checks the token)."""

    mechanisms = ("XOAUTH2",)

    def __init__(self) -> None:
        self.renewals = 0

    def token(self) -> str:
        return "token-one"

    def renew(self) -> str:
        self.renewals += 1
        return "token-two"


@pytest.mark.parametrize(
    "auth_reply",
    [b"454 4.7.0 Temporary authentication failure\r\n", b"421 4.3.2 Service shutting down\r\n"],
    ids=["454", "421"],
)
def test_a_temporary_reply_to_an_oauth2_login_is_temporary_not_a_bad_token(
    scripted_server, auth_reply: bytes
) -> None:
    """The provider's checker being down must not send the person to sign in again."""

    def script(conn: socket.socket) -> None:
        conn.sendall(b"220 oauth.test\r\n")
        with conn.makefile("rb") as lines:
            for raw in lines:
                verb = raw[:4].upper()
                if verb == b"EHLO":
                    conn.sendall(b"250-oauth.test\r\n250 AUTH XOAUTH2\r\n")
                elif verb == b"AUTH":
                    conn.sendall(auth_reply)
                else:
                    conn.sendall(b"221 bye\r\n")
                    return

    host, port = scripted_server(script)
    signed_in = Account(
        name="work", email="a@example.com", host=host, port=port, security=Security.NONE,
        username="a@example.com", password_mode=PasswordMode.OAUTH2, allow_plaintext_auth=True,
    )  # fmt: skip
    tokens = FixedToken()
    with pytest.raises(errors.RelayError) as caught, SmtpSession(signed_in) as session:
        session.open(tokens)
    assert isinstance(caught.value, errors.TemporaryFailure), caught.value
    assert "sign in" not in caught.value.hint.lower()
    assert tokens.renewals == 0  # a temporary refusal says nothing about the token


@pytest.mark.parametrize("kind", ["plain", "pipelining", "implicit tls, separate record"])
def test_a_reply_nobody_asked_for_does_not_shift_the_next_messages_replies(
    scripted_server, ca: trustme.CA, tmp_path: Path, kind: str
) -> None:
    """An extra line after a message must not become the verdict on the next one."""
    ehlo = b"250-stray.test\r\n250 PIPELINING\r\n" if kind == "pipelining" else b"250 stray\r\n"
    stray = b"250 2.0.0 and one more thing\r\n"
    verdicts = [b"250 2.0.0 queued as 1\r\n", b"554 5.7.1 rejected as spam\r\n"]
    tls = kind.startswith("implicit tls")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    def script(plain: socket.socket) -> None:
        if not tls:
            serve(plain)
            return
        with server_context.wrap_socket(plain, server_side=True) as conn:
            serve(conn)

    def serve(conn: socket.socket) -> None:
        conn.sendall(b"220 stray.test\r\n")
        with conn.makefile("rb") as lines:
            in_data = False
            for raw in lines:
                if in_data:
                    if raw == b".\r\n":
                        in_data = False
                        conn.sendall(verdicts.pop(0))
                        if verdicts:  # after the first message only
                            time.sleep(0.05)  # its own TCP segment (and TLS record)
                            conn.sendall(stray)
                    continue
                verb = raw[:4].upper()
                if verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                in_data = verb == b"DATA"
                conn.sendall(
                    ehlo if verb == b"EHLO" else b"354 go ahead\r\n" if in_data else b"250 ok\r\n"
                )

    host, port = scripted_server(script)
    security = Security.TLS if tls else Security.NONE
    with SmtpSession(account(port, security, str(ca_file))) as session:
        session.open()
        first = session.send("a@example.com", ["b@example.com"], MESSAGE)
        time.sleep(0.3)  # the stray line is in by now
        session.reset()  # what the outbox does between two messages on one connection
        with pytest.raises(errors.RelayError) as caught:
            session.send("a@example.com", ["c@example.com"], MESSAGE)
    assert first.final is not None and first.final.text == "2.0.0 queued as 1"
    assert caught.value.reply is not None and caught.value.reply.code == 554
    assert "ignored a reply nobody asked for: 250 2.0.0 and one more thing" in (
        session.transcript.render()
    )


def test_cancel_while_connecting_ends_at_once() -> None:
    """A server whose accept queue is full lets connect() hang; Cancel must not wait it out."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):  # fills the queue: SYNs now dropped
            session = SmtpSession(account(port), timeouts=Timeouts(connect=10))
            failure: list[BaseException] = []

            def open_session() -> None:
                try:
                    session.open()
                except errors.RelayError as error:
                    failure.append(error)

            opener = threading.Thread(target=open_session)
            opener.start()
            time.sleep(0.3)  # blocked in connect() by now
            started = time.monotonic()
            session.cancel()
            opener.join(5)
    assert time.monotonic() - started < 1
    assert [type(error) for error in failure] == [errors.Cancelled]
    assert not session.is_open


def _stall_at(point: str) -> Callable[[socket.socket], None]:
    """A server that stops answering at ``point`` and holds the connection open."""

    def hold(conn: socket.socket) -> None:
        while conn.recv(1024):
            pass

    def script(conn: socket.socket) -> None:
        if point in ("greeting", "tls handshake"):
            hold(conn)  # says nothing; a TLS client's hello goes unanswered
            return
        conn.sendall(b"220 stall.test\r\n")
        with conn.makefile("rb") as lines:
            for raw in lines:
                verb = raw.split()[0].upper().decode()
                if verb == point.split()[0].upper():
                    if verb == "STARTTLS":
                        conn.sendall(b"220 go ahead\r\n")  # and then no handshake
                    hold(conn)
                    return
                if verb == "EHLO":
                    tls = b"250-STARTTLS\r\n" if point.startswith("starttls") else b""
                    conn.sendall(b"250-stall.test\r\n" + tls + b"250 AUTH PLAIN\r\n")
                else:
                    conn.sendall(b"250 ok\r\n")

    return script


@pytest.mark.parametrize(
    ("point", "security", "step"),
    [
        ("greeting", Security.NONE, "connect"),
        ("tls handshake", Security.TLS, "tls"),
        ("ehlo", Security.NONE, "ehlo"),
        ("starttls handshake", Security.STARTTLS, "tls"),
        ("auth", Security.NONE, "auth"),
    ],
)
def test_cancel_at_each_blocking_point_of_opening(
    scripted_server, point: str, security: Security, step: str
) -> None:
    host, port = scripted_server(_stall_at(point))
    stalled = Account(
        name="odd", email="a@example.com", host=host, port=port, security=security,
        username="a@example.com", allow_plaintext_auth=True,
    )  # fmt: skip
    steps: list[str] = []
    timeouts = Timeouts(greeting=10, command=10)
    session = SmtpSession(stalled, timeouts=timeouts, on_step=lambda s: steps.append(s.value))
    failure: list[BaseException] = []

    def open_session() -> None:
        try:
            session.open("secret password")
        except errors.RelayError as error:
            failure.append(error)

    opener = threading.Thread(target=open_session)
    opener.start()
    time.sleep(0.4)  # blocked by now
    started = time.monotonic()
    session.cancel()
    opener.join(5)
    assert time.monotonic() - started < 1
    assert [type(error) for error in failure] == [errors.Cancelled], [str(e) for e in failure]
    assert steps[-1] == step
    assert "secret password" not in session.transcript.render()


def test_a_connection_lost_between_split_transactions_keeps_what_was_delivered(
    scripted_server,
) -> None:
    """452 splits the recipients; the server leaves after the first transaction was taken."""

    def script(conn: socket.socket) -> None:
        conn.sendall(b"220 split.test\r\n")
        rcpts = 0
        with conn.makefile("rb") as lines:
            for raw in lines:
                verb = raw[:4].upper()
                if verb == b"EHLO":
                    conn.sendall(b"250 split.test\r\n")
                elif verb == b"RCPT":
                    rcpts += 1
                    limit = rcpts > 2
                    conn.sendall(b"452 4.5.3 Too many recipients\r\n" if limit else b"250 ok\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    while next(lines) != b".\r\n":
                        pass
                    conn.sendall(b"250 2.0.0 queued\r\n421 4.3.2 shutting down\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    host, port = scripted_server(script)
    everyone = ["b@example.com", "c@example.com", "d@example.com"]
    with SmtpSession(account(port)) as session:
        session.open()
        delivery = session.send("a@example.com", everyone, MESSAGE)
    assert list(delivery.accepted) == everyone[:2]
    assert delivery.final is not None and delivery.final.code == 250
    assert delivery.unsent == ("d@example.com",)
    assert isinstance(delivery.error, errors.TemporaryFailure)
    assert "421 4.3.2 shutting down" in delivery.error.message  # the server's own words


@pytest.mark.parametrize("host", ["smtp..example.com", "x" * 64 + ".example.com"])
def test_a_host_name_no_resolver_can_take_is_host_not_found(host: str) -> None:
    """An empty label or one over 63 characters fails IDNA encoding before any lookup."""
    bad = Account(name="odd", email="a@example.com", host=host, port=587, security=Security.NONE)
    with pytest.raises(errors.HostNotFound) as caught, SmtpSession(bad) as session:
        session.open()
    assert host in caught.value.message
