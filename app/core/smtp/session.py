"""One SMTP submission session: connect, secure, log in, send, close.

Every failure leaves as a classified ``RelayError`` (see ``diagnose``); every
line sent and received is in the (redacted) transcript.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.accounts import Account, Security
from app.core.errors import InvalidInput
from app.core.smtp import policy
from app.core.smtp.client import SmtpClient, dot_stuff
from app.core.smtp.conversation import Conversation, Timeouts
from app.core.smtp.reply import Reply
from app.core.smtp.steps import GreetingTimeout, Step
from app.core.smtp.tls import check_certificate, tls_context
from app.core.smtp.transcript import Transcript

__all__ = ["CHUNK_SIZE", "Delivery", "SmtpSession", "Step", "Timeouts"]

CHUNK_SIZE = 64 * 1024
DEFAULT_TIMEOUTS = Timeouts()


@dataclass(frozen=True)
class Delivery:
    """What the server said about one message."""

    accepted: dict[str, Reply]  # RCPT replies 2xx
    refused: dict[str, Reply]  # RCPT replies 4xx/5xx; the outbox retries only the 4xx ones
    final: Reply | None  # reply to the final dot; None when every recipient was refused


class SmtpSession(Conversation):
    """A connection to the account's server. Not thread-safe, except ``cancel``."""

    def __init__(
        self,
        account: Account,
        *,
        transcript: Transcript | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        on_step: Callable[[Step], None] | None = None,
    ) -> None:
        super().__init__(account, transcript=transcript, timeouts=timeouts, on_step=on_step)
        # Facts learned by open():
        self.max_size: int | None = None
        self.supports_smtputf8 = False
        self.supports_pipelining = False
        self.supports_8bitmime = False
        self.auth_mechanisms: tuple[str, ...] = ()
        self.tls_version: str | None = None
        self.peer_certificate_sha256: str | None = None

    # -- opening --------------------------------------------------------------

    def open(self, password: str | None = None) -> None:
        """Connect, secure the connection per ``account.security``, EHLO and log in."""
        if self._client is not None:
            raise RuntimeError("the session is already open")
        if self.account.uses_auth and password is None:
            raise policy.password_missing(self.account)
        context = tls_context(self.account)
        self._client = client = SmtpClient(self.transcript)
        try:
            self._connect(client, context)
            self._ehlo(client)
            if self.account.security is Security.STARTTLS:
                if not client.has_extn("starttls"):
                    raise policy.starttls_missing(self.account)
                self._start_tls(client, context)
                self._ehlo(client)
            self._learn(client)
            if password is not None and self.account.uses_auth:
                self._authenticate(client, password)
        except BaseException:
            self._abort()
            raise

    def _connect(self, client: SmtpClient, context: ssl.SSLContext) -> None:
        host, port = self.account.host, self.account.port
        self._announce(Step.CONNECT)
        self.transcript.note(f"connecting to {host} port {port} ({self.account.security})")
        with self._network(Step.CONNECT):
            sock = socket.create_connection((host, port), timeout=self.timeouts.connect)
        with self._lock:
            client.attach(sock, host)
        if self.account.security is Security.TLS:
            self._announce(Step.TLS)
            with self._network(Step.TLS):
                sock.settimeout(self.timeouts.greeting)
                tls_sock = context.wrap_socket(
                    sock, server_hostname=host, do_handshake_on_connect=False
                )
                with self._lock:  # so cancel() can wake the handshake
                    client.attach(tls_sock, host)
                tls_sock.do_handshake()
            self._check_certificate(tls_sock)
        client.set_timeout(self.timeouts.greeting)
        with self._network(Step.CONNECT):
            self._check_cancelled(Step.CONNECT)
            try:
                greeting = client.read_reply()
            except TimeoutError as exc:
                raise GreetingTimeout(str(exc)) from exc
        self._expect(Step.CONNECT, greeting, 220)

    def _ehlo(self, client: SmtpClient) -> None:
        self._announce(Step.EHLO)
        client.set_timeout(self.timeouts.greeting)
        with self._network(Step.EHLO):
            reply = Reply.from_smtplib(*client.ehlo())
            if reply.code != 250 and self.account.security is Security.NONE:
                reply = Reply.from_smtplib(*client.helo())  # an old relay without ESMTP
        self._expect(Step.EHLO, reply, 250)
        client.set_timeout(self.timeouts.command)

    def _start_tls(self, client: SmtpClient, context: ssl.SSLContext) -> None:
        self._announce(Step.TLS)
        with self._network(Step.TLS):
            reply = client.command("STARTTLS")
        self._expect(Step.TLS, reply, 220)
        with self._network(Step.TLS):
            tls_sock = client.start_tls(context, self._lock)
        self._check_certificate(tls_sock)

    def _check_certificate(self, sock: ssl.SSLSocket) -> None:
        self.tls_version, self.peer_certificate_sha256 = check_certificate(
            sock, self.account, self.transcript
        )

    def _learn(self, client: SmtpClient) -> None:
        features = client.esmtp_features
        size = features.get("size", "").strip()
        self.max_size = int(size) if size.isdigit() and int(size) > 0 else None
        self.supports_smtputf8 = "smtputf8" in features
        self.supports_pipelining = "pipelining" in features
        self.supports_8bitmime = "8bitmime" in features
        self.auth_mechanisms = tuple(features.get("auth", "").upper().split())

    def _authenticate(self, client: SmtpClient, password: str) -> None:
        self._announce(Step.AUTH)
        encrypted = isinstance(client.sock, ssl.SSLSocket)
        if not encrypted and not self.account.allow_plaintext_auth:
            raise policy.plaintext_auth_refused(
                self.account, starttls_offered=client.has_extn("starttls")
            )
        mechanism = next((m for m in ("PLAIN", "LOGIN") if m in self.auth_mechanisms), None)
        if mechanism is None:
            raise policy.auth_not_offered(self.account, self.auth_mechanisms, encrypted=encrypted)
        with self._network(Step.AUTH):
            reply = client.authenticate(mechanism, self.account.username or "", password)
        self._expect(Step.AUTH, reply, 235)

    # -- sending --------------------------------------------------------------

    def check_sender(self, address: str) -> Reply:
        """MAIL FROM then RSET: would the server take mail from ``address``?"""
        client = self._open_client()
        _check_address(address, smtputf8=False)
        self._announce(Step.MAIL)
        with self._network(Step.MAIL):
            reply = client.command("MAIL", f"FROM:<{address}>")
        self._expect(Step.MAIL, reply, 250)
        self.reset()
        return reply

    def send(
        self,
        envelope_from: str,
        recipients: Sequence[str],
        data: bytes,
        *,
        smtputf8: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Delivery:
        """Send one message; refused recipients are reported, not raised."""
        client = self._open_client()
        if not recipients:
            raise InvalidInput("The message has no recipients.", hint="Add at least one.")
        for address in (envelope_from, *recipients):
            _check_address(address, smtputf8=smtputf8)
        if smtputf8 and not self.supports_smtputf8:
            raise policy.smtputf8_unsupported(self.account)
        if self.max_size is not None and len(data) > self.max_size:
            raise policy.message_too_large(self.account, len(data), self.max_size)
        client.command_encoding = "utf-8" if smtputf8 else "ascii"
        self._mail(client, envelope_from, len(data), smtputf8=smtputf8)
        accepted, refused = self._recipients(client, recipients)
        if not accepted:
            self.reset()
            return Delivery(accepted, refused, None)
        final = self._data(client, data, on_progress)
        if self._on_step is not None:
            self._on_step(Step.DONE)  # not a cancel point: the outcome is known
        return Delivery(accepted, refused, final)

    def _mail(self, client: SmtpClient, sender: str, size: int, *, smtputf8: bool) -> None:
        options = []
        if "size" in client.esmtp_features:
            options.append(f"SIZE={size}")
        if self.supports_8bitmime:
            options.append("BODY=8BITMIME")
        if smtputf8:
            options.append("SMTPUTF8")
        self._announce(Step.MAIL)
        with self._network(Step.MAIL):
            reply = client.command("MAIL", " ".join([f"FROM:<{sender}>", *options]))
        self._expect(Step.MAIL, reply, 250)

    def _recipients(
        self, client: SmtpClient, recipients: Sequence[str]
    ) -> tuple[dict[str, Reply], dict[str, Reply]]:
        accepted: dict[str, Reply] = {}
        refused: dict[str, Reply] = {}
        self._announce(Step.RCPT)
        for address in recipients:
            with self._network(Step.RCPT):
                reply = client.command("RCPT", f"TO:<{address}>")
            if reply.code == 421:
                self._expect(Step.RCPT, reply, 250)
            (accepted if 200 <= reply.code < 300 else refused)[address] = reply
        return accepted, refused

    def _data(
        self, client: SmtpClient, data: bytes, on_progress: Callable[[int, int], None] | None
    ) -> Reply:
        self._announce(Step.DATA)
        with self._network(Step.DATA):
            reply = client.command("DATA")
        self._expect(Step.DATA, reply, 354)
        wire = dot_stuff(data)
        total = len(wire)
        self.transcript.note(f"<message data: {total} bytes>")
        with self._network(Step.DATA):
            if on_progress is not None:
                on_progress(0, total)
            for start in range(0, total, CHUNK_SIZE):
                self._check_cancelled(Step.DATA)
                client.send(wire[start : start + CHUNK_SIZE])
                if on_progress is not None:
                    on_progress(min(start + CHUNK_SIZE, total), total)
        self._announce(Step.FINAL_DOT)
        with self._lock:
            self._check_cancelled(Step.DATA)
            self._committed = True
        with self._network(Step.DATA):  # until the dot is written the server cannot have it
            client.putcmd(".")
        client.set_timeout(self.timeouts.final_reply)
        with self._network(Step.FINAL_DOT):
            reply = client.read_reply()
        with self._lock:
            self._committed = False
        client.set_timeout(self.timeouts.command)
        self._expect(Step.FINAL_DOT, reply, 250)
        return reply


def _check_address(address: str, *, smtputf8: bool) -> None:
    """Refuse what would break the command line (CR/LF injection) or need SMTPUTF8."""
    if not address or any(c in address for c in "<>\r\n \t\0"):
        raise policy.bad_address(address)
    if not smtputf8 and not address.isascii():
        raise policy.needs_smtputf8(address)
