"""A test server that offers PIPELINING and CHUNKING (really parses BDAT), and a latency proxy.

aiosmtpd reads commands one line at a time, so pipelined commands already work;
it neither advertises PIPELINING nor knows BDAT. ``FastSMTP`` adds both.
``use_fast_server(monkeypatch, ...)`` makes ``start_server`` (and so the
``smtp_server`` fixture) start this server instead of the plain one.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.smtp import MISSING

from tests.support import smtp_servers
from tests.support.smtp_servers import HOST, _Controller, _TestSMTP

_BDAT = re.compile(r"^(\d{1,12})(?:\s+(LAST))?$", re.IGNORECASE)


class FastSMTP(_TestSMTP):
    """aiosmtpd plus PIPELINING and CHUNKING (RFC 3030 BDAT, binary-safe, no dot-stuffing)."""

    extensions: tuple[str, ...] = ("PIPELINING", "CHUNKING")

    def __init__(self, handler: Any, *, extensions: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.extensions = extensions
        self.bdat_commands = 0

    async def push(self, status: str | bytes) -> None:
        if status in ("250 HELP", b"250 HELP"):
            for extension in self.extensions:
                await super().push(f"250-{extension}")
        await super().push(status)  # type: ignore[arg-type]

    async def smtp_BDAT(self, arg: str | None) -> None:
        match = _BDAT.match((arg or "").strip())
        if "CHUNKING" not in self.extensions or match is None:
            await self.push("501 5.5.4 Syntax: BDAT size [LAST]")
            return
        size, last = int(match.group(1)), match.group(2) is not None
        chunk = await self._reader.readexactly(size)  # always consumed: stay in step
        self.bdat_commands += 1
        envelope = self.envelope
        assert envelope is not None
        chunks: list[bytes] = envelope.__dict__.setdefault("bdat_chunks", [])
        failed = envelope.__dict__.get("bdat_failed")
        if not envelope.mail_from or not envelope.rcpt_tos:
            await self.push("554 5.5.1 No valid recipients")
            return
        if failed:
            await self.push("503 5.5.1 Transaction already failed")
            return
        chunks.append(chunk)
        limit = self.data_size_limit
        if limit and sum(len(c) for c in chunks) > limit:
            envelope.__dict__["bdat_failed"] = True
            chunks.clear()
            await self.push("552 5.3.4 Message too big")
            return
        if not last:
            await self.push(f"250 2.0.0 {size} octets received")
            return
        content = b"".join(chunks)
        chunks.clear()
        envelope.original_content = content
        envelope.content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)


class FastController(_Controller):
    """The test controller, serving ``FastSMTP``."""

    extensions: tuple[str, ...] = FastSMTP.extensions

    def factory(self) -> FastSMTP:
        protocol = FastSMTP(
            self.handler,
            offer_auth=self._offer_auth,
            extensions=self.extensions,
            **self.SMTP_kwargs,
        )
        self.protocols.append(protocol)
        return protocol


def fast_controller(extensions: tuple[str, ...]) -> type[FastController]:
    """A controller class whose servers offer ``extensions``."""
    return type("FastController", (FastController,), {"extensions": extensions})


def use_fast_server(
    monkeypatch: pytest.MonkeyPatch, extensions: tuple[str, ...] = FastSMTP.extensions
) -> None:
    """From now on ``start_server`` starts servers offering ``extensions``."""
    monkeypatch.setattr(smtp_servers, "_Controller", fast_controller(extensions))


# -- latency proxy --------------------------------------------------------------------------


@dataclass
class ProxyStats:
    """What the proxy saw: bytes each way and how often the client waited for the server."""

    connections: int = 0
    client_bytes: int = 0
    server_bytes: int = 0
    turns: int = 0  # client writes that followed a server reply: one round trip each
    _last: str = field(default="", repr=False)


class LatencyProxy:
    """Forwards 127.0.0.1:port to ``target``, holding every piece ``delay`` seconds each way."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target = target
        self.delay = delay
        self.stats = ProxyStats()
        self._lock = threading.Lock()
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._closed = False
        self._start(self._accept_loop)

    def _start(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target, timeout=10)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
                self._sockets.append(sock)
            with self._lock:
                self.stats.connections += 1
                self.stats._last = ""
            self._pipe(client, server, "client")
            self._pipe(server, client, "server")

    def _pipe(self, source: socket.socket, sink: socket.socket, side: str) -> None:
        queue: deque[tuple[float, bytes]] = deque()
        ready = threading.Condition()

        def read() -> None:
            while True:
                try:
                    data = source.recv(1 << 20)
                except OSError:
                    data = b""
                self._count(side, data)
                with ready:
                    queue.append((time.monotonic() + self.delay, data))
                    ready.notify()
                if not data:
                    return

        def write() -> None:
            while True:
                with ready:
                    while not queue:
                        ready.wait()
                    due, data = queue.popleft()
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    if not data:
                        sink.shutdown(socket.SHUT_WR)
                        return
                    sink.sendall(data)
                except OSError:
                    return

        self._start(read)
        self._start(write)

    def _count(self, side: str, data: bytes) -> None:
        with self._lock:
            if side == "client":
                self.stats.client_bytes += len(data)
                if data and self.stats._last == "server":
                    self.stats.turns += 1
            else:
                self.stats.server_bytes += len(data)
            if data:
                self.stats._last = side

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = ProxyStats(connections=self.stats.connections)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(2)


@contextlib.contextmanager
def latency_proxy(target: tuple[str, int], delay: float) -> Iterator[LatencyProxy]:
    proxy = LatencyProxy(target, delay)
    try:
        yield proxy
    finally:
        proxy.close()
