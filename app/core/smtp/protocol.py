"""SMTP on the wire, without the wire: commands to bytes, bytes to replies.

In the spirit of h11: nothing here opens a socket, reads a file or waits. The
transport feeds received bytes to a ``ReplyParser`` and writes the bytes these
functions return; so every rule about the wire format is tested with byte
fixtures (tests/test_smtp_protocol.py). The transaction (MAIL, RCPT, DATA or
BDAT) is planned in ``transaction``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.core.smtp.reply import Reply

MAX_LINE = 8192  # bytes in one reply line, CRLF included; longer is not SMTP (and not memory)


class ProtocolViolation(OSError):
    """The peer sent something that is not an SMTP reply.

    An ``OSError`` like every other way a connection can fail, so code that
    handles a broken connection handles this too.
    """


def command(line: str, encoding: str = "ascii") -> bytes:
    """One command line as bytes; a CR or LF inside it would smuggle a second command."""
    if "\r" in line or "\n" in line:
        raise ValueError("an SMTP command must be one line")
    return line.encode(encoding) + b"\r\n"


def commands(lines: Iterable[str], encoding: str = "ascii") -> bytes:
    """Several command lines in one write (a PIPELINING group)."""
    return b"".join(command(line, encoding) for line in lines)


def bdat_line(size: int, *, last: bool) -> str:
    """The ``BDAT`` command line for a chunk of ``size`` bytes (RFC 3030)."""
    return f"BDAT {size} LAST" if last else f"BDAT {size}"


class DotStuffer:
    """DATA transparency (RFC 5321 §4.5.2) for a message that arrives in pieces.

    A line that starts with a dot gets a second one, wherever the pieces were
    cut; ``end`` adds the CRLF a message without one needs before the final dot.
    """

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


class ReplyParser:
    """Reply bytes in, complete replies out; bytes may be cut anywhere.

    Several replies in one read (pipelining) come out together, in order.
    ``lines`` collects each complete line as received, for the transcript.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._code: int | None = None
        self._texts: list[str] = []
        self.lines: list[str] = []

    @property
    def pending(self) -> bool:
        """True while part of a reply has arrived but not all of it."""
        return bool(self._buffer) or self._code is not None

    def feed(self, data: bytes) -> list[Reply]:
        """The replies completed by ``data``; raises ProtocolViolation for what is not SMTP."""
        self._buffer += data
        replies: list[Reply] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    raise ProtocolViolation("reply line too long")
                return replies
            if end + 1 > MAX_LINE:
                raise ProtocolViolation("reply line too long")
            raw, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
            reply = self._line(raw.removesuffix(b"\r"))
            if reply is not None:
                replies.append(reply)

    def _line(self, line: bytes) -> Reply | None:
        self.lines.append(line.decode("utf-8", "replace"))
        code, separator = line[:3], line[3:4]
        if not (len(code) == 3 and code.isdigit() and separator in (b"", b" ", b"-")):
            raise ProtocolViolation(f"not an SMTP reply: {line[:40]!r}")
        self._code = int(code)  # the last line's code counts, as in smtplib
        self._texts.append(line[4:].strip().decode("utf-8", "replace"))
        if separator == b"-":
            return None
        reply = Reply(self._code, tuple(self._texts))
        self._code, self._texts = None, []
        return reply


@dataclass(frozen=True)
class Capabilities:
    """What an EHLO reply offers (RFC 5321 §4.1.1.1); keywords are case-insensitive."""

    keywords: frozenset[str] = frozenset()  # every keyword, upper case
    max_size: int | None = None  # SIZE's limit in bytes; None when none is given
    auth: tuple[str, ...] = ()  # AUTH mechanisms, upper case, in the server's order

    @classmethod
    def from_reply(cls, reply: Reply) -> Capabilities:
        """Parse a 250 EHLO reply (its first line is the server's name); HELO offers nothing."""
        keywords: set[str] = set()
        max_size: int | None = None
        auth: list[str] = []
        for text in reply.lines[1:]:
            keyword, _, params = text.partition(" ")
            if keyword.upper().startswith("AUTH="):  # an old form some servers still send
                keyword, params = "AUTH", keyword[5:] + " " + params
            keyword = keyword.upper()
            if not keyword:
                continue
            keywords.add(keyword)
            if keyword == "SIZE" and params.strip().isdigit() and int(params) > 0:
                max_size = int(params)
            if keyword == "AUTH":
                for mechanism in params.upper().split():
                    if mechanism not in auth:
                        auth.append(mechanism)
        return cls(frozenset(keywords), max_size, tuple(auth))

    def offers(self, keyword: str) -> bool:
        """True when the server named ``keyword`` (any case)."""
        return keyword.upper() in self.keywords

    @property
    def size(self) -> bool:
        """SIZE is offered (MAIL FROM then declares the message size)."""
        return self.offers("SIZE")

    @property
    def pipelining(self) -> bool:
        return self.offers("PIPELINING")

    @property
    def chunking(self) -> bool:
        return self.offers("CHUNKING")

    @property
    def smtputf8(self) -> bool:
        return self.offers("SMTPUTF8")

    @property
    def eightbitmime(self) -> bool:
        return self.offers("8BITMIME")

    @property
    def starttls(self) -> bool:
        return self.offers("STARTTLS")
