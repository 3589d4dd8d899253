"""`relaydesk mcp`: the agent tools served over the Model Context Protocol (stdio).

Built on the official ``mcp`` SDK's low-level server so the tools keep exactly the
JSON schemas of ``relaydesk tool schema``. Each call runs in a worker thread with
its own database connection and goes through :func:`app.core.agents.tool.call`: same
policy, same outbox, same audit (face ``tool``, ``via: mcp``).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, cast

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from app import __version__
from app.agents.mcp_transport import BoundedLines, answer_unreadable
from app.core import crash
from app.core.agents import tool
from app.core.agents.schema import TOOLS
from app.core.store import Store

FALLBACK_CALLER = "mcp"
_NOT_CALLER = re.compile(r"[^A-Za-z0-9._@:+/-]+")
_FAILED = ("rejected", "failed", "not_found")


def caller_from_client(name: str | None) -> str:
    """A caller id from the client's declared name ("Claude Desktop" → "Claude-Desktop")."""
    cleaned = _NOT_CALLER.sub("-", name or "").strip("-._@:+/")[:128]
    return cleaned or FALLBACK_CALLER


def _client_name(ctx: ServerRequestContext[Any]) -> str | None:
    params = ctx.session.client_params
    return params.client_info.name if params is not None else None


def _run_call(request: dict[str, Any], caller: str) -> dict[str, Any]:
    # The final guard of one MCP call: the session gets an error result, never silence.
    try:
        with Store.open() as store:
            return tool.call(store, request, caller=caller, via="mcp")
    except Exception as error:  # noqa: BLE001 - RelayError included (the store would not open)
        failure = crash.internal_error(error, face="tool", action="tool_call")
        if failure.code == "internal_error":
            crash.audit_failure(failure, face="tool", action="tool_call", detail={"via": "mcp"})
        return {"status": "failed", "message_id": None, "error": failure.to_dict()}


def build_server(caller: str | None = None) -> Server[Any]:
    """The MCP server; ``caller`` overrides the name the client declares."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=name, description=description, input_schema=schema)
                for name, (description, schema) in TOOLS.items()
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        who = caller or caller_from_client(_client_name(ctx))
        request = {"name": params.name, "arguments": params.arguments or {}}
        result = await anyio.to_thread.run_sync(_run_call, request, who)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(result, default=str))],
            structured_content=result,
            is_error=result.get("status") in _FAILED,
        )

    return Server(
        "relaydesk",
        version=__version__,
        instructions="Send email through the user's own accounts. Call list_accounts to see "
        "which accounts you may use, send_email (try dry_run first when unsure), and "
        "get_message_status with the message_id it returned.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def _serve(caller: str | None) -> None:
    server = build_server(caller)
    stdin = cast("anyio.AsyncFile[str]", BoundedLines(sys.stdin.buffer))
    async with stdio_server(stdin=stdin) as (read_stream, write_stream):
        to_server, from_transport = anyio.create_memory_object_stream[Any](0)
        async with anyio.create_task_group() as group:
            group.start_soon(answer_unreadable, read_stream, to_server, write_stream)
            await server.run(from_transport, write_stream, server.create_initialization_options())
            group.cancel_scope.cancel()


def serve(*, caller: str | None = None) -> int:
    """Serve until the client closes standard input; returns the exit code."""
    anyio.run(_serve, caller)
    return 0
