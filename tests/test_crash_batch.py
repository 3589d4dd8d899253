"""SIGKILL in the middle of `relaydesk outbox run`: nothing lost, nothing sent twice."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery import outbox
from app.core.delivery.attempts import queue_draft
from app.core.delivery.message import Draft
from app.core.delivery.outbox import State
from app.core.store import Store
from tests.cli_runner import REPO, cli_env
from tests.support.smtp_servers import RecordingHandler

BATCH = 50


class SlowServer(RecordingHandler):
    """Takes a little while per message so the kill lands in the middle of the batch."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.03)
        return await super().handle_DATA(server, session, envelope)


def run_outbox(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "outbox", "run"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_mid_batch_loses_nothing_and_duplicates_nothing(
    relaydesk_home: Path, smtp_server
) -> None:
    server = smtp_server(mode="plain", users=None, handler=SlowServer())
    with Store.open() as store:
        account = Account(
            name="relay",
            email="alice@example.com",
            host=server.host,
            port=server.port,
            security=Security.NONE,
        )
        accounts.add_account(store, account)
        ids = [
            queue_draft(
                store,
                account,
                Draft(to=("bob@example.com",), subject=f"n{n}", text="hello"),
                face="cli",
            )
            for n in range(BATCH)
        ]
    env = cli_env(None, relaydesk_home)

    first = run_outbox(env)
    deadline = time.monotonic() + 30
    while len(server.messages) < BATCH // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert 0 < len(server.messages) < BATCH, "the kill should land mid-batch"

    second = run_outbox(env)
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == 0, stderr.decode()

    with Store.open() as store:
        items = {item_id: outbox.get_item(store, item_id) for item_id in ids}
    arrived = Counter(
        email.message_from_bytes(message.data)["Message-ID"] for message in server.messages
    )
    states = Counter(item.state for item in items.values())
    assert set(states) <= {State.SENT, State.POSSIBLY_SENT}, states
    assert states[State.POSSIBLY_SENT] <= 1  # only the one in flight can be in doubt
    for item in items.values():
        if item.state is State.SENT:
            assert arrived[item.message_id] == 1, item
        else:
            assert arrived[item.message_id] <= 1, item
    assert sum(arrived.values()) >= BATCH - states[State.POSSIBLY_SENT]
