"""Allowed recipients compare IDNA domains and exact local parts: no Unicode case folding."""

from __future__ import annotations

import json

import pytest

from tests.agent_helpers import add_account_cli
from tests.cli_runner import Cli
from tests.support.smtp_servers import RunningServer


@pytest.fixture
def server(smtp_server) -> RunningServer:
    return smtp_server(mode="starttls")


def _send(cli: Cli, to: str) -> tuple[int, dict]:
    request = {"name": "send_email", "arguments": {"to": to, "subject": "s", "text": "x"}}
    run = cli("tool", "call", "--caller", "bot", stdin=json.dumps(request))
    return run.code, run.json


def test_folded_lookalikes_do_not_pass_the_allow_list(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    rules = ("strasse.de", "boss@other.org", "*.bücher.de")
    policy = cli("policy", "set", "bot", *(f"--allow-recipient={rule}" for rule in rules))
    assert policy.code == 0, policy.stderr

    for refused in ("x@straße.de", "x@STRAßE.DE", "boß@other.org", "x@bucher.de"):
        code, result = _send(cli, refused)
        assert code == 77, (refused, result)
        assert result["error"]["code"] == "recipient_not_allowed"
    assert server.messages == []

    for allowed in ("x@strasse.de", "x@STRASSE.de", "BOSS@other.org", "a@shop.bücher.de",
                    "a@shop.xn--bcher-kva.de"):  # fmt: skip
        code, result = _send(cli, allowed)
        assert code == 0 and result["status"] == "sent", (allowed, result)
    rcpts = [m.rcpt_tos[0] for m in server.messages]
    assert "x@strasse.de" in rcpts and "a@shop.xn--bcher-kva.de" in rcpts
    assert not any("xn--strae-oqa" in r for r in rcpts)


def test_a_lookalike_in_another_field_is_not_dropped_as_a_duplicate(
    cli: Cli, server: RunningServer
) -> None:
    add_account_cli(cli, server)
    request = {"name": "send_email", "arguments": {
        "to": "boss@other.org", "cc": "boß@other.org", "subject": "s", "dry_run": True
    }}  # fmt: skip
    run = cli("tool", "call", stdin=json.dumps(request))
    assert run.code == 0, run.stdout
    # Two different mailboxes: both stay recipients (casefold() made them one).
    assert len(run.json["envelope"]["recipients"]) == 2
