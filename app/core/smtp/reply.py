"""SMTP replies as plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class Reply:
    """One (possibly multi-line) server reply."""

    code: int
    lines: tuple[str, ...] = ()

    @classmethod
    def from_smtplib(cls, code: int, message: bytes | str) -> Reply:
        """Build from smtplib's ``(code, message)`` pair."""
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return cls(code, tuple(message.splitlines()) or ("",))

    @property
    def text(self) -> str:
        return " ".join(line.strip() for line in self.lines).strip()

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 status code, e.g. ``"5.7.9"`` from ``534-5.7.9 ...``."""
        for line in self.lines:
            match = _ENHANCED.match(line.strip())
            if match:
                return ".".join(match.groups())
        return None

    @property
    def is_positive(self) -> bool:
        return 200 <= self.code < 400

    @property
    def is_permanent(self) -> bool:
        return 500 <= self.code < 600

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()
