"""The send_merge tool: an agent's run is held to its caller policy as a whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import Cli
from tests.support.fast_server import use_fast_server


def call(cli: Cli, arguments: dict[str, Any], caller: str = "bot") -> Any:
    return cli("merge-call", "--caller", caller, stdin=json.dumps(arguments))


def rows(*addresses: str) -> list[dict[str, str]]:
    return [{"email": a, "name": a.split("@")[0].title()} for a in addresses]


def test_send_merge_within_policy(
    cli: Cli, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING",))
    server = smtp_server(mode="plain", users=None)
    assert (
        cli(
            "account",
            "add",
            "relay",
            "--email",
            "me@example.com",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--security",
            "none",
        ).code
        == 0
    )
    assert (
        cli("policy", "set", "bot", "--allow-recipient", "example.com", "--per-hour", "3").code == 0
    )
    base = {"subject": "Hi {{name}}", "text": "Hello {{name|there}}"}

    outside = call(cli, {**base, "rows": rows("ann@example.com", "eve@elsewhere.org")})
    assert outside.code == 77, outside.stdout  # a policy refusal, as send_email gives
    assert outside.json["error"]["code"] == "recipient_not_allowed"
    assert "eve@elsewhere.org" in outside.json["error"]["message"]

    too_many = call(cli, {**base, "rows": rows(*(f"u{n}@example.com" for n in range(4)))})
    assert too_many.json["error"]["code"] == "quota_exceeded"
    assert too_many.code == 77 and "may send only 3 more" in too_many.json["error"]["message"]

    broken = call(cli, {**base, "rows": [{"email": "not an address", "name": "X"}]})
    assert broken.code == 65 and broken.json["problems"][0]["row"] == 1

    assert server.messages == []  # nothing of the refused runs was queued or sent
    ok = call(cli, {**base, "rows": rows("ann@example.com", "bob@example.com")})
    assert ok.code == 0, ok.stdout
    assert ok.json["status"] == "sent" and ok.json["sent"] == 2
    assert sorted(m.rcpt_tos[0] for m in server.messages) == ["ann@example.com", "bob@example.com"]
    # The two count against the quota: one more fits, two do not.
    again = call(cli, {**base, "rows": rows("c@example.com", "d@example.com")})
    assert again.code == 77 and "may send only 1 more" in again.json["error"]["message"]
    bad_json = cli("merge-call", "--caller", "bot", stdin="{nope")
    assert bad_json.code == 64 and bad_json.json["error"]["message"].startswith("The call is not")


def test_two_runs_at_once_never_pass_the_quota_together(
    cli: Cli, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    from tests.cli_runner import REPO

    use_fast_server(monkeypatch, ("PIPELINING",))
    server = smtp_server(mode="plain", users=None)
    assert (
        cli(
            "account",
            "add",
            "relay",
            "--email",
            "me@example.com",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--security",
            "none",
        ).code
        == 0
    )
    assert cli("policy", "set", "bot", "--per-hour", "3").code == 0
    calls = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "merge-call", "--caller", "bot"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=cli.env,
            cwd=REPO,
            text=True,
        )
        for _ in range(3)
    ]
    for n, call_ in enumerate(calls):  # all three read their call, then race
        assert call_.stdin is not None
        rows_ = rows(f"a{n}@example.com", f"b{n}@example.com")
        call_.stdin.write(json.dumps({"subject": "Hi", "text": "Hello", "rows": rows_}))
        call_.stdin.close()
    for call_ in calls:
        call_.wait(timeout=60)
        assert call_.stdout is not None
        call_.stdout.close()
    assert 0 < len(server.messages) <= 3  # two runs of two never both fit in three
    assert sorted(c.returncode for c in calls).count(0) == len(server.messages) // 2


def test_send_merge_is_one_of_the_agent_tools(
    cli: Cli, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tool call` (and so the MCP server, which goes through it) runs send_merge too."""
    use_fast_server(monkeypatch, ("PIPELINING",))
    server = smtp_server(mode="plain", users=None)
    added = cli(
        "account", "add", "relay", "--email", "me@example.com", "--host", "127.0.0.1",
        "--port", str(server.port), "--security", "none",
    )  # fmt: skip
    assert added.code == 0
    assert cli("policy", "set", "bot", "--allow-recipient", "example.com").code == 0
    schema = cli("tool", "schema", "send_merge")
    assert schema.code == 0 and "{{column}}" in schema.stdout

    arguments = {
        "subject": "Hi {{name}}",
        "text": "Hello {{name}}",
        "rows": rows("ann@example.com"),
    }
    dry = cli(
        "tool", "call", "--caller", "bot",
        stdin=json.dumps({"name": "send_merge", "arguments": {**arguments, "dry_run": True}}),
    )  # fmt: skip
    assert dry.code == 0 and dry.json["status"] == "dry_run"
    assert server.messages == []
    sent = cli(
        "tool", "call", "--caller", "bot",
        stdin=json.dumps({"name": "send_merge", "arguments": arguments}),
    )  # fmt: skip
    assert sent.code == 0, sent.stdout
    assert sent.json["status"] == "sent" and sent.json["sent"] == 1
    assert [m.rcpt_tos for m in server.messages] == [["ann@example.com"]]
    assert "Subject: Hi Ann" in server.messages[0].data.decode()
