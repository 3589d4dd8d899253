"""Size and depth limits on what Relaydesk reads, checked before parsing or building.

Without them a 200 MB body in a tool call, or JSON nested a million levels deep,
costs gigabytes of memory or a RecursionError. The numbers are documented in
docs/agents.md and README.md; each error says which limit was hit.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from app.core.errors import InvalidInput, MessageTooLarge, UnreadableFile
from app.core.sizes import human_size

MAX_BODY_CHARS = 10_000_000  # the text or the HTML of one message, each
MAX_BODY_BYTES = 4 * MAX_BODY_CHARS  # a body read from a file or stdin, before decoding
MAX_TOOL_CALL_BYTES = 30_000_000  # one tool call's JSON (CLI stdin or one MCP message)
MAX_JSON_DEPTH = 32  # nesting of arrays/objects; a real call needs 4
_CHUNK = 1 << 20
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def read_limited(stream: BinaryIO, limit: int, what: str) -> bytes:
    """Read ``stream`` to its end, but never more than ``limit`` bytes into memory."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise MessageTooLarge(
                f"The {what} is larger than {human_size(limit)}, the most Relaydesk reads.",
                hint="Send a shorter text, or attach the content as a file.",
                details={"limit": limit},
            )


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 text, or UnreadableFile saying the input is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"The {what} is not UTF-8 text (byte {error.start} is invalid).",
            hint="Convert it first, e.g. with: iconv -f LATIN1 -t UTF-8",
        ) from None


def check_body(text: str | None, what: str) -> None:
    """MessageTooLarge when a message body is above :data:`MAX_BODY_CHARS`."""
    if text is not None and len(text) > MAX_BODY_CHARS:
        raise MessageTooLarge(
            f"The {what} is {len(text):,} characters; Relaydesk sends at most "
            f"{MAX_BODY_CHARS:,} characters of text per message.",
            hint="Shorten it, or attach the content as a file.",
            details={"limit": MAX_BODY_CHARS, "size": len(text)},
        )


def check_json_depth(text: str, what: str, limit: int = MAX_JSON_DEPTH) -> None:
    """InvalidInput when JSON ``text`` nests deeper than ``limit`` (checked before parsing)."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                raise _too_deep(what, limit)
        elif token in "]}":
            depth -= 1


def check_value(value: Any, what: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Check parsed JSON: not nested deeper than ``limit``, and every string valid Unicode.

    A lone surrogate (``"\\ud800"`` in JSON) cannot be stored or sent: refused here
    with the place it was found, instead of failing deep inside.
    """
    pending: list[tuple[Any, int, str]] = [(value, 0, "")]
    while pending:
        item, depth, where = pending.pop()
        if depth > limit:
            raise _too_deep(what, limit)
        if isinstance(item, dict):
            pending.extend((v, depth + 1, f"{where}/{_shown(k)}") for k, v in item.items())
            pending.extend((k, depth + 1, where or "/") for k in item if isinstance(k, str))
        elif isinstance(item, list):
            pending.extend((v, depth + 1, f"{where}/{i}") for i, v in enumerate(item))
        elif isinstance(item, str):
            check_unicode(item, f"{what} at {where or '(top level)'}")


def check_unicode(text: str, what: str) -> None:
    """InvalidInput for a string holding a lone surrogate (not encodable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidInput(
            f"The {what} is not valid Unicode text (a lone surrogate at character {error.start}).",
            hint="Send valid UTF-8 text; in JSON, a \\ud800-\\udfff escape must be one half "
            "of a pair.",
        ) from None


def _shown(key: object) -> str:
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")[:60]


def _too_deep(what: str, limit: int) -> InvalidInput:
    return InvalidInput(
        f"The {what} is nested more than {limit} levels deep.",
        hint="Send a plain call: an object of arguments holding strings and lists.",
        details={"limit": limit},
    )
