"""One SMTP submission session: connect, secure, log in, send, close.

The session owns a ``Conversation`` (the transport, cancel, error
classification) and a ``Sender`` (transactions); what goes on the wire is
decided by the pure modules ``protocol``, ``transaction`` and ``sasl``;
logging in is in ``login``.
Every failure leaves as a classified ``RelayError`` (see ``diagnose``); every
line sent and received is in the (redacted) transcript.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from app.core.accounts.model import Account, Security
from app.core.smtp import login, policy
from app.core.smtp.conversation import Conversation, Timeouts
from app.core.smtp.login import BearerToken
from app.core.smtp.protocol import Capabilities
from app.core.smtp.reply import Reply
from app.core.smtp.source import MessageSource
from app.core.smtp.steps import GreetingTimeout, Step
from app.core.smtp.tls import check_certificate, tls_context
from app.core.smtp.transaction import CHUNK_SIZE
from app.core.smtp.transcript import Transcript
from app.core.smtp.transfer import Delivery, OnProgress, Sender
from app.core.smtp.transport import Transport

__all__ = [
    "CHUNK_SIZE",
    "BearerToken",
    "Delivery",
    "MessageSource",
    "SmtpSession",
    "Step",
    "Timeouts",
]

DEFAULT_TIMEOUTS = Timeouts()


class SmtpSession:
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
        self.account = account
        self._talk = Conversation(
            account, transcript=transcript, timeouts=timeouts, on_step=on_step
        )
        self.transcript = self._talk.transcript
        self.timeouts = timeouts
        self._sender = Sender(self._talk, pipelining=pipelining, chunking=chunking)
        # Facts learned by open():
        self.tls_version: str | None = None
        self.peer_certificate_sha256: str | None = None

    # -- what the server offered ------------------------------------------------

    @property
    def capabilities(self) -> Capabilities:
        """The EHLO reply after TLS (empty before open, or after HELO)."""
        return self._sender.capabilities

    @property
    def max_size(self) -> int | None:
        return self.capabilities.max_size

    @property
    def supports_smtputf8(self) -> bool:
        return self.capabilities.smtputf8

    @property
    def supports_pipelining(self) -> bool:
        return self.capabilities.pipelining

    @property
    def auth_mechanisms(self) -> tuple[str, ...]:
        return self.capabilities.auth

    @property
    def recipient_limit(self) -> int | None:
        """Recipients per transaction, once a "452 too many recipients" has shown it."""
        return self._sender.recipient_limit

    @property
    def pipelining(self) -> bool:
        return self._sender.pipelining

    @property
    def chunking(self) -> bool:
        return self._sender.chunking

    @property
    def is_open(self) -> bool:
        """True while the connection can carry commands (False after a failure or close)."""
        return self._talk.is_open

    # -- sending (see ``transfer``) ----------------------------------------------

    def send(
        self,
        envelope_from: str,
        recipients: Sequence[str],
        data: bytes | MessageSource,
        *,
        smtputf8: bool = False,
        on_progress: OnProgress | None = None,
        on_transaction: Callable[[Delivery], None] | None = None,
    ) -> Delivery:
        """Send one message; refused recipients are reported, not raised (see Sender.send)."""
        return self._sender.send(
            envelope_from,
            recipients,
            data,
            smtputf8=smtputf8,
            on_progress=on_progress,
            on_transaction=on_transaction,
        )

    def check_sender(self, address: str) -> Reply:
        """MAIL FROM then RSET: would the server take mail from ``address``?"""
        return self._sender.check_sender(address)

    def reset(self) -> None:
        """Forget the current transaction (between messages on one connection)."""
        self._sender.reset()

    def cancel(self) -> None:
        """From any thread: abort before the end of the message; the blocked call raises."""
        self._talk.cancel()

    def close(self) -> None:
        """QUIT if the connection is still usable; never raises; idempotent."""
        self._talk.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- opening --------------------------------------------------------------

    def open(self, password: str | BearerToken | None = None) -> None:
        """Connect, secure the connection per ``account.security``, EHLO and log in."""
        if self.account.uses_auth and password is None:
            raise policy.password_missing(self.account)
        # Loading the system CA store takes ~10 ms: not for a plain connection (a local relay).
        context = (
            tls_context(self.account)
            if self.account.security is not Security.NONE or self.account.uses_auth
            else None
        )
        transport = self._talk.begin()
        try:
            self._connect(transport, context)
            offered = self._ehlo(transport)
            if self.account.security is Security.STARTTLS or self._upgrade_before_login(offered):
                if not offered.starttls:
                    raise policy.starttls_missing(self.account)
                assert context is not None
                self._start_tls(transport, context)
                offered = self._ehlo(transport)
            self._sender.capabilities = offered
            if password is not None and self.account.uses_auth:
                login.log_in(self._talk, offered, password)
        except BaseException:
            self._talk.abort()
            raise

    def _upgrade_before_login(self, offered: Capabilities) -> bool:
        # "Send the password without encryption" allows the clear text, it does not ask
        # for it: when the server offers STARTTLS the password goes encrypted (and verified).
        return (
            self.account.security is Security.NONE and self.account.uses_auth and offered.starttls
        )

    def _connect(self, transport: Transport, context: ssl.SSLContext | None) -> None:
        host, port, talk = self.account.host, self.account.port, self._talk
        talk.announce(Step.CONNECT)
        self.transcript.note(f"connecting to {host} port {port} ({self.account.security})")
        with talk.network(Step.CONNECT):
            transport.connect(host, port, self.timeouts.connect)
        if self.account.security is Security.TLS:
            assert context is not None
            talk.announce(Step.TLS)
            with talk.network(Step.TLS):
                transport.set_timeout(self.timeouts.greeting)
                self._check_certificate(transport.start_tls(context))
        transport.set_timeout(self.timeouts.greeting)
        with talk.network(Step.CONNECT):
            talk.check_cancelled(Step.CONNECT)
            try:
                greeting = transport.read_reply()
            except TimeoutError as exc:
                raise GreetingTimeout(str(exc)) from exc
        talk.expect(Step.CONNECT, greeting, 220)

    def _ehlo(self, transport: Transport) -> Capabilities:
        talk = self._talk
        talk.announce(Step.EHLO)
        transport.set_timeout(self.timeouts.greeting)
        with talk.network(Step.EHLO):
            reply = transport.command(f"EHLO {transport.local_name()}")
            offered = Capabilities.from_reply(reply)
            if reply.code != 250 and self.account.security is Security.NONE:
                # An old relay without ESMTP: HELO, and no extension at all.
                reply, offered = transport.command(f"HELO {transport.local_name()}"), Capabilities()
        talk.expect(Step.EHLO, reply, 250)
        transport.set_timeout(self.timeouts.command)
        return offered

    def _start_tls(self, transport: Transport, context: ssl.SSLContext) -> None:
        talk = self._talk
        talk.announce(Step.TLS)
        talk.expect(Step.TLS, talk.command(Step.TLS, "STARTTLS"), 220)
        with talk.network(Step.TLS):
            tls_sock = transport.start_tls(context)
        self._check_certificate(tls_sock)

    def _check_certificate(self, sock: ssl.SSLSocket) -> None:
        self.tls_version, self.peer_certificate_sha256 = check_certificate(
            sock, self.account, self.transcript
        )
