"""The smtplib layer: a client that records every line and keeps socket errors intact.

smtplib wraps socket errors in ``SMTPServerDisconnected`` and prints AUTH
payloads in debug mode; this subclass does neither, so the diagnosis can tell a
timeout from a reset and the transcript stays free of secrets.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import select
import smtplib
import socket
import ssl
import threading
from base64 import b64encode
from collections.abc import Sequence
from typing import Any

from app.core.smtp import sasl
from app.core.smtp.reply import Reply
from app.core.smtp.transcript import Transcript

_MAX_LINE = 8192
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class SmtpClient(smtplib.SMTP):
    """An ``smtplib.SMTP`` that talks over a socket the session opened itself."""

    def __init__(self, transcript: Transcript) -> None:
        # A literal local name: smtplib would otherwise ask DNS for our FQDN.
        super().__init__(local_hostname="localhost")
        self.transcript = transcript
        self.ehlo_msg = "EHLO"  # smtplib says "ehlo"; upper case reads better in transcripts

    def attach(self, sock: socket.socket, host: str) -> None:
        """Use ``sock`` (already connected, maybe TLS) for the conversation with ``host``."""
        self.sock = sock
        self.file = None
        self._host = host
        self.local_hostname = _address_literal(sock.getsockname()[0])
        # A command group or a final dot must not wait for the ACK of the previous write.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def set_timeout(self, seconds: float) -> None:
        if self.sock is not None:
            self.sock.settimeout(seconds)

    def send(self, s: bytes | str) -> None:  # type: ignore[override]
        """Write to the socket; socket errors propagate as they are."""
        if self.sock is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        self.sock.sendall(s.encode(self.command_encoding) if isinstance(s, str) else s)

    def putcmd(self, cmd: str, args: str = "") -> None:
        """Send one command line and record it (the transcript redacts AUTH)."""
        line = f"{cmd} {args}" if args else cmd
        if "\r" in line or "\n" in line:
            raise ValueError("an SMTP command must be one line")
        self.transcript.client(line)
        self.send(f"{line}\r\n")

    def send_lines(self, lines: Sequence[str], tail: bytes = b"") -> None:
        """Write several command lines, then ``tail``, in one write (a PIPELINING group)."""
        for line in lines:
            if "\r" in line or "\n" in line:
                raise ValueError("an SMTP command must be one line")
        for line in lines:
            self.transcript.client(line)
        self.send("".join(f"{line}\r\n" for line in lines).encode(self.command_encoding) + tail)

    def bdat(self, chunk: bytes, *, last: bool) -> None:
        """``BDAT n [LAST]`` and the chunk itself, in one write; the chunk is not recorded."""
        self.send_lines([f"BDAT {len(chunk)} LAST" if last else f"BDAT {len(chunk)}"], chunk)

    def has_input(self) -> bool:
        """True when the server sent something nobody asked for (often: it closed)."""
        if self.sock is None:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def getreply(self) -> tuple[int, bytes]:
        """Read one (multi-line) reply and record each line."""
        if self.sock is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        if self.file is None:
            self.file = self.sock.makefile("rb")
        code, texts = -1, []
        while True:
            raw: bytes = self.file.readline(_MAX_LINE + 1)
            if not raw:
                raise smtplib.SMTPServerDisconnected("the server closed the connection")
            if len(raw) > _MAX_LINE:
                raise smtplib.SMTPResponseException(-1, b"reply line too long")
            line = raw.rstrip(b"\r\n")
            self.transcript.server(line.decode("utf-8", "replace"))
            texts.append(line[4:].strip())
            try:
                code = int(line[:3])
            except ValueError:
                raise smtplib.SMTPResponseException(-1, b"not an SMTP reply") from None
            if line[3:4] != b"-":
                return code, b"\n".join(texts)

    def command(self, cmd: str, args: str = "") -> Reply:
        """Send a command and return the reply as a value."""
        self.putcmd(cmd, args)
        return self.read_reply()

    def read_reply(self) -> Reply:
        return Reply.from_smtplib(*self.getreply())

    def authenticate(self, mechanism: str, username: str, password: str) -> Reply:
        """AUTH PLAIN or LOGIN with UTF-8 credentials; the transcript hides them."""
        if mechanism == "PLAIN":
            reply = self.command("AUTH", "PLAIN " + _b64(f"\0{username}\0{password}"))
            if reply.code == 334:  # the initial response was not taken: give up cleanly
                reply = self.command("*")
            return reply
        reply = self.command("AUTH", "LOGIN")
        for secret in (username, password):
            if reply.code == 334:
                reply = self.command(_b64(secret))
        return reply

    def authenticate_bearer(self, mechanism: str, response: str) -> tuple[Reply, dict[str, Any]]:
        """AUTH XOAUTH2 / OAUTHBEARER; a 334 error challenge is answered, never left hanging.

        Returns the final reply and the decoded JSON error of the challenge ({} if none).
        """
        reply = self.command("AUTH", f"{mechanism} {response}")
        challenge: dict[str, Any] = {}
        if reply.code == 334:
            challenge = sasl.decode_error_challenge(reply.text)
            reply = self.command(sasl.abort_response(mechanism))
        return reply, challenge

    def start_tls(self, context: ssl.SSLContext, lock: threading.Lock) -> ssl.SSLSocket:
        """Wrap the socket after a 220 to STARTTLS; forget everything said before.

        The TLS socket is in place (under ``lock``) before the handshake, so a
        cancel from another thread can wake the handshake.
        """
        if self.sock is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        if self.file is not None:
            self.file.close()  # drop anything buffered in plaintext (injection)
        self.file = None
        with lock:
            self.sock = tls_sock = context.wrap_socket(
                self.sock, server_hostname=self._host, do_handshake_on_connect=False
            )
        tls_sock.do_handshake()
        self.helo_resp = self.ehlo_resp = None
        self.esmtp_features = {}
        self.does_esmtp = False
        return tls_sock


def dot_stuff(data: bytes) -> bytes:
    """Double a leading dot on every line and make sure the data ends with CRLF."""
    wire = _LEADING_DOT.sub(b"..", data)
    if wire and not wire.endswith(b"\r\n"):
        wire += b"\r\n"
    return wire


class DotStuffer:
    """``dot_stuff`` for data that arrives in pieces: same bytes, piece by piece."""

    def __init__(self) -> None:
        self._at_line_start = True
        self._tail = b""

    def feed(self, piece: bytes) -> bytes:
        """The wire form of the next piece."""
        if not piece:
            return b""
        wire = piece.replace(b"\n.", b"\n..")
        if self._at_line_start and wire.startswith(b"."):
            wire = b"." + wire
        self._at_line_start = piece.endswith(b"\n")
        self._tail = (self._tail + piece)[-2:]
        return wire

    def end(self) -> bytes:
        """What must follow the last piece so the data ends with CRLF."""
        return b"\r\n" if self._tail and self._tail != b"\r\n" else b""


def _b64(text: str) -> str:
    # UTF-8 ourselves: smtplib.login() encodes ASCII only (CPython issue 73936).
    return b64encode(text.encode("utf-8")).decode("ascii")


def _address_literal(address: str) -> str:
    """Our own address as an EHLO argument; it says no more than the server already knows."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return "localhost"
    return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"
