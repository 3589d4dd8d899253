"""Helpers for setup tests: accounts for test servers, a connector that maps guessed names
and well-known ports to loopback servers, fast timeouts, and servers that speak like providers."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from app.core.accounts.model import Account, PasswordMode, Security
from app.core.setup.probe import Prober
from app.core.smtp.session import Timeouts
from tests.support.smtp_servers import RecordingHandler, RunningServer

FAST = Timeouts(connect=1.0, greeting=1.0, command=5.0, final_reply=5.0)


def account_for(
    server: RunningServer | tuple[str, int],
    *,
    security: str = "starttls",
    username: str | None = "alice@example.test",
    email: str = "alice@example.test",
    preset: str | None = None,
    ca_file: str | None = None,
    **changes: Any,
) -> Account:
    """An account pointing at a test server (trusting its CA when it is a RunningServer)."""
    if isinstance(server, RunningServer):
        host, port = server.host, server.port
        ca_file = ca_file or str(server.ca_file)
    else:
        host, port = server
    return Account(
        name="work",
        email=email,
        host=host,
        port=port,
        security=Security(security),
        username=username,
        password_mode=PasswordMode.ASK if username else PasswordMode.NONE,
        ca_file=ca_file,
        preset=preset,
        **changes,
    )


def mapped(
    routes: dict[tuple[str, int], tuple[str, int]],
) -> Callable[[str, int, float], socket.socket]:
    """A connector that reaches only ``routes``; anything else is refused like a closed port."""

    def connect(host: str, port: int, timeout: float) -> socket.socket:
        if (host, port) not in routes:
            raise ConnectionRefusedError(111, "Connection refused")
        return socket.create_connection(routes[(host, port)], timeout=timeout)

    return connect


def prober_for(
    routes: dict[tuple[str, int], tuple[str, int]], ca_file: str | None = None, timeout: float = 1.0
) -> Prober:
    return Prober(connect=mapped(routes), cafile=ca_file, timeout=timeout)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def full_backlog() -> Iterator[int]:
    """A loopback port whose accept queue is full: new connections time out, as behind a
    firewall that drops packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    waiting = []
    try:
        for _ in range(3):
            client = socket.socket()
            client.settimeout(0.2)
            try:
                client.connect(("127.0.0.1", port))
            except TimeoutError:
                client.close()
                break
            waiting.append(client)
        yield port
    finally:
        for client in waiting:
            client.close()
        listener.close()


class ProviderAuth(RecordingHandler):
    """Refuses every login with the provider's exact reply."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        return AuthResult(success=False, handled=False, message=self.reply)

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        return AuthResult(success=False, handled=False, message=self.reply)


class RefuseSender(RecordingHandler):
    """Refuses MAIL FROM with the given reply."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return self.reply


class RefuseData(RecordingHandler):
    """Takes the whole message, then refuses it at the final dot with the given reply."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.reply
