"""Byte counts in words, the same everywhere (decimal units, as mail providers state limits)."""

from __future__ import annotations

MB = 1_000_000


def megabytes(size: int) -> str:
    """``12.3 MB``: for comparing a message with a server's limit."""
    return f"{size / MB:.1f} MB"


def human_size(size: int) -> str:
    """1.2 MB, 340 KB, 12 bytes."""
    if size >= MB:
        return megabytes(size)
    if size >= 1_000:
        return f"{size / 1_000:.0f} KB"
    return f"{size} bytes"
