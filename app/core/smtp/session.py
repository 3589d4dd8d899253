"""One SMTP submission session: connect, secure, log in, send, close.

Every failure leaves as a classified ``RelayError`` (see ``diagnose``); every
line sent and received is in the (redacted) transcript.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from typing import Any, Protocol

from app.core.accounts.model import Account, Security
from app.core.smtp import policy, sasl
from app.core.smtp.client import SmtpClient
from app.core.smtp.conversation import Timeouts
from app.core.smtp.reply import Reply
from app.core.smtp.source import MessageSource
from app.core.smtp.steps import GreetingTimeout, Step
from app.core.smtp.tls import check_certificate, tls_context
from app.core.smtp.transcript import Transcript
from app.core.smtp.transfer import CHUNK_SIZE, Delivery, Sender

__all__ = ["CHUNK_SIZE", "Delivery", "MessageSource", "SmtpSession", "Step", "Timeouts"]

DEFAULT_TIMEOUTS = Timeouts()


class BearerToken(Protocol):
    """An OAuth2 access token source (``app.core.accounts.credentials.TokenCredential``)."""

    mechanisms: tuple[str, ...]

    def token(self) -> str: ...

    def renew(self) -> str: ...


class SmtpSession(Sender):
    """A connection to the account's server. Not thread-safe, except ``cancel``.

    ``pipelining`` and ``chunking`` use PIPELINING and CHUNKING when the server
    offers them; False keeps to one command per round trip and DATA.
    """

    def __init__(
        self,
        account: Account,
        *,
        transcript: Transcript | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        on_step: Callable[[Step], None] | None = None,
        pipelining: bool = True,
        chunking: bool = True,
    ) -> None:
        super().__init__(
            account,
            transcript=transcript,
            timeouts=timeouts,
            on_step=on_step,
            pipelining=pipelining,
            chunking=chunking,
        )
        # Facts learned by open() (the sending ones are declared by Sender):
        self.auth_mechanisms: tuple[str, ...] = ()
        self.tls_version: str | None = None
        self.peer_certificate_sha256: str | None = None

    # -- opening --------------------------------------------------------------

    def open(self, password: str | BearerToken | None = None) -> None:
        """Connect, secure the connection per ``account.security``, EHLO and log in."""
        if self._client is not None:
            raise RuntimeError("the session is already open")
        if self.account.uses_auth and password is None:
            raise policy.password_missing(self.account)
        # Loading the system CA store takes ~10 ms: not for a plain connection (a local relay).
        context = (
            tls_context(self.account)
            if self.account.security is not Security.NONE or self.account.uses_auth
            else None
        )
        self._client = client = SmtpClient(self.transcript)
        try:
            self._connect(client, context)
            self._ehlo(client)
            if self.account.security is Security.STARTTLS or self._upgrade_before_login(client):
                if not client.has_extn("starttls"):
                    raise policy.starttls_missing(self.account)
                assert context is not None
                self._start_tls(client, context)
                self._ehlo(client)
            self._learn(client)
            if password is not None and self.account.uses_auth:
                self._authenticate(client, password)
        except BaseException:
            self._abort()
            raise

    def _upgrade_before_login(self, client: SmtpClient) -> bool:
        # "Send the password without encryption" allows the clear text, it does not ask
        # for it: when the server offers STARTTLS the password goes encrypted (and verified).
        return (
            self.account.security is Security.NONE
            and self.account.uses_auth
            and client.has_extn("starttls")
        )

    def _connect(self, client: SmtpClient, context: ssl.SSLContext | None) -> None:
        host, port = self.account.host, self.account.port
        self._announce(Step.CONNECT)
        self.transcript.note(f"connecting to {host} port {port} ({self.account.security})")
        with self._network(Step.CONNECT):
            sock = socket.create_connection((host, port), timeout=self.timeouts.connect)
        with self._lock:
            client.attach(sock, host)
        if self.account.security is Security.TLS:
            assert context is not None
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
        self.supports_chunking = "chunking" in features
        self.supports_8bitmime = "8bitmime" in features
        self.auth_mechanisms = tuple(features.get("auth", "").upper().split())

    def _authenticate(self, client: SmtpClient, password: str | BearerToken) -> None:
        self._announce(Step.AUTH)
        encrypted = isinstance(client.sock, ssl.SSLSocket)
        if not encrypted and not self.account.allow_plaintext_auth:
            raise policy.plaintext_auth_refused(
                self.account, starttls_offered=client.has_extn("starttls")
            )
        if not isinstance(password, str):
            self._authenticate_bearer(client, password)
            return
        mechanism = next((m for m in ("PLAIN", "LOGIN") if m in self.auth_mechanisms), None)
        if mechanism is None:
            raise policy.auth_not_offered(self.account, self.auth_mechanisms, encrypted=encrypted)
        with self._network(Step.AUTH):
            reply = client.authenticate(mechanism, self.account.username or "", password)
        self._expect(Step.AUTH, reply, 235)

    def _authenticate_bearer(self, client: SmtpClient, credential: BearerToken) -> None:
        """XOAUTH2/OAUTHBEARER; a refused token is renewed once and AUTH tried again."""
        mechanism = sasl.choose(self.auth_mechanisms, credential.mechanisms)
        if mechanism is None:
            raise policy.bearer_not_offered(self.account, self.auth_mechanisms)
        reply, challenge = self._bearer_attempt(client, mechanism, credential.token())
        if reply.code >= 500 and reply.code != 504:
            # The token may have been revoked or expired early: a fresh one, once.
            reply, challenge = self._bearer_attempt(client, mechanism, credential.renew())
        if reply.code != 235:
            self._abort()
            raise policy.token_rejected(self.account, reply, challenge)

    def _bearer_attempt(
        self, client: SmtpClient, mechanism: str, token: str
    ) -> tuple[Reply, dict[str, Any]]:
        user = self.account.username or self.account.email
        response = sasl.initial_response(
            mechanism, user, token, self.account.host, self.account.port
        )
        with self._network(Step.AUTH):
            return client.authenticate_bearer(mechanism, response)
