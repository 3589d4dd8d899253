"""Kill the sender at every point of a delivery: after recovery, state and history agree.

The process is ended with ``os._exit`` at a named checkpoint (``RELAYDESK_FAULT_AT``,
enabled only by tests), as a power cut would end it; then an ordinary
``relaydesk outbox run`` recovers. Whatever the point, no recipient gets the message
twice, a message is ``sent`` exactly when history holds it, and one whose fate is
unknown is ``possibly_sent`` (the person decides) rather than silently resent.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from app.core import settings
from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery import attempts as delivery
from app.core.delivery import history, outbox
from app.core.delivery.attempts import queue_draft
from app.core.delivery.message import Draft
from app.core.delivery.outbox import RecipientStatus, State
from app.core.faults import DELIVERY_POINTS, FAULT_ENV, FAULT_EXIT
from app.core.store import Store
from tests.cli_runner import REPO, cli_env
from tests.support.smtp_servers import RecordingHandler

RECIPIENTS = ("ann@example.com", "bob@example.com", "cy@example.com")
# Points after which the server may have the message: recovery must not resend it.
AFTER_DOT = {"step:final_dot", "step:done", "replied", "record:recipients", "record:history"}


def outbox_run(home: Path, fault: str | None = None) -> subprocess.CompletedProcess[bytes]:
    env = cli_env(None, home)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-m", "app", "outbox", "run"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )


def setup_item(port: int) -> int:
    with Store.open() as store:
        account = Account(
            name="relay",
            email="me@example.com",
            host="127.0.0.1",
            port=port,
            security=Security.NONE,
        )
        accounts.add_account(store, account)
        # test_pipelining's "offered-but-off" servers patch this in-process; the
        # subprocess learns it from the stored settings.
        fast_paths = delivery.fast_path_enabled(store, delivery.PIPELINING_SETTING, None)
        for key in (delivery.PIPELINING_SETTING, delivery.CHUNKING_SETTING):
            settings.put(store, key, fast_paths)
        return queue_draft(
            store, account, Draft(to=RECIPIENTS, subject="atomic", text="hi"), face="cli"
        )


def check_agreement(item_id: int, received: Counter[str], fault: str) -> State:
    """The invariants every crash point must leave; returns the final state."""
    assert all(n <= 1 for n in received.values()), f"sent twice after {fault}: {received}"
    with Store.open() as store:
        item = outbox.get_item(store, item_id)
        rows = [e for e in history.search(store, limit=100) if e.outbox_id == item_id]
        trail = [row["outcome"] for row in store.audit_rows(100) if row["outbox_id"] == item_id]
    in_history = Counter(
        r["address"] for entry in rows for r in entry.recipients if r["status"] == "accepted"
    )
    accepted = {r.address for r in item.recipients if r.status is RecipientStatus.ACCEPTED}
    assert set(in_history) == accepted and all(n == 1 for n in in_history.values()), fault
    if item.state is State.SENT:
        assert accepted == set(RECIPIENTS) and received == Counter(RECIPIENTS), fault
        assert trail[0] == "sent", trail
    else:
        assert item.state is State.POSSIBLY_SENT, (fault, item.state)
        assert not rows, "a message in doubt has no history row"
        assert {r.status for r in item.recipients} == {RecipientStatus.UNCERTAIN}
        assert item.last_error and "confirmed" in item.last_error["message"]
    return item.state


@pytest.mark.parametrize("fault", [*DELIVERY_POINTS, "step:done"])
def test_a_crash_at_any_point_leaves_state_and_history_agreeing(
    relaydesk_home: Path, smtp_server, fault: str
) -> None:
    server = smtp_server(mode="plain", users=None)
    item_id = setup_item(server.port)

    crashed = outbox_run(relaydesk_home, fault)
    assert crashed.returncode == FAULT_EXIT, crashed.stderr.decode()
    recovered = outbox_run(relaydesk_home)
    assert recovered.returncode in (0, 75), recovered.stderr.decode()

    received = Counter(address for m in server.messages for address in m.rcpt_tos)
    state = check_agreement(item_id, received, fault)
    if fault in AFTER_DOT:
        assert state is State.POSSIBLY_SENT  # told, never resent behind the person's back
        assert sum(received.values()) <= len(RECIPIENTS)
    else:
        assert state is State.SENT


class TwoPerTransaction(RecordingHandler):
    """Postfix-like recipient limit, tiny: 452 4.5.3 after two RCPTs in one transaction."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        if len(envelope.rcpt_tos) >= 2:
            return "452 4.5.3 Error: too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"


@pytest.mark.parametrize("fault", ["step:mail#2", "step:final_dot#2", "replied", "recorded"])
def test_a_crash_between_transactions_resends_only_to_those_without_it(
    relaydesk_home: Path, smtp_server, fault: str
) -> None:
    server = smtp_server(mode="plain", users=None, handler=TwoPerTransaction())
    item_id = setup_item(server.port)

    crashed = outbox_run(relaydesk_home, fault)
    assert crashed.returncode == FAULT_EXIT, crashed.stderr.decode()
    outbox_run(relaydesk_home)

    received = Counter(address for m in server.messages for address in m.rcpt_tos)
    assert all(n <= 1 for n in received.values()), received
    with Store.open() as store:
        item = outbox.get_item(store, item_id)
        rows = [e for e in history.search(store, limit=100) if e.outbox_id == item_id]
    statuses = {r.address: r.status for r in item.recipients}
    in_history = {r["address"] for e in rows for r in e.recipients if r["status"] == "accepted"}
    assert in_history == {a for a, s in statuses.items() if s is RecipientStatus.ACCEPTED}
    # The first transaction (two recipients) was committed before the second began.
    assert {"ann@example.com", "bob@example.com"} <= in_history
    if fault == "step:mail#2" or fault == "recorded":
        assert item.state is State.SENT and received == Counter(RECIPIENTS)
    else:
        assert item.state is State.POSSIBLY_SENT
        assert statuses["cy@example.com"] is RecipientStatus.UNCERTAIN
