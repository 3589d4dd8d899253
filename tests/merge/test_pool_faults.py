"""Several connections per account against real servers that misbehave: every message once."""

from __future__ import annotations

import asyncio
import email
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app.core.delivery import outbox, ratelimit
from app.core.delivery.attempts import SendOptions
from app.core.delivery.merge import batch
from app.core.delivery.merge.send import send_batch
from app.core.delivery.outbox import RetryPolicy, State
from app.core.store import Store
from tests.merge.helpers import add_account, make_run, write_list, write_template
from tests.support.fast_server import use_fast_server
from tests.support.smtp_servers import RecordingHandler

ROWS = 40
TEMPLATE = "To: {{email}}\nSubject: For {{name}}\n\nHello {{name}}\n"


def no_password(_: object) -> None:
    return None


def queue_rows(store: Store, tmp: Path, port: int, rows: int = ROWS, cc: bool = False) -> int:
    header = "email,name,cc\n" if cc else "email,name\n"
    lines = "".join(
        f"user{n}@example.com,User {n}" + (f",copy{n}@example.com" if cc else "") + "\n"
        for n in range(rows)
    )
    account = add_account(store, port=port)
    run = make_run(write_template(tmp, TEMPLATE), write_list(tmp, header + lines), account)
    return batch.queue(store, run, name="faults", face="cli").batch_id


def deliveries(handler: RecordingHandler) -> Counter[str]:
    """How many times each address received a message."""
    count: Counter[str] = Counter()
    for message in handler.messages:
        for address in message.rcpt_tos:
            count[address] += 1
    return count


def options() -> SendOptions:
    return SendOptions(face="cli", retry_policy=RetryPolicy(base=0.01, cap=0.01))


class CountingEhlo(RecordingHandler):
    """Refuses with 421 every session beyond the first ``limit`` (a per-login connection cap)."""

    def __init__(self, limit: int, delay: float = 0.03) -> None:
        super().__init__()
        self.limit = limit
        self.delay = delay  # per message, as a real server takes: the connections overlap
        self.sessions: set[int] = set()
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self._lock:
            if id(session) not in self.sessions and len(self.sessions) >= self.limit:
                self.refused += 1
                # Like a real server: say why, then hang up.
                asyncio.get_running_loop().call_soon(server.transport.close)
                return ["421 4.7.0 Too many concurrent SMTP connections from this login"]
            self.sessions.add(id(session))
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("extensions", [("PIPELINING",), ("PIPELINING", "CHUNKING")])
def test_four_connections_send_each_row_once(
    relaydesk_home: Path,
    tmp_path: Path,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    extensions: tuple[str, ...],
) -> None:
    use_fast_server(monkeypatch, extensions)
    handler = CountingEhlo(limit=99)
    server = smtp_server(mode="plain", users=None, handler=handler)
    with Store.open() as store:
        batch_id = queue_rows(store, tmp_path, server.port)
        report = send_batch(store, batch_id, no_password, options(), count=4)
        states = Counter(i.state for i in outbox.list_items(store))
    assert report.opened == 4 and len(handler.sessions) == 4
    assert states == {State.SENT: ROWS}
    assert deliveries(handler) == {f"user{n}@example.com": 1 for n in range(ROWS)}
    subjects = {email.message_from_bytes(m.data)["Subject"] for m in handler.messages}
    assert subjects == {f"For User {n}" for n in range(ROWS)}


def test_a_connection_limit_lowers_the_count_for_the_run(
    relaydesk_home: Path, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING",))
    handler = CountingEhlo(limit=2)
    server = smtp_server(mode="plain", users=None, handler=handler)
    with Store.open() as store:
        batch_id = queue_rows(store, tmp_path, server.port)
        report = send_batch(store, batch_id, no_password, options(), count=4)
    assert report.lowered_to == 2 and report.opened == 2
    assert handler.refused == 1  # the third was refused; the fourth never tried
    assert deliveries(handler) == {f"user{n}@example.com": 1 for n in range(ROWS)}


class FaultyData(RecordingHandler):
    """421 for one message's DATA, a dropped connection at one RCPT, 452 for copy addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.data_calls = 0
        self.rcpt_calls = 0
        self.deferred_once: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.rcpt_calls += 1
        if self.rcpt_calls == 7:
            server.transport.close()  # the line drops in the middle of the envelope
            return "250 OK"
        if address.startswith("copy") and address not in self.deferred_once:
            self.deferred_once.add(address)
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        if self.data_calls == 5:
            return "421 4.3.2 System shutting down"
        self.record(session, envelope)
        return "250 2.0.0 OK queued"


def test_drops_421_and_452_still_deliver_each_address_once(
    relaydesk_home: Path, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING",))
    handler = FaultyData()
    server = smtp_server(mode="plain", users=None, handler=handler)
    with Store.open() as store:
        batch_id = queue_rows(store, tmp_path, server.port, rows=20, cc=True)
        send_batch(store, batch_id, no_password, options(), count=4)
        # Whatever a fault left for later goes on the next run, as `merges run` does.
        for _ in range(3):
            send_batch(store, batch_id, no_password, options(), count=4)
        states = Counter(i.state for i in outbox.list_items(store))
    assert states == {State.SENT: 20}, states
    expected = {f"user{n}@example.com": 1 for n in range(20)}
    expected.update({f"copy{n}@example.com": 1 for n in range(20)})
    assert deliveries(handler) == expected


def test_quota_binds_across_connections(
    relaydesk_home: Path, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING",))
    server = smtp_server(mode="plain", users=None)
    with Store.open() as store:
        batch_id = queue_rows(store, tmp_path, server.port, rows=12)
        ratelimit.set_quota(store, "relay", ratelimit.Quota(per_hour=5))
        # Slots were given at queue time without a quota: all twelve are due now.
        report = send_batch(store, batch_id, no_password, options(), count=4)
        states = Counter(i.state for i in outbox.list_items(store))
    assert report.quota_reached
    assert len(server.messages) == 5
    assert states == {State.SENT: 5, State.QUEUED: 7}
