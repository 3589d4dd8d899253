"""A redacted, timestamped record of one SMTP conversation.

Pure: no sockets. The session feeds it every line it sends and receives; the
transcript redacts AUTH payloads itself, so a caller cannot forget to.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

REDACTED = "<redacted>"

Direction = Literal["C", "S", "*"]

# "AUTH PLAIN <initial response>": keep the verb and the mechanism, hide the rest.
_AUTH_COMMAND = re.compile(r"^(AUTH[ \t]+\S+)(?:[ \t]+\S.*)?$", re.IGNORECASE | re.DOTALL)


def redact(line: str, *, in_auth: bool) -> str:
    """Hide credentials in one client line.

    ``in_auth`` is True while an AUTH exchange is in progress (the server
    answered 334): every client line then is a credential and is hidden whole.
    """
    match = _AUTH_COMMAND.match(line)
    if match:
        return (
            match.group(1) if match.group(0) == match.group(1) else f"{match.group(1)} {REDACTED}"
        )
    if in_auth:
        return REDACTED
    return line


@dataclass(frozen=True)
class TranscriptLine:
    """One line of the conversation, already redacted."""

    at: float  # time.time()
    direction: Direction  # C client, S server, * note
    text: str

    def render(self) -> str:
        """``15:04:05.123 C: EHLO host`` in local time."""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at))
        millis = int(self.at * 1000) % 1000
        if self.direction == "*":
            return f"{stamp}.{millis:03d} * {self.text}"
        return f"{stamp}.{millis:03d} {self.direction}: {self.text}"


class Transcript:
    """Collects lines and streams each one to ``on_line`` as it happens."""

    def __init__(self, on_line: Callable[[TranscriptLine], None] | None = None) -> None:
        self.lines: list[TranscriptLine] = []
        self._on_line = on_line
        self._in_auth = False

    def client(self, text: str) -> None:
        """Record a command the client sent (redacted here)."""
        if _AUTH_COMMAND.match(text):
            self._in_auth = True
        self._add("C", redact(text, in_auth=self._in_auth))

    def server(self, text: str) -> None:
        """Record one reply line; a final line other than 334 ends an AUTH exchange."""
        is_last_line = text[3:4] != "-"
        if is_last_line and not text.startswith("334"):
            self._in_auth = False
        self._add("S", text)

    def note(self, text: str) -> None:
        """Record something that is not a protocol line (TLS, data size, timing)."""
        self._add("*", text)

    def render(self) -> str:
        """The whole transcript, one line per entry."""
        return "\n".join(line.render() for line in self.lines)

    def _add(self, direction: Direction, text: str) -> None:
        line = TranscriptLine(time.time(), direction, text)
        self.lines.append(line)
        if self._on_line is not None:
            self._on_line(line)
