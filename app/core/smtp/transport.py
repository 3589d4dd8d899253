"""The socket under a session: TLS, timeouts, writes, reads into the parser, cancel.

Why our own transport and not ``smtplib.SMTP``: what a session needs is beyond
smtplib's documented API: writing a PIPELINING group or a ``BDAT`` chunk in one
write, reading several replies from one read, waking a blocked call from
another thread (cancel), telling a timeout from a reset (smtplib wraps both in
``SMTPServerDisconnected``), and a transcript that never holds an AUTH payload
(smtplib's debug output prints them). What is said is decided in ``protocol``,
``transaction`` and ``sasl``; this module only moves bytes.

smtplib is still used for what it documents: its exception classes
(``SMTPServerDisconnected`` when the server closes, caught by the diagnosis
catalogue, the probe and the trust check), and whole by the setup tests.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import smtplib
import socket
import ssl
import threading
from collections import deque
from collections.abc import Sequence

from app.core.smtp.protocol import ReplyParser, command
from app.core.smtp.reply import Reply
from app.core.smtp.transcript import Transcript

_READ_SIZE = 64 * 1024


class Transport:
    """One connection's socket (plain or TLS) and the replies read from it."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self._sock: socket.socket | None = None
        self._server_name = ""
        self._parser = ReplyParser()
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()  # the socket swap (TLS) against shutdown() from elsewhere
        self._shut = False  # shutdown() was called: no new socket either

    def connect(self, host: str, port: int, timeout: float) -> None:
        """Connect to each address of ``host`` in turn, like ``socket.create_connection``.

        Each socket is in place before its ``connect`` starts, so ``shutdown``
        from another thread wakes a connect that hangs (a full accept queue, a
        firewall that drops SYNs). The name lookup itself cannot be woken.
        """
        failure: OSError = OSError(f"no address for {host}")
        try:
            addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except UnicodeError as exc:  # IDNA: an empty label, or one over 63 characters
            raise socket.gaierror(socket.EAI_NONAME, f"{host!r} is not a host name") from exc
        for family, kind, proto, _, address in addresses:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(timeout)
            self.attach(sock, host)
            try:
                sock.connect(address)
                return
            except OSError as exc:
                failure = exc
                self.close()
                if self._shut:
                    break
        raise failure

    def attach(self, sock: socket.socket, host: str) -> None:
        """Use ``sock`` (connected or connecting) for the conversation with ``host``."""
        # A command group or a final dot must not wait for the ACK of the previous write.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._shut:
                sock.close()
                raise ConnectionAbortedError("the connection was shut down")
            self._sock, self._server_name = sock, host

    def start_tls(self, context: ssl.SSLContext) -> ssl.SSLSocket:
        """Wrap the socket (implicit TLS, or after a 220 to STARTTLS) and shake hands.

        Anything received in plaintext and not read yet is dropped (a
        STARTTLS command injection). The TLS socket is in place before the
        handshake, so ``shutdown`` from another thread can wake it.
        """
        sock = self._connected()
        self._parser, self._replies = ReplyParser(), deque()
        with self._lock:
            self._sock = tls_sock = context.wrap_socket(
                sock, server_hostname=self._server_name, do_handshake_on_connect=False
            )
        tls_sock.do_handshake()
        return tls_sock

    @property
    def connected(self) -> bool:
        return self._sock is not None

    @property
    def encrypted(self) -> bool:
        return isinstance(self._sock, ssl.SSLSocket)

    def local_name(self) -> str:
        """Our address as an EHLO argument: it says no more than the server already knows."""
        try:
            ip = ipaddress.ip_address(str(self._connected().getsockname()[0]).split("%")[0])
        except (OSError, ValueError):
            return "localhost"
        return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"

    def set_timeout(self, seconds: float) -> None:
        if self._sock is not None:
            self._sock.settimeout(seconds)

    def send(self, data: bytes, lines: Sequence[str] = ()) -> None:
        """Record ``lines`` (the transcript redacts AUTH) and write ``data`` in one write."""
        sock = self._connected()
        for line in lines:
            self.transcript.client(line)
        sock.sendall(data)

    def command(self, line: str, encoding: str = "ascii") -> Reply:
        """Send one command line and read its reply."""
        self.send(command(line, encoding), (line,))
        return self.read_reply()

    def read_reply(self) -> Reply:
        """The next reply: one read may bring several (pipelining), or part of one."""
        while not self._replies:
            self._receive(self._connected().recv(_READ_SIZE))
        return self._replies.popleft()

    def take_unsolicited(self) -> list[Reply]:
        """What the server sent while no reply was due, read without waiting for more.

        Only to be called with no command awaiting its reply. A reply cut short
        is waited for; the end of the connection raises like ``read_reply``.
        """
        sock = self._connected()
        timeout = sock.gettimeout()
        sock.settimeout(0)
        try:
            while True:
                try:
                    data = sock.recv(_READ_SIZE)
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    break  # nothing more now (TLS: maybe a record that held no data)
                if not data and self._replies:
                    break  # its last words (often a 421) say more than the end of the line
                self._receive(data)
        finally:
            sock.settimeout(timeout)
        while self._parser.pending:
            self._receive(sock.recv(_READ_SIZE))
        replies = list(self._replies)
        self._replies.clear()
        return replies

    def _receive(self, data: bytes) -> None:
        """Parse ``data`` into replies (and the transcript); empty data is the end."""
        if not data:
            raise smtplib.SMTPServerDisconnected("the server closed the connection")
        try:
            self._replies.extend(self._parser.feed(data))
        finally:
            for text in self._parser.lines:
                self.transcript.server(text)
            self._parser.lines.clear()

    def has_input(self) -> bool:
        """True when the server sent something nobody asked for (often: it closed)."""
        sock = self._sock
        if sock is None or self._replies or self._parser.pending:
            return True
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def shutdown(self) -> None:
        """From any thread: wake a blocked read, write or handshake; it then fails."""
        with self._lock:
            self._shut = True
            sock = self._sock
            if sock is None:
                return
            with contextlib.suppress(OSError):  # already closed: the other thread sees that
                # The base-class shutdown does not touch the SSL object the other thread uses.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def close(self) -> None:
        """Close the socket; idempotent."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _connected(self) -> socket.socket:
        if self._sock is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        return self._sock
