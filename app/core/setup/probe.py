"""Knock on an SMTP port: does a server answer there in this TLS mode, and what does it offer?

Used by autodetection (guessing a domain's server) and by auto-fix (finding the
port and mode that work when the configured ones do not). Never logs in.
"""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from app.core.accounts.model import Security
from app.core.smtp.protocol import Capabilities
from app.core.smtp.transcript import Transcript
from app.core.smtp.transport import Transport

Connector = Callable[[str, int, float], socket.socket]
"""Open a TCP connection to (host, port) within timeout seconds; tests map names to loopback."""


def direct_connect(host: str, port: int, timeout: float) -> socket.socket:
    """The real network: resolve ``host`` and connect."""
    return socket.create_connection((host, port), timeout=timeout)


class NotSmtp(Exception):
    """The peer answered, but not like an SMTP server in this mode."""


@dataclass(frozen=True)
class Target:
    """One host, port and TLS mode to try."""

    host: str
    port: int
    security: Security


@dataclass(frozen=True)
class ProbeResult:
    """What one knock found."""

    target: Target
    answered: bool  # an SMTP server greeted and answered EHLO, encrypted as asked
    verified: bool = False  # the certificate is trusted for the host (or matches the pin)
    auth: tuple[str, ...] = ()  # AUTH mechanisms offered once encrypted
    problem: str = ""  # why it did not answer, or why the certificate is not trusted
    seconds: float = 0.0

    @property
    def auth_offered(self) -> bool:
        return bool(self.auth)

    @property
    def rank(self) -> tuple[bool, bool, bool]:
        """Sort key: answered first, then verified TLS, then AUTH offered."""
        return (not self.answered, not self.verified, not self.auth_offered)


def open_smtp(
    sock: socket.socket, target: Target, context: ssl.SSLContext
) -> tuple[Transport, ssl.SSLSocket | None, Capabilities]:
    """Greet over ``sock`` and secure the connection per ``target.security``.

    Returns the transport, the TLS socket (None for a plain connection) and
    what the server offers.
    """
    transport = Transport(Transcript())
    tls_sock: ssl.SSLSocket | None = None
    try:
        transport.attach(sock, target.host)
        if target.security is Security.TLS:
            tls_sock = transport.start_tls(context)
        _want(transport.read_reply().code, 220, "no SMTP greeting")
        offered = _ehlo(transport, "EHLO refused")
        if target.security is Security.STARTTLS:
            if not offered.starttls:
                raise NotSmtp("STARTTLS is not offered")
            _want(transport.command("STARTTLS").code, 220, "STARTTLS refused")
            tls_sock = transport.start_tls(context)
            offered = _ehlo(transport, "EHLO refused after STARTTLS")
    except BaseException:
        # The socket in use may be a TLS wrapper the caller never saw (a failed handshake).
        transport.close()
        raise
    return transport, tls_sock, offered


def _ehlo(transport: Transport, words: str) -> Capabilities:
    reply = transport.command(f"EHLO {transport.local_name()}")
    _want(reply.code, 250, words)
    return Capabilities.from_reply(reply)


def _want(code: int, expected: int, words: str) -> None:
    if code != expected:
        raise NotSmtp(f"{words} ({code})")


def unverified_context() -> ssl.SSLContext:
    """A context that accepts any certificate: only to look at it, never to send."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Prober:
    """Probes targets, several at once, each bounded by ``timeout`` seconds."""

    def __init__(
        self,
        *,
        connect: Connector = direct_connect,
        timeout: float = 4.0,
        cafile: str | None = None,
        pin_sha256: str | None = None,
        max_workers: int = 9,
    ) -> None:
        self.connect = connect
        self.timeout = timeout
        self._cafile = cafile
        self._pin = pin_sha256.replace(":", "").lower() if pin_sha256 else None
        self._max_workers = max_workers
        self._context: ssl.SSLContext | None = None
        self._context_lock = threading.Lock()

    def _verifying_context(self) -> ssl.SSLContext:
        """One verifying context for all probes: loading the CA store costs ~0.1 s of CPU."""
        with self._context_lock:
            if self._context is None:
                self._context = ssl.create_default_context(cafile=self._cafile)
            return self._context

    def probe_all(self, targets: Sequence[Target]) -> list[ProbeResult]:
        """Probe every target in parallel; results in the order of ``targets``."""
        if not targets:
            return []
        workers = min(len(targets), self._max_workers)
        with ThreadPoolExecutor(workers, thread_name_prefix="relaydesk-probe") as pool:
            return list(pool.map(self.probe, targets))

    def probe(self, target: Target) -> ProbeResult:
        """Knock once (twice when the certificate is not trusted, to see if TLS works at all)."""
        started = time.monotonic()
        try:
            try:
                verified, auth = self._attempt(target, verify=self._pin is None)
                problem = "" if verified else "certificate does not match the pin"
            except ssl.SSLCertVerificationError as exc:
                verified, auth = False, self._attempt(target, verify=False)[1]
                problem = f"certificate not trusted: {exc.verify_message or exc}"
        except (OSError, smtplib.SMTPException, NotSmtp, ValueError) as exc:
            return ProbeResult(target, False, problem=_words(exc), seconds=_since(started))
        return ProbeResult(target, True, verified, auth, problem, _since(started))

    def _attempt(self, target: Target, *, verify: bool) -> tuple[bool, tuple[str, ...]]:
        sock = self.connect(target.host, target.port, self.timeout)
        sock.settimeout(self.timeout)
        transport: Transport | None = None
        try:
            context = self._verifying_context() if verify else None
            transport, tls_sock, offered = open_smtp(sock, target, context or unverified_context())
            if self._pin is not None and tls_sock is not None:
                der = tls_sock.getpeercert(binary_form=True) or b""
                verify = hashlib.sha256(der).hexdigest() == self._pin
            _quit(transport)
            return verify and tls_sock is not None, offered.auth
        finally:
            (transport or sock).close()


def _quit(transport: Transport) -> None:
    try:
        transport.command("QUIT")
    except (OSError, smtplib.SMTPException):
        pass  # the answer does not matter


def _words(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ssl.SSLError) and reason:
        return f"TLS failed: {str(reason).replace('_', ' ').lower()}"
    return str(exc) or type(exc).__name__


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
