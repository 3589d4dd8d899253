"""Standard input for the MCP server with limits, and a reply to every unreadable message.

The SDK's stdio transport reads a line of any length and drops a line it cannot
parse without answering, so a client waits forever. Here a line longer than
:data:`MAX_TOOL_CALL_BYTES` is skipped unread (never held whole in memory), JSON
nested too deep is refused before it is parsed, and every refused or unparsable
line gets a JSON-RPC error reply carrying its id when one can be found.
"""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO

import anyio
import anyio.to_thread
import mcp_types as types
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.shared.message import SessionMessage

from app.core.errors import InvalidInput
from app.core.limits import MAX_JSON_DEPTH, MAX_TOOL_CALL_BYTES, check_json_depth

# The JSON-RPC envelope (params, arguments) adds a few levels around a tool call.
MAX_MESSAGE_DEPTH = MAX_JSON_DEPTH + 8
_MARK = "\x00relaydesk-refused "  # never valid JSON, so the SDK hands it back as an error
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")')
_BLOCK = 1 << 20
PARSE_ERROR, INVALID_REQUEST = -32700, -32600


def _request_id(head: str) -> int | str | None:
    match = _ID.search(head[:4000])
    if match is None:
        return None
    raw = match.group(1)
    return int(raw) if not raw.startswith('"') else raw[1:-1]


def _refused(reason: str, head: str) -> str:
    ident = _request_id(head)
    return f"{_MARK}{reason}\x00{json.dumps(ident)}\n"


class BoundedLines:
    """An async iterator of text lines from ``buffer``, each checked before parsing."""

    def __init__(self, buffer: BinaryIO, limit: int = MAX_TOOL_CALL_BYTES) -> None:
        self._buffer = buffer
        self._limit = limit

    def __aiter__(self) -> BoundedLines:
        return self

    async def __anext__(self) -> str:
        line = await anyio.to_thread.run_sync(self._read_line)
        if line is None:
            raise StopAsyncIteration
        return line

    def _read_line(self) -> str | None:
        data = self._buffer.readline(self._limit + 1)
        if not data:
            return None
        if len(data) > self._limit and not data.endswith(b"\n"):
            head = data[:4000].decode("utf-8", "replace")
            del data
            while (rest := self._buffer.readline(_BLOCK)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the oversized line without keeping it
            return _refused(f"The message is larger than {self._limit:,} bytes.", head)
        text = data.decode("utf-8", "replace")
        try:
            check_json_depth(text, "message", MAX_MESSAGE_DEPTH)
        except InvalidInput as error:
            return _refused(error.message, text)
        return text


def error_reply(error: Exception) -> SessionMessage:
    """The JSON-RPC error answering a line the transport could not turn into a message."""
    line = ""
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            found = errors()
            line = str(found[0].get("input", "")) if found else ""
        except Exception:  # noqa: BLE001 - only used to find the request id
            line = ""
    ident: int | str | None
    if line.startswith(_MARK):
        reason, _, raw = line[len(_MARK) :].rstrip("\n").partition("\x00")
        ident = _literal_id(raw)
        code, message = INVALID_REQUEST, f"Refused: {reason}"
    else:
        ident = _request_id(line)
        code, message = PARSE_ERROR, "Parse error: the message is not valid JSON-RPC."
    reply = types.JSONRPCError(
        jsonrpc="2.0", id=ident, error=types.ErrorData(code=code, message=message)
    )
    return SessionMessage(reply)


def _literal_id(raw: str) -> int | str | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, int | str) else None


async def answer_unreadable(
    incoming: ObjectReceiveStream[Any],
    to_server: ObjectSendStream[Any],
    outgoing: ObjectSendStream[Any],
) -> None:
    """Pass messages on to the server; answer each transport error on the client's side."""
    async with to_server:
        async for item in incoming:
            if isinstance(item, Exception):
                await outgoing.send(error_reply(item))
            else:
                await to_server.send(item)
