"""Caller quotas hold when calls race: ten at once against a quota of three send three."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.agent_helpers import add_account_cli
from tests.cli_runner import REPO, Cli
from tests.support.smtp_servers import RecordingHandler, RunningServer

QUOTA_MESSAGE = "the limit is 3. Nothing was queued."


def _arguments(n: int) -> dict[str, str]:
    return {"to": "bob@example.com", "subject": f"race {n}", "text": "x"}


def test_parallel_tool_calls_send_exactly_the_quota(cli: Cli, smtp_server) -> None:
    server: RunningServer = smtp_server(mode="starttls")
    add_account_cli(cli, server)
    assert cli("policy", "set", "race", "--account", "work", "--per-hour", "3").code == 0

    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "tool", "call", "--caller", "race"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli.env,
            cwd=REPO,
        )  # fmt: skip
        for _ in range(10)
    ]
    # Every process is started before any gets its call, so they really overlap.
    for n, process in enumerate(processes):
        assert process.stdin is not None
        process.stdin.write(json.dumps({"name": "send_email", "arguments": _arguments(n)}).encode())
        process.stdin.close()
    results = []
    for process in processes:
        assert process.stdout is not None and process.stderr is not None
        with process.stdout, process.stderr:
            stdout, stderr = process.stdout.read(), process.stderr.read()
        process.wait(timeout=120)
        results.append((process.returncode, json.loads(stdout), stderr.decode()))

    sent = [r for code, r, _ in results if code == 0 and r["status"] == "sent"]
    refused = [r for code, r, _ in results if code == 77]
    assert len(sent) == 3, results
    assert len(refused) == 7, results
    for result in refused:
        assert result["status"] == "rejected"
        assert result["error"]["code"] == "quota_exceeded"
        assert QUOTA_MESSAGE in result["error"]["message"]
    assert len(server.messages) == 3
    # A later call is still refused: the three sends are counted, the seven refusals not.
    again = cli("tool", "call", "--caller", "race", stdin=json.dumps(
        {"name": "send_email", "arguments": _arguments(11)}
    ))  # fmt: skip
    assert again.code == 77 and "sent 3 messages" in again.json["error"]["message"]


async def _ten_at_once(cli: Cli, errlog: Path) -> list[types.CallToolResult]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "app", "mcp", "--caller", "X"], env=cli.env, cwd=REPO
    )
    results: list[types.CallToolResult] = []
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()

                async def one(n: int) -> None:
                    results.append(await session.call_tool("send_email", _arguments(n)))

                async with anyio.create_task_group() as group:
                    for n in range(10):
                        group.start_soon(one, n)
    return results


def test_concurrent_mcp_calls_in_one_session_send_exactly_the_quota(
    cli: Cli, smtp_server, tmp_path: Path
) -> None:
    server: RunningServer = smtp_server(mode="starttls")
    add_account_cli(cli, server)
    assert cli("policy", "set", "X", "--per-hour", "3").code == 0

    results = anyio.run(_ten_at_once, cli, tmp_path / "mcp.log")

    statuses = sorted(r.structured_content["status"] for r in results if r.structured_content)
    assert statuses == ["rejected"] * 7 + ["sent"] * 3
    for result in results:
        if result.is_error:
            assert result.structured_content
            assert result.structured_content["error"]["code"] == "quota_exceeded"
    assert len(server.messages) == 3


class RefuseNobody(RecordingHandler):
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_message_the_server_refused_gives_its_slot_back(cli: Cli, smtp_server) -> None:
    server: RunningServer = smtp_server(mode="starttls", handler=RefuseNobody())
    add_account_cli(cli, server)
    assert cli("policy", "set", "one", "--per-hour", "1").code == 0
    refused = {"name": "send_email", "arguments": {"to": "nobody@example.com", "subject": "s"}}
    run = cli("tool", "call", "--caller", "one", stdin=json.dumps(refused))
    assert run.json["status"] == "failed", run.stdout  # every recipient refused: nothing sent
    ok = cli("tool", "call", "--caller", "one", stdin=json.dumps(
        {"name": "send_email", "arguments": _arguments(1)}
    ))  # fmt: skip
    assert ok.code == 0 and ok.json["status"] == "sent"
    again = cli("tool", "call", "--caller", "one", stdin=json.dumps(
        {"name": "send_email", "arguments": _arguments(2)}
    ))  # fmt: skip
    assert again.code == 77 and again.json["error"]["code"] == "quota_exceeded"
