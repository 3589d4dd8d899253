"""Real SMTP servers for tests: aiosmtpd on loopback with trustme TLS, plus a raw scripted fake."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session, syntax

HOST = "127.0.0.1"
SERVER_NAME = "localhost"

USERS: dict[str, str] = {
    "alice@example.test": "correct horse",
    "bob": "hunter2",
    "jürgen@example.test": "pässwörd-€",
}

Mode = Literal["starttls", "tls", "plain"]
CertKind = Literal["trusted", "untrusted", "wrong_host", "expired"]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # message bytes exactly as received (CRLF line endings)
    smtputf8: bool  # client used SMTPUTF8 on MAIL FROM
    authenticated_as: str | None


@dataclass
class RunningServer:
    host: str
    port: int
    ca_file: Path  # PEM of the CA that a correctly configured client should trust
    messages: list[Received]
    auth_attempts: list[str]  # usernames tried; passwords are never stored
    _stop: Callable[[], None] = field(repr=False)

    def stop(self) -> None:
        """Close every client connection and the listener; safe to call twice."""
        self._stop()


class RecordingHandler:
    """Default handler: accepts every message and appends it to ``messages``.

    Fault-injection handlers may subclass it and override ``handle_DATA`` (or add
    other aiosmtpd ``handle_*`` hooks) and call ``record()`` when they accept.
    """

    def __init__(self, messages: list[Received] | None = None) -> None:
        self.messages: list[Received] = [] if messages is None else messages

    def record(self, session: Session, envelope: Envelope) -> None:
        """Append the envelope and exact message bytes to ``messages``."""
        user = session.auth_data if session.authenticated else None
        self.messages.append(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=bytes(envelope.original_content or b""),
                smtputf8=bool(envelope.smtp_utf8),
                authenticated_as=user if isinstance(user, str) else None,
            )
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.record(session, envelope)
        return "250 2.0.0 OK queued"


class _Session(Session):
    # aiosmtpd itself assigns the deprecated login_data after AUTH and logs a warning each
    # time; a plain attribute here keeps test logs free of that noise.
    login_data: Any = None


class _TestSMTP(SMTP):
    """aiosmtpd SMTP that can hide AUTH entirely (aiosmtpd always offers PLAIN/LOGIN)."""

    def __init__(self, handler: Any, *, offer_auth: bool, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._offer_auth = offer_auth

    def _create_session(self) -> Session:
        return _Session(self.loop)

    async def push(self, status: str) -> None:
        if not self._offer_auth and status.startswith(("250-AUTH", "250 AUTH")):
            return
        await super().push(status)

    @syntax("AUTH <mechanism>")
    async def smtp_AUTH(self, arg: str) -> None:
        if not self._offer_auth:
            await self.push("502 5.5.1 AUTH not supported")
            return
        await super().smtp_AUTH(arg)


class _Controller(Controller):
    """Controller on an ephemeral port that tracks connections so stop() can close them."""

    def __init__(self, handler: Any, *, offer_auth: bool, **kwargs: Any) -> None:
        super().__init__(handler, hostname=HOST, port=0, server_hostname=SERVER_NAME, **kwargs)
        self._offer_auth = offer_auth
        self.protocols: list[_TestSMTP] = []

    def factory(self) -> _TestSMTP:
        protocol = _TestSMTP(self.handler, offer_auth=self._offer_auth, **self.SMTP_kwargs)
        self.protocols.append(protocol)
        return protocol

    def _trigger_server(self) -> None:
        # Port 0 was bound by the OS; learn the real port before the self-test connects.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    async def _close_connections(self) -> None:
        for protocol in self.protocols:
            for transport in (protocol.transport, protocol._original_transport):
                if transport is not None and not transport.is_closing():
                    transport.abort()
        # Let connection_lost callbacks run, then finish whatever handler tasks remain.
        await asyncio.sleep(0)
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def shutdown(self) -> None:
        """Close connections, stop the loop thread and close the loop."""
        if self._thread is None or not self._thread.is_alive():
            # start() failed before the loop ran: there is nothing to stop, only to close.
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if not self.loop.is_closed():
                self.loop.close()
            return
        future = asyncio.run_coroutine_threadsafe(self._close_connections(), self.loop)
        future.result(timeout=5)
        self.stop()


def _server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def _issue_cert(ca: trustme.CA, kind: CertKind) -> trustme.LeafCert:
    if kind == "trusted":
        return ca.issue_cert(SERVER_NAME, HOST)
    if kind == "untrusted":
        return trustme.CA().issue_cert(SERVER_NAME, HOST)
    if kind == "wrong_host":
        return ca.issue_cert("other.example")
    if kind == "expired":
        return ca.issue_cert(
            SERVER_NAME, HOST, not_before=datetime(2020, 1, 1), not_after=datetime(2021, 1, 1)
        )
    raise ValueError(f"unknown cert kind: {kind!r}")


def _make_authenticator(
    users: dict[str, str], attempts: list[str]
) -> Callable[[SMTP, Session, Envelope, str, Any], AuthResult]:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", errors="replace")
        password = data.password.decode("utf-8", errors="replace")
        attempts.append(login)
        if login in users and users[login] == password:
            return AuthResult(success=True, handled=False, auth_data=login)
        return AuthResult(success=False, handled=False)

    return authenticate


def start_server(
    *,
    mode: Mode = "starttls",
    users: dict[str, str] | None = USERS,
    offer_starttls: bool = True,
    auth_require_tls: bool = True,
    data_size_limit: int | None = None,
    smtputf8: bool = False,
    cert: CertKind = "trusted",
    ca: trustme.CA,
    tmp_path: Path,
    handler: object | None = None,
) -> RunningServer:
    """Start an aiosmtpd server on 127.0.0.1 (free port) and return once it answers.

    mode="starttls": STARTTLS required before MAIL/AUTH (unless offer_starttls=False, which
    gives a plaintext server that still offers AUTH). mode="tls": implicit TLS.
    mode="plain": no TLS; AUTH only when users is given and auth_require_tls=False.
    users=None: no AUTH advertised or accepted at all.
    """
    ca_file = tmp_path / "relaydesk-test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    attempts: list[str] = []
    if handler is None:
        handler = RecordingHandler()
    # A fault handler built on RecordingHandler records into the server's list.
    messages: list[Received] = handler.messages if isinstance(handler, RecordingHandler) else []

    kwargs: dict[str, Any] = {
        "data_size_limit": data_size_limit,
        "enable_SMTPUTF8": smtputf8,
        "authenticator": _make_authenticator(users or {}, attempts),
        "auth_require_tls": auth_require_tls,
        "ready_timeout": 5.0,
    }
    if mode == "starttls" and offer_starttls:
        kwargs["tls_context"] = _server_context(_issue_cert(ca, cert))
        kwargs["require_starttls"] = True
    elif mode == "starttls":
        # A server that "forgot" STARTTLS but still offers AUTH in the clear.
        kwargs["auth_require_tls"] = False
    elif mode == "tls":
        kwargs["ssl_context"] = _server_context(_issue_cert(ca, cert))
        # aiosmtpd only counts STARTTLS as TLS; implicit TLS needs this off to allow AUTH.
        kwargs["auth_require_tls"] = False
    elif mode != "plain":
        raise ValueError(f"unknown mode: {mode!r}")

    controller = _Controller(handler, offer_auth=users is not None, **kwargs)
    try:
        controller.start()
    except BaseException:
        controller.shutdown()
        raise

    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            controller.shutdown()

    return RunningServer(
        host=HOST,
        port=controller.port,
        ca_file=ca_file,
        messages=messages,
        auth_attempts=attempts,
        _stop=stop,
    )


def start_scripted_server(
    script: Callable[[socket.socket], None], *, timeout: float = 10.0
) -> tuple[str, int, Callable[[], None]]:
    """Accept ONE connection on 127.0.0.1 and run ``script(conn)`` in a thread.

    The connection has a ``timeout`` socket timeout and is shut down by ``stop()``, so a
    script blocked in ``recv`` ends promptly; scripts that want to "hang" should block in
    ``conn.recv`` rather than ``time.sleep``. Errors other than socket errors raised by the
    script are re-raised from ``stop()``.
    """
    listener = socket.create_server((HOST, 0))
    listener.settimeout(timeout)
    port = listener.getsockname()[1]
    state: dict[str, Any] = {"conn": None, "error": None}
    lock = threading.Lock()
    stopping = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            with lock:
                if stopping.is_set():
                    return
                state["conn"] = conn
            conn.settimeout(timeout)
            try:
                script(conn)
            except OSError:
                pass
            except Exception as error:  # noqa: BLE001 - handed to the test thread by stop()
                state["error"] = error
            with lock:
                state["conn"] = None

    thread = threading.Thread(target=serve, name=f"scripted-smtp-{port}", daemon=True)
    thread.start()

    def stop() -> None:
        with lock:
            stopping.set()
            conn = state["conn"]
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        # Closing a listening socket does not wake accept() on Linux; shutdown() does.
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout + 1)
        error = state["error"]
        if error is not None:
            state["error"] = None
            raise error

    return HOST, port, stop
