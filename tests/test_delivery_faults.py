"""Fault injection on real servers: every message ends in a state that tells the truth."""

from __future__ import annotations

import asyncio
import email
import random
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery import history, outbox, ratelimit
from app.core.delivery.attempts import SendOptions, queue_draft, run_due, send_item
from app.core.delivery.message import Draft
from app.core.delivery.outbox import RecipientStatus, State
from app.core.errors import StorageError
from app.core.smtp.session import Timeouts
from app.core.store import Store
from tests.support.smtp_servers import RecordingHandler

FAST = Timeouts(connect=2.0, greeting=1.0, command=1.0, final_reply=1.0)
OPTIONS = SendOptions(face="cli", timeouts=FAST)


def no_password(_account: Account) -> str | None:
    return None


@pytest.fixture
def store(relaydesk_home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        yield opened


def relay(store: Store, host: str, port: int, name: str = "relay") -> Account:
    account = Account(
        name=name, email="alice@example.com", host=host, port=port, security=Security.NONE
    )
    accounts.add_account(store, account)
    return account


def queue(store: Store, account: Account, *to: str, subject: str = "hello") -> int:
    draft = Draft(to=to or ("bob@example.com",), subject=subject, text="body")
    return queue_draft(store, account, draft, face="cli")


def make_due(store: Store, item_id: int) -> None:
    store.execute("UPDATE outbox SET next_attempt_at = 0 WHERE id = ?", (item_id,))


class Reply421At(RecordingHandler):
    def __init__(self, phase: str) -> None:
        super().__init__()
        self.phase = phase

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.phase == "MAIL":
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.phase == "RCPT":
            return "421 4.7.0 Too many connections, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.phase == "DATA":
            return "421 4.4.5 Server busy, try later"
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("phase", ["MAIL", "RCPT", "DATA"])
def test_421_at_any_phase_retries_later(store: Store, smtp_server, phase: str) -> None:
    server = smtp_server(mode="plain", users=None, handler=Reply421At(phase))
    item_id = queue(store, relay(store, server.host, server.port))
    result = send_item(store, item_id, no_password, OPTIONS)
    assert result.state is State.RETRYING
    assert result.exit_code == 75
    item = outbox.get_item(store, item_id)
    assert item.attempts == 1 and item.next_attempt_at and item.next_attempt_at > time.time()
    assert item.last_error and "421" in item.last_error["reply"]
    assert server.messages == []


class MixedRecipients(RecordingHandler):
    """452 for deferred@…, 550 for gone@…, 250 for everyone else; deferral lifts later."""

    def __init__(self) -> None:
        super().__init__()
        self.defer = True

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        if address.startswith("deferred@") and self.defer:
            return "452 4.2.2 Mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_partial_recipients_never_get_a_second_copy(store: Store, smtp_server) -> None:
    handler = MixedRecipients()
    server = smtp_server(mode="plain", users=None, handler=handler)
    account = relay(store, server.host, server.port)
    item_id = queue(store, account, "ok@example.com", "deferred@example.com", "gone@example.com")

    first = send_item(store, item_id, no_password, OPTIONS)
    assert first.state is State.RETRYING
    assert first.accepted == ("ok@example.com",)
    assert list(first.refused) == ["gone@example.com"]
    assert list(first.deferred) == ["deferred@example.com"]
    statuses = {r.address: r.status for r in outbox.get_item(store, item_id).recipients}
    assert statuses == {
        "ok@example.com": RecipientStatus.ACCEPTED,
        "deferred@example.com": RecipientStatus.DEFERRED,
        "gone@example.com": RecipientStatus.REFUSED,
    }
    assert [m.rcpt_tos for m in server.messages] == [["ok@example.com"]]

    handler.defer = False
    make_due(store, item_id)
    [second] = run_due(store, no_password, OPTIONS)
    assert second.state is State.SENT
    assert [m.rcpt_tos for m in server.messages] == [["ok@example.com"], ["deferred@example.com"]]
    ids = {email.message_from_bytes(m.data)["Message-ID"] for m in server.messages}
    assert len(ids) == 1  # the same message, so receivers can deduplicate
    assert len(history.search(store)) == 2


def smtp_dialogue(after_data: Callable[[socket.socket, bytes], None]) -> Callable:
    """A scripted server that speaks enough SMTP to reach DATA, then hands over."""

    def script(conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        conn.sendall(b"220 fake.example ESMTP\r\n")
        while line := reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-fake.example greets you\r\n250-8BITMIME\r\n250 HELP\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                after_data(conn, reader.read(200))
                return
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 OK\r\n")

    return script


def read_to_dot(conn: socket.socket, start: bytes) -> None:
    data = start
    while not data.endswith(b"\r\n.\r\n"):
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk


def test_drop_in_the_middle_of_data_retries(store: Store, scripted_server) -> None:
    host, port = scripted_server(smtp_dialogue(lambda conn, start: conn.close()))
    account = relay(store, host, port)
    draft = Draft(to=("bob@example.com",), subject="big", text="x" * 2_000_000)
    item_id = queue_draft(store, account, draft, face="cli")
    result = send_item(store, item_id, no_password, OPTIONS)
    assert result.state is State.RETRYING
    # The final dot could not be written, so the server cannot have the message.
    assert outbox.get_item(store, item_id).step in ("data", "final_dot")
    assert result.error is not None and result.error.code == "connection_lost"


def test_drop_after_the_final_dot_is_possibly_sent_and_never_resent(
    store: Store, scripted_server, smtp_server
) -> None:
    def drop_after_dot(conn: socket.socket, start: bytes) -> None:
        read_to_dot(conn, start)
        conn.close()

    host, port = scripted_server(smtp_dialogue(drop_after_dot))
    account = relay(store, host, port)
    item_id = queue(store, account)
    result = send_item(store, item_id, no_password, OPTIONS)
    assert result.state is State.POSSIBLY_SENT
    assert result.exit_code == 75
    item = outbox.get_item(store, item_id)
    assert item.step == "final_dot"
    assert [r.status for r in item.recipients] == [RecipientStatus.UNCERTAIN]
    assert run_due(store, no_password, OPTIONS) == []  # never resent on its own

    # The user decides to send again: same Message-ID, to a working server.
    server = smtp_server(mode="plain", users=None)
    accounts.update_account(store, account.with_changes(port=server.port))
    outbox.retry(store, item_id, face="cli")
    again = send_item(store, item_id, no_password, OPTIONS)
    assert again.state is State.SENT
    [received] = server.messages
    assert email.message_from_bytes(received.data)["Message-ID"] == item.message_id


def test_stall_after_the_final_dot_is_possibly_sent(store: Store, scripted_server) -> None:
    def stall(conn: socket.socket, start: bytes) -> None:
        read_to_dot(conn, start)
        conn.recv(1)  # never answers

    host, port = scripted_server(smtp_dialogue(stall))
    item_id = queue(store, relay(store, host, port))
    result = send_item(store, item_id, no_password, OPTIONS)
    assert result.state is State.POSSIBLY_SENT
    assert result.error is not None and result.error.hint


def test_stall_after_data_before_354_retries(store: Store, scripted_server) -> None:
    def script(conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        conn.sendall(b"220 fake ESMTP\r\n")
        while line := reader.readline():
            if line[:4].upper() == b"DATA":
                conn.recv(1)  # never says 354
                return
            reply = b"250-fake\r\n250 HELP\r\n" if line[:4].upper() == b"EHLO" else b"250 OK\r\n"
            conn.sendall(reply)

    host, port = scripted_server(script)
    item_id = queue(store, relay(store, host, port))
    result = send_item(store, item_id, no_password, OPTIONS)
    assert result.state is State.RETRYING
    assert outbox.get_item(store, item_id).step == "data"


def test_stall_at_greeting_fails_with_an_explanation(store: Store, scripted_server) -> None:
    host, port = scripted_server(lambda conn: conn.recv(1))
    item_id = queue(store, relay(store, host, port))
    started = time.monotonic()
    result = send_item(store, item_id, no_password, OPTIONS)
    assert time.monotonic() - started < 5
    assert result.state is State.FAILED
    assert result.error is not None and "greet" in result.error.message.lower()
    assert outbox.get_item(store, item_id).step == "connect"


def test_multiline_replies_and_invalid_utf8_are_read(store: Store, scripted_server) -> None:
    def script(conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        conn.sendall(b"220-fake.example ESMTP\r\n220-second line \xff\xfe\r\n220 ready\r\n")
        while line := reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-fake\r\n250-8BITMIME\r\n250 HELP\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go\r\n")
                read_to_dot(conn, b"")
                conn.sendall(b"250-2.0.0 queued as \xc3(\r\n250 2.0.0 OK id=42\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 OK\r\n")

    host, port = scripted_server(script)
    item_id = queue(store, relay(store, host, port))
    result = send_item(store, item_id, no_password, OPTIONS)
    assert result.state is State.SENT
    assert result.final_reply and "id=42" in result.final_reply


def test_quota_keeps_messages_waiting_not_failed(store: Store, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    account = relay(store, server.host, server.port)
    ratelimit.set_quota(store, account.name, ratelimit.Quota(per_hour=2))
    ids = [queue(store, account, subject=f"m{n}") for n in range(3)]
    results = run_due(store, no_password, OPTIONS)
    assert [r.state for r in results] == [State.SENT, State.SENT, State.QUEUED]
    assert len(server.messages) == 2
    waiting = outbox.get_item(store, ids[2])
    assert waiting.state is State.QUEUED and waiting.attempts == 0
    assert waiting.next_attempt_at and waiting.next_attempt_at > time.time() + 3000
    assert waiting.last_error and waiting.last_error["code"] == "quota_exceeded"
    assert run_due(store, no_password, OPTIONS) == []  # not due until the slot frees


def test_due_messages_share_one_connection(store: Store, smtp_server) -> None:
    class CountConnections(RecordingHandler):
        connections = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            CountConnections.connections += 1
            session.host_name = hostname
            return responses

    server = smtp_server(mode="plain", users=None, handler=CountConnections())
    account = relay(store, server.host, server.port)
    for n in range(5):
        queue(store, account, subject=f"m{n}")
    results = run_due(store, no_password, OPTIONS)
    assert [r.state for r in results] == [State.SENT] * 5
    assert len(server.messages) == 5
    assert CountConnections.connections == 1


def test_cancel_a_queued_item(store: Store, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    item_id = queue(store, relay(store, server.host, server.port))
    outbox.cancel(store, item_id, face="gui")
    assert run_due(store, no_password, OPTIONS) == []
    assert outbox.get_item(store, item_id).state is State.CANCELLED
    assert server.messages == []


def test_cancel_in_flight_before_the_final_dot(store: Store, scripted_server) -> None:
    def slow_reader(conn: socket.socket, start: bytes) -> None:
        while conn.recv(1024):
            time.sleep(0.01)

    host, port = scripted_server(smtp_dialogue(slow_reader))
    account = relay(store, host, port)
    draft = Draft(to=("bob@example.com",), subject="big", text="y" * 5_000_000)
    item_id = queue_draft(store, account, draft, face="gui")
    sessions = []

    def on_progress(sent: int, total: int) -> None:
        if sent > 0 and sessions:
            sessions[0].cancel()

    options = SendOptions(
        face="gui", timeouts=FAST, on_progress=on_progress, on_session=sessions.append
    )
    result = send_item(store, item_id, no_password, options)
    assert result.state is State.CANCELLED
    assert outbox.get_item(store, item_id).step == "data"


def test_crash_recovery_judges_by_the_step(store: Store, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    account = relay(store, server.host, server.port)
    before_dot, after_dot = queue(store, account), queue(store, account)
    for item_id, step in ((before_dot, "rcpt"), (after_dot, "final_dot")):
        assert outbox.claim(store, item_id)
        store.execute(
            "UPDATE outbox SET step = ?, owner_pid = 999999999 WHERE id = ?", (step, item_id)
        )
    assert sorted(outbox.recover(store)) == [before_dot, after_dot]
    assert outbox.get_item(store, before_dot).state is State.QUEUED
    assert outbox.get_item(store, after_dot).state is State.POSSIBLY_SENT
    results = run_due(store, no_password, OPTIONS)
    assert [r.item_id for r in results] == [before_dot]


def test_disk_full_loses_nothing_and_sends_nothing(store: Store, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    account = relay(store, server.host, server.port)
    pages = store.execute("PRAGMA page_count").fetchone()[0]
    store.execute(f"PRAGMA max_page_count = {pages + 2}")
    draft = Draft(to=("bob@example.com",), subject="big", text="z" * 200_000)
    with pytest.raises(StorageError) as caught:
        queue_draft(store, account, draft, face="cli")
    assert "disk is full" in caught.value.message
    assert "Nothing was sent" in caught.value.hint
    assert outbox.list_items(store) == []
    assert run_due(store, no_password, OPTIONS) == [] and server.messages == []


def test_event_loop_helper_is_clean() -> None:
    # aiosmtpd handlers above are coroutines; make sure none leaked a running loop here.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = outbox.RetryPolicy(base=60, cap=3600, jitter=0.2)
    rng = random.Random(7)
    delays = [policy.delay(attempt, rng) for attempt in range(1, 10)]
    assert 48 <= delays[0] <= 72 and 96 <= delays[1] <= 144 and 192 <= delays[2] <= 288
    assert all(delay <= 3600 * 1.2 for delay in delays)
    assert delays[-1] >= 3600 * 0.8


def test_gives_up_after_the_configured_age(store: Store, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None, handler=Reply421At("MAIL"))
    item_id = queue(store, relay(store, server.host, server.port))
    store.set_setting(outbox.RETRY_MAX_AGE_SETTING, "1")
    store.execute("UPDATE outbox SET created_at = ? WHERE id = ?", (time.time() - 7200, item_id))
    result = send_item(store, item_id, no_password, OPTIONS)
    assert result.state is State.FAILED
    item = outbox.get_item(store, item_id)
    assert item.last_error and "421" in item.last_error["reply"]
