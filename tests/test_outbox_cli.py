"""`relaydesk outbox` and `history resend` through the real entry point.

Concurrent runs, exit codes of `outbox run`, spool retention and sending again.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from pathlib import Path

from app.core import settings
from app.core.delivery import outbox
from app.core.delivery.outbox import sender_lock
from app.core.paths import Paths
from app.core.store import Store
from tests.agent_helpers import add_relay_cli
from tests.cli_runner import REPO, Cli
from tests.support.smtp_servers import RecordingHandler


def home_store(cli: Cli) -> Store:
    root = Path(cli.env["RELAYDESK_HOME"])
    return Store.open(Paths(config=root / "config", data=root / "data", state=root / "state"))


def test_a_second_outbox_run_says_another_sender_is_running(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    assert (
        cli("send", "--queue", "--to", "b@example.com", "--subject", "s", "--text", "t").code == 0
    )
    with home_store(cli) as store, sender_lock(store) as holder:
        assert holder is None  # this test process is "the other sender"
        run = cli("outbox", "run", "--json")
    assert run.code == 0, run.stderr
    assert run.json["status"] == "busy"
    assert server.messages == []  # left to the sender that holds the lock
    assert cli("outbox", "run").code == 0 and len(server.messages) == 1


def test_parallel_runs_send_each_message_once(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    for n in range(10):
        queued = cli(
            "send", "--queue", "--to", "b@example.com", "--subject", f"m{n}", "--text", "t"
        )
        assert queued.code == 0
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "outbox", "run"],
            env=cli.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err.decode()
        assert b"Traceback" not in err
    ids = [email.message_from_bytes(m.data)["Message-ID"] for m in server.messages]
    assert len(ids) == 10 and len(set(ids)) == 10


class RefuseEveryone(RecordingHandler):
    async def handle_RCPT(self, server, session, envelope, address, options):
        return "550 5.1.1 No such user"


def test_outbox_run_exits_with_the_failure_not_75(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None, handler=RefuseEveryone())
    add_relay_cli(cli, server.port)
    assert (
        cli("send", "--queue", "--to", "nobody@example.com", "--subject", "s", "--text", "t").code
        == 0
    )
    run = cli("outbox", "run")
    assert run.code == 67, (run.stdout, run.stderr)  # refused for good: nothing left to retry
    assert "failed" in run.stdout


def test_sent_spool_files_are_pruned_and_resend_says_so(
    cli: Cli, smtp_server, tmp_path: Path
) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x01" * 1_200_000)  # large enough to be spooled
    sent = cli(
        "send",
        "--to",
        "b@example.com",
        "--subject",
        "report",
        "--text",
        "t",
        "--attach",
        str(big),
        "--json",
    )
    assert sent.code == 0, sent.stderr
    listing = cli("outbox")
    assert "Spool: 1 file, 1." in listing.stdout, listing.stdout
    [entry] = cli("history", "--json").json["messages"]

    again = cli("history", "resend", str(entry["id"]), "--json")
    assert again.code == 0, again.stderr
    assert len(server.messages) == 2
    first, second = (
        email.message_from_bytes(m.data, policy=email.policy.default) for m in server.messages
    )
    assert first["Message-ID"] != second["Message-ID"]  # a new message, not a duplicate
    assert [p.get_payload(decode=True) for p in second.iter_attachments()] == [big.read_bytes()]

    assert cli("settings", "set", "spool_retention_days", "0").code == 0
    assert cli("outbox", "run").code == 0  # the sender tidies the spool as it starts
    assert "Spool: 0 files" in cli("outbox").stdout
    gone = cli("history", "resend", str(entry["id"]), "--json")
    assert gone.code == 65, gone.stdout
    assert "no longer kept" in gone.json["error"]["message"]
    assert "spool_retention_days" in gone.json["error"]["hint"]
    assert len(server.messages) == 2


def test_failed_messages_keep_their_spool_file(cli: Cli, smtp_server, tmp_path: Path) -> None:
    server = smtp_server(mode="plain", users=None, handler=RefuseEveryone())
    add_relay_cli(cli, server.port)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x02" * 1_200_000)
    run = cli(
        "send", "--to", "x@example.com", "--subject", "s", "--text", "t", "--attach", str(big)
    )
    assert run.code == 67
    assert cli("settings", "set", "spool_retention_days", "0").code == 0
    cli("outbox", "run")
    with home_store(cli) as store:
        [item] = outbox.list_items(store)
        assert outbox.message_data(store, item.id).count(b"AQEB") == 0  # still readable
        assert len(outbox.message_data(store, item.id)) > 1_200_000


def test_the_cli_learns_the_servers_size_limit(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None, data_size_limit=123_456)
    add_relay_cli(cli, server.port)
    assert cli("account", "test", "relay").code == 0
    with home_store(cli) as store:
        assert settings.learned_max_size(store, "relay") == 123_456  # compose warns from this
        store.delete_setting("max_size:relay")
    assert cli("send", "--to", "b@example.com", "--subject", "s", "--text", "t").code == 0
    with home_store(cli) as store:
        assert settings.learned_max_size(store, "relay") == 123_456


def test_an_id_too_large_for_sqlite_is_a_usage_error(cli: Cli) -> None:
    for command, words in (
        (("outbox", "retry"), "no outbox item has the id"),
        (("history", "resend"), "no history entry has the id"),
    ):
        run = cli(*command, "99999999999999999999999")
        assert run.code == 64 and "Traceback" not in run.stderr, run.stderr
        assert words in run.stderr
