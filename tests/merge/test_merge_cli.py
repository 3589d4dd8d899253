"""`relaydesk merge` end to end: a real server, the real entry point, a kill -9 mid-run."""

from __future__ import annotations

import asyncio
import csv
import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from email import policy
from pathlib import Path
from typing import Any

import pytest

from app.core.delivery import connections, outbox
from app.core.delivery.outbox import State
from app.core.store import Store
from tests.agent_helpers import add_relay_cli
from tests.cli_runner import REPO, Cli
from tests.merge.helpers import write_list, write_template
from tests.support.fast_server import use_fast_server
from tests.support.smtp_servers import RecordingHandler

TEMPLATE = (
    "To: {{name}} <{{email}}>\nSubject: Invitation for {{name}}\n\nDear {{name}},\nsee you.\n"
)


def people(count: int) -> str:
    return "email,name\n" + "".join(f"p{n}@example.com,Person {n}\n" for n in range(count))


def test_merge_sends_a_personal_copy_to_every_row(
    cli: Cli, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING", "CHUNKING"))
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    template, listing = write_template(tmp_path, TEMPLATE), write_list(tmp_path, people(150))
    results = tmp_path / "results.csv"
    run = cli(
        "merge",
        str(template),
        str(listing),
        "--connections",
        "4",
        "--results",
        str(results),
        "--json",
    )
    assert run.code == 0, run.stderr
    assert run.json["status"] == "ok"
    assert run.json["queued"] == 150 and run.json["counts"] == {"sent": 150}
    assert run.json["connections"] == 4
    arrived = Counter(m.rcpt_tos[0] for m in server.messages)
    assert arrived == {f"p{n}@example.com": 1 for n in range(150)}
    first = email.message_from_bytes(server.messages[0].data, policy=policy.default)
    number = first["To"].addresses[0].addr_spec[1:].split("@")[0]
    assert first["Subject"] == f"Invitation for Person {number}"
    rows = list(csv.DictReader(results.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 150 and {r["result"] for r in rows} == {"sent"}
    # The people who got it can be the list of the next run, from History.
    follow_up = tmp_path / "follow-up.eml"
    follow_up.write_bytes(b"Subject: Thank you\r\n\r\nThanks for coming, {{email}}.\r\n")
    again = cli("merge", str(follow_up), "--from-history", "invitation", "--dry-run", "--json")
    assert again.code == 0, again.stdout
    assert again.json["rows"] == 150 and again.json["ready"] == 150
    # `account edit` takes the option too, and refuses what no server would allow.
    assert cli("account", "edit", "relay", "--connections", "9").code == 65
    assert cli("account", "edit", "relay", "--connections", "2").code == 0
    monkeypatch.setenv("RELAYDESK_HOME", cli.env["RELAYDESK_HOME"])
    with Store.open() as store:
        assert connections.get_connections(store, "relay") == 2


def test_dry_run_preview_and_bad_input(cli: Cli, tmp_path: Path) -> None:
    add_relay_cli(cli, 2525)
    template = write_template(tmp_path, TEMPLATE)
    listing = write_list(tmp_path, "email,name\nok@example.com,Ok\nbroken,B\n,C\n")
    dry = cli("merge", str(template), str(listing), "--dry-run", "--json")
    assert dry.code == 65
    assert dry.json["error"]["code"] == "invalid_input"
    assert [p["row"] for p in dry.json["problems"]] == [3, 4]
    plain = cli("merge", str(template), str(listing), "--dry-run")
    assert "row 3: broken:" in plain.stdout and "Traceback" not in plain.stderr
    shown = cli("merge", str(template), str(listing), "--preview", "2")
    assert shown.code == 0 and "Subject: Invitation for Ok" in shown.stdout
    assert "To: Ok <ok@example.com>" in shown.stdout
    nothing = cli("merge", str(template), str(listing))
    assert nothing.code == 65 and "nothing was queued" in nothing.stderr
    assert cli("outbox", "list", "--json").json == []
    other = cli("merge", str(template), str(listing), "--to-column", "mail")
    assert other.code == 65 and "no “mail” column" in other.stderr
    missing = cli("merge", str(tmp_path / "none.eml"), str(listing))
    assert missing.code == 65 and "Cannot read the template" in missing.stderr


class SlowServer(RecordingHandler):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.03)
        return await super().handle_DATA(server, session, envelope)


def test_kill_9_mid_merge_loses_nothing_and_sends_nothing_twice(
    cli: Cli, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING",))
    server = smtp_server(mode="plain", users=None, handler=SlowServer())
    add_relay_cli(cli, server.port)
    total = 80
    template, listing = write_template(tmp_path, TEMPLATE), write_list(tmp_path, people(total))
    first = subprocess.Popen(
        [sys.executable, "-m", "app", "merge", str(template), str(listing), "--connections", "4"],
        env=cli.env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while len(server.messages) < total // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    assert 0 < len(server.messages) < total, "the kill should land mid-run"

    again = cli("merges", "run", "1", "--connections", "4")
    assert again.code in (0, 75), again.stderr
    home = Path(cli.env["RELAYDESK_HOME"])
    monkeypatch.setenv("RELAYDESK_HOME", str(home))
    with Store.open() as store:
        items = outbox.list_items(store)
    arrived = Counter(
        email.message_from_bytes(message.data)["Message-ID"] for message in server.messages
    )
    states = Counter(item.state for item in items)
    assert len(items) == total
    assert set(states) <= {State.SENT, State.POSSIBLY_SENT}, states
    assert states[State.POSSIBLY_SENT] <= 4  # at most one in flight per connection
    for item in items:
        if item.state is State.SENT:
            assert arrived[item.message_id] == 1, item
        else:
            assert arrived[item.message_id] <= 1, item
    assert sum(arrived.values()) >= total - states[State.POSSIBLY_SENT]
