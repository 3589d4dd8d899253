"""A full disk: before queueing nothing is kept (exit 74); after a delivery the truth is told."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

from app.core.delivery import history, outbox
from app.core.delivery.attempts import SendOptions, run_due, send_item
from app.core.delivery.outbox import State
from app.core.smtp.session import Step
from app.core.store import Store
from tests.agent_helpers import add_relay_cli
from tests.cli_runner import REPO, Cli
from tests.test_delivery_faults import no_password, queue, relay, store  # noqa: F401


def small_files() -> None:
    """In the child: writes past 300 kB fail (EFBIG), as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


def test_queue_on_a_full_disk_exits_74_and_keeps_nothing(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "send",
            "--queue",
            "--to",
            "bob@example.com",
            "--subject",
            "big",
            "--text-file",
            "-",
            "--json",
        ],
        input=b"z" * 400_000,
        preexec_fn=small_files,
        capture_output=True,
        env=cli.env,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert run.returncode == 74, run.stderr  # not 75: nothing is kept in the outbox
    assert b"Traceback" not in run.stderr
    assert cli("outbox", "list", "--json").json == []


def test_disk_full_after_delivery_says_so_and_never_resends(store: Store, smtp_server) -> None:  # noqa: F811
    server = smtp_server(mode="plain", users=None)
    account = relay(store, server.host, server.port)
    # A long subject makes the history row need new pages, which a full disk refuses.
    item_id = queue(store, account, "bob@example.com", subject="report" + " word" * 1000)

    def disk_fills_up(step: Step) -> None:
        if step is Step.DONE:  # the server has answered the final dot
            pages = store.execute("PRAGMA page_count").fetchone()[0]
            store.execute(f"PRAGMA max_page_count = {pages}")

    result = send_item(store, item_id, no_password, SendOptions(face="cli", on_step=disk_fills_up))
    assert len(server.messages) == 1
    assert result.state is State.POSSIBLY_SENT and result.error is not None
    assert result.error.exit_code == 74
    assert "accepted the message" in result.error.message
    assert "Nothing was sent" not in f"{result.error.message} {result.error.hint}"
    item = outbox.get_item(store, item_id)
    assert item.state is State.POSSIBLY_SENT  # not left `sending`
    assert history.count(store) == 0

    store.execute("PRAGMA max_page_count = 1073741823")  # space freed
    assert run_due(store, no_password, SendOptions(face="cli")) == []
    assert len(server.messages) == 1  # never sent again behind the person's back
