"""`relaydesk mcp` driven by the official SDK's own client over stdio."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client

from app.agents.mcp_server import caller_from_client
from tests.agent_helpers import add_account_cli, assert_no_password
from tests.cli_runner import REPO, Cli
from tests.support.smtp_servers import RunningServer


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None
    [text] = result.content
    assert isinstance(text, types.TextContent)
    assert json.loads(text.text) == result.structured_content
    return result.structured_content


async def session_run(cli: Cli, errlog: Path, *extra: str, client: str = "test-agent") -> dict:
    """Start `python -m app mcp`, list tools, call each one; return what came back."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "app", "mcp", *extra], env=cli.env, cwd=REPO
    )
    seen: dict[str, Any] = {}
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as (read, write):
            info = types.Implementation(name=client, version="1.0")
            async with ClientSession(read, write, client_info=info) as session:
                await session.initialize()
                listed = await session.list_tools()
                seen["tools"] = {tool.name: tool for tool in listed.tools}
                accounts = await session.call_tool("list_accounts", {})
                seen["accounts"] = structured(accounts)
                sent = await session.call_tool(
                    "send_email",
                    {"to": "bob@example.com", "subject": "Via MCP", "text": "Hello from MCP"},
                )
                seen["sent"], seen["sent_error"] = structured(sent), sent.is_error
                if seen["sent"].get("message_id"):
                    status = await session.call_tool(
                        "get_message_status", {"message_id": seen["sent"]["message_id"]}
                    )
                    seen["status"] = structured(status)
                refused = await session.call_tool(
                    "send_email", {"to": "x@evil.example", "subject": "nope"}
                )
                seen["refused"], seen["refused_error"] = structured(refused), refused.is_error
    return seen


def test_mcp_client_lists_and_calls_the_tools(cli: Cli, smtp_server, tmp_path: Path) -> None:
    server: RunningServer = smtp_server(mode="starttls")
    add_account_cli(cli, server)
    assert cli("policy", "set", "test-agent", "--allow-recipient", "example.com").code == 0

    seen = anyio.run(session_run, cli, tmp_path / "mcp.log")

    assert set(seen["tools"]) == {
        "send_email",
        "send_merge",
        "list_accounts",
        "get_message_status",
    }
    schema = seen["tools"]["send_email"].input_schema
    assert schema == cli("tool", "schema", "--parameters").json
    assert seen["accounts"]["accounts"] == [
        {"name": "work", "email": "alice@example.com", "default": True}
    ]
    assert seen["sent"]["status"] == "sent" and not seen["sent_error"]
    [received] = server.messages
    assert received.rcpt_tos == ["bob@example.com"] and b"Hello from MCP" in received.data
    assert seen["status"]["state"] == "sent"
    assert seen["status"]["recipients"][0]["status"] == "accepted"
    # The client declared itself "test-agent": that caller's policy applied.
    assert seen["refused"]["status"] == "rejected" and seen["refused_error"]
    assert seen["refused"]["error"]["code"] == "recipient_not_allowed"

    rows = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "tool_call"]
    assert len(rows) == 4
    assert {(r["face"], r["detail"]["caller"], r["detail"]["via"]) for r in rows} == {
        ("tool", "test-agent", "mcp")
    }
    assert_no_password(Path(cli.env["RELAYDESK_HOME"]), json.dumps(seen, default=str))


def test_caller_flag_overrides_the_declared_name(cli: Cli, smtp_server, tmp_path: Path) -> None:
    server: RunningServer = smtp_server(mode="starttls")
    add_account_cli(cli, server)
    assert cli("policy", "set", "locked", "--allow-recipient", "nobody@example.org").code == 0
    seen = anyio.run(session_run, cli, tmp_path / "mcp.log", "--caller", "locked")
    assert seen["sent"]["status"] == "rejected" and seen["sent_error"]
    assert server.messages == []
    rows = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "tool_call"]
    assert {r["detail"]["caller"] for r in rows} == {"locked"}


def test_declared_names_become_caller_ids() -> None:
    assert caller_from_client("Claude Desktop") == "Claude-Desktop"
    assert caller_from_client("") == "mcp" and caller_from_client(None) == "mcp"
    assert caller_from_client("../../etc") == "etc"
