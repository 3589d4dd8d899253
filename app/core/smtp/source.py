"""Message bytes to transmit, from memory or from a spool file, read in chunks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MessageSource:
    """The message as it will be transmitted (before dot-stuffing): bytes or a file."""

    size: int
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def of_bytes(cls, data: bytes) -> MessageSource:
        return cls(size=len(data), data=data)

    @classmethod
    def of_file(cls, path: Path) -> MessageSource:
        """A spool file; its size is taken now and must not change while it is sent."""
        return cls(size=os.stat(path).st_size, path=path)

    def ending(self) -> bytes:
        """CRLF when the message does not end with one (what DATA adds too), else nothing."""
        if self.size == 0:
            return b""
        if self.data is not None:
            tail = self.data[-2:]
        else:
            assert self.path is not None
            with open(self.path, "rb") as file:
                file.seek(max(0, self.size - 2))
                tail = file.read(2)
        return b"" if tail == b"\r\n" else b"\r\n"

    def read_all(self) -> bytes:
        """The whole message; only for small messages."""
        return b"".join(self.chunks(max(self.size, 1)))

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        """The message in pieces of ``chunk_size`` bytes (the last may be shorter)."""
        if self.data is not None:
            for start in range(0, self.size, chunk_size):
                yield self.data[start : start + chunk_size]
            return
        assert self.path is not None
        remaining = self.size
        with open(self.path, "rb") as file:
            while remaining > 0:
                chunk = file.read(min(chunk_size, remaining))
                if not chunk:
                    raise OSError(f"the spool file {self.path} is shorter than recorded")
                remaining -= len(chunk)
                yield chunk

    def pieces(self, chunk_size: int) -> Iterator[tuple[bytes, bool]]:
        """Like ``chunks`` but says which piece is the last; an empty message is one piece."""
        previous: bytes | None = None
        for chunk in self.chunks(chunk_size):
            if previous is not None:
                yield previous, False
            previous = chunk
        yield (previous if previous is not None else b""), True
