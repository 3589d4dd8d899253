"""Size and depth limits: huge or deeply nested input is refused unread, on every face."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from app.core.limits import MAX_BODY_CHARS
from tests.agent_helpers import add_account_cli
from tests.cli_runner import REPO, Cli
from tests.support.smtp_servers import RunningServer

MB = 1 << 20


@pytest.fixture
def server(smtp_server) -> RunningServer:
    return smtp_server(mode="starttls")


def _feed(stream: IO[bytes], head: bytes, megabytes: int, tail: bytes) -> threading.Thread:
    def write() -> None:
        try:
            stream.write(head)
            block = b"x" * MB
            for _ in range(megabytes):
                stream.write(block)
            stream.write(tail)
            stream.close()
        except BrokenPipeError:
            pass  # Relaydesk stopped reading at its limit: that is the point
        finally:
            with contextlib.suppress(BrokenPipeError):
                stream.close()

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def _run_fed(cli: Cli, args: list[str], head: bytes, megabytes: int, tail: bytes) -> Any:
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli.env, cwd=REPO,
    )  # fmt: skip
    assert process.stdin and process.stdout and process.stderr
    peaks: list[int] = []
    watcher = threading.Thread(target=_watch_peak, args=(process, peaks))
    watcher.start()
    writer = _feed(process.stdin, head, megabytes, tail)
    with process.stdout, process.stderr:
        stdout, stderr = process.stdout.read(), process.stderr.read()
    process.wait(timeout=120)
    writer.join()
    watcher.join()
    return process.returncode, stdout.decode(), stderr.decode(), max(peaks, default=0)


def _watch_peak(process: subprocess.Popen[bytes], peaks: list[int]) -> None:
    """The child's own high-water mark (VmHWM), read until it exits.

    Not ru_maxrss: that also counts the test process's pages the child shared
    between fork and exec.
    """
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            text = status.read_text()
        except OSError:
            break
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) * 1024)
        time.sleep(0.02)


def test_a_200_mb_dry_run_tool_call_is_refused_without_building_it(
    cli: Cli, server: RunningServer
) -> None:
    add_account_cli(cli, server)
    head = b'{"name": "send_email", "arguments": {"to": "bob@example.com", "subject": "big",'
    head += b' "dry_run": true, "text": "'
    code, stdout, stderr, peak = _run_fed(cli, ["tool", "call"], head, 200, b'"}}')

    assert code == 65, stderr
    result = json.loads(stdout)
    assert result["status"] == "rejected" and result["error"]["code"] == "message_too_large"
    assert "larger than 30,000,000 bytes" in result["error"]["message"]
    assert "Traceback" not in stderr
    # Today's main builds it: 2.2 GB. Refused unread, the process stays small.
    assert peak < 150 * MB, f"peak memory {peak / MB:.0f} MB"
    [row] = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "tool_call"]
    assert row["outcome"] == "rejected" and row["detail"]["error"] == "message_too_large"


def test_text_file_from_stdin_has_a_cap(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    args = ["send", "--to", "bob@example.com", "--subject", "s", "--text-file", "-"]
    code, _, stderr, peak = _run_fed(cli, args, b"", 60, b"")
    assert code == 65
    assert "The text on standard input is larger than 40.0 MB" in stderr
    assert "Traceback" not in stderr and peak < 150 * MB
    assert server.messages == []


def test_a_body_above_the_limit_is_refused_by_name(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    call = {"name": "send_email", "arguments": {
        "to": "bob@example.com", "subject": "s", "dry_run": True, "text": "y" * (MAX_BODY_CHARS + 1)
    }}  # fmt: skip
    run = cli("tool", "call", stdin=json.dumps(call))
    assert run.code == 65 and run.json["error"]["code"] == "message_too_large"
    assert "10,000,000 characters" in run.json["error"]["message"]


def test_deeply_nested_tool_call_is_a_clean_error(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    deep = '{"name": "send_email", "arguments": {"to": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    run = cli("tool", "call", "--caller", "deep", stdin=deep)
    assert run.code == 65, run.stderr
    assert "nested more than 32 levels" in run.json["error"]["message"]
    assert "Traceback" not in run.stderr
    # As a JSON string inside arguments, too.
    inner = json.dumps({"name": "send_email", "arguments": "[" * 5000 + "]" * 5000})
    assert cli("tool", "call", stdin=inner).code == 65
    rows = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "tool_call"]
    assert [r["outcome"] for r in rows] == ["rejected", "rejected"]


def _raw_session(cli: Cli, lines: list[bytes]) -> list[dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "mcp", "--caller", "raw"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=cli.env, cwd=REPO,
    )  # fmt: skip
    assert process.stdin and process.stdout
    replies = []
    try:
        for line in lines:
            process.stdin.write(line + b"\n")
            process.stdin.flush()
            if b"notifications/" not in line:
                replies.append(json.loads(process.stdout.readline()))
    finally:
        process.stdin.close()
        process.stdout.close()
        assert process.stderr
        process.stderr.close()
        process.wait(timeout=30)
    return replies


def _request(ident: int, method: str, params: str) -> bytes:
    return f'{{"jsonrpc": "2.0", "id": {ident}, "method": "{method}", "params": {params}}}'.encode()


def test_raw_mcp_gets_a_reply_to_every_bad_message(cli: Cli) -> None:
    init = '{"protocolVersion": "2025-06-18", "capabilities": {}, '
    init += '"clientInfo": {"name": "raw", "version": "1"}}'
    nested = '{"name": "send_email", "arguments": {"to": ' + "[" * 50_000 + "]" * 50_000 + "}}"
    huge = '{"name": "send_email", "arguments": {"text": "' + "x" * (31 * MB) + '"}}'
    lines = [
        _request(1, "initialize", init),
        b'{"jsonrpc": "2.0", "method": "notifications/initialized"}',
        _request(2, "tools/call", nested),
        _request(3, "tools/call", huge),
        b"{not json",
        _request(4, "tools/list", "{}"),
    ]
    replies = _raw_session(cli, lines)

    assert [r.get("id") for r in replies] == [1, 2, 3, None, 4]
    assert "nested more than" in replies[1]["error"]["message"]
    assert "larger than 30,000,000 bytes" in replies[2]["error"]["message"]
    assert replies[3]["error"]["code"] == -32700
    # The session survived all of it.
    assert {t["name"] for t in replies[4]["result"]["tools"]} >= {"send_email"}


def test_sendmail_stops_reading_an_endless_line_at_its_cap(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    code, _, stderr, peak = _run_fed(cli, ["sendmail", "bob@example.com"], b"", 300, b"")
    assert code == 65 and "larger than 100 MB" in stderr
    # The 100 MB read (and its copy) at most: never the whole 300 MB line.
    assert peak < 280 * MB, f"peak memory {peak / MB:.0f} MB"
    assert server.messages == []
