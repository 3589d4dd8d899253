"""PIPELINING (RFC 2920): fewer round trips, the same results per recipient, the same bytes.

The delivery, session and crash tests written for the plain server are collected
here a second time, against a server that offers PIPELINING (and CHUNKING), with
the fast paths on and off.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from app.core.accounts.model import Account, Security
from app.core.delivery import attempts as delivery
from app.core.smtp.session import SmtpSession, Step
from tests.support.fast_server import latency_proxy, use_fast_server
from tests.support.smtp_servers import RecordingHandler, RunningServer, start_server

# Re-collected fault tests (they use the smtp_server fixture defined below).
from tests.test_crash_batch import (  # noqa: F401
    test_sigkill_mid_batch_loses_nothing_and_duplicates_nothing,
)
from tests.test_delivery_atomicity import (  # noqa: F401
    test_a_crash_at_any_point_leaves_state_and_history_agreeing,
    test_a_crash_between_transactions_resends_only_to_those_without_it,
)
from tests.test_delivery_faults import (  # noqa: F401
    store,
    test_421_at_any_phase_retries_later,
    test_crash_recovery_judges_by_the_step,
    test_due_messages_share_one_connection,
    test_gives_up_after_the_configured_age,
    test_partial_recipients_never_get_a_second_copy,
    test_quota_keeps_messages_waiting_not_failed,
)
from tests.test_recipient_limits import (  # noqa: F401
    test_a_server_that_takes_no_recipient_now_defers_without_misleading_words,
    test_fifteen_hundred_recipients_go_out_in_two_transactions,
)
from tests.test_session import (  # noqa: F401
    test_421_at_mail_is_temporary,
    test_check_sender,
    test_implicit_tls_delivers,
    test_sender_refused,
    test_several_messages_on_one_connection,
    test_size_is_declared_on_mail_from,
    test_size_limit_is_checked_before_mail,
    test_smtputf8,
    test_some_recipients_refused,
)

BOTH = ("PIPELINING", "CHUNKING")
SERVER_MODES = {
    "pipelining": (("PIPELINING",), True),
    "pipelining+chunking": (BOTH, True),
    "offered-but-off": (BOTH, False),
}
MESSAGE = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n"
    b".leading dot\r\n..two\r\n.\r\nlast line without a newline."
)


@pytest.fixture(params=list(SERVER_MODES))
def smtp_server(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    ca: trustme.CA,
    tmp_path: Path,
) -> Iterator[Callable[..., RunningServer]]:
    """The conftest factory, but every server offers PIPELINING (and maybe CHUNKING)."""
    extensions, fast_paths = SERVER_MODES[request.param]
    use_fast_server(monkeypatch, extensions)
    if not fast_paths:
        monkeypatch.setattr(delivery, "fast_path_enabled", lambda *_: False)
        for name in ("pipelining", "chunking"):
            monkeypatch.setitem(SmtpSession.__init__.__kwdefaults__, name, False)
    servers: list[RunningServer] = []

    def start(**kwargs: Any) -> RunningServer:
        server = start_server(ca=ca, tmp_path=tmp_path, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def relay_account(port: int) -> Account:
    return Account(
        name="relay", email="a@example.com", host="127.0.0.1", port=port, security=Security.NONE
    )


class Picky(RecordingHandler):
    """550 for gone@…, 452 for full@…, 250 for everyone else."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        if address.startswith("full@"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.parametrize(
    ("extensions", "most"), [(("PIPELINING",), 2), (BOTH, 1)], ids=["pipelining", "both"]
)
def test_round_trips_per_message(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, tmp_path: Path, extensions, most
) -> None:
    use_fast_server(monkeypatch, extensions)
    server = start_server(mode="plain", users=None, ca=ca, tmp_path=tmp_path)
    try:
        with latency_proxy((server.host, server.port), 0.0) as proxy:
            with SmtpSession(relay_account(proxy.port)) as session:
                session.open()
                proxy.reset_stats()
                for n in range(5):
                    if n:
                        session.reset()
                    session.send("a@example.com", ["b@example.com", "c@example.com"], MESSAGE)
                turns = proxy.stats.turns
    finally:
        server.stop()
    assert turns <= 5 * most
    assert [m.data for m in server.messages] == [MESSAGE + b"\r\n"] * 5


@pytest.mark.parametrize("mode", ["off", "pipelining", "chunking", "both"])
@pytest.mark.parametrize("size", [0, 100, 70_000, 2_500_000])
def test_messages_arrive_byte_identical(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, tmp_path: Path, mode: str, size: int
) -> None:
    use_fast_server(monkeypatch, BOTH)
    server = start_server(mode="plain", users=None, ca=ca, tmp_path=tmp_path)
    body = b"".join(b".%06d line\r\n" % n for n in range(size // 13 + 1))[:size]
    message = MESSAGE + b"\r\n" + body
    try:
        with SmtpSession(
            relay_account(server.port),
            pipelining=mode in ("pipelining", "both"),
            chunking=mode in ("chunking", "both"),
        ) as session:
            session.open()
            session.send("a@example.com", ["b@example.com"], message)
            transcript = session.transcript.render()
    finally:
        server.stop()
    # A message without a final CRLF gets one, with DATA and with BDAT alike.
    expected = message if message.endswith(b"\r\n") else message + b"\r\n"
    assert server.messages[0].data == expected
    assert ("BDAT" in transcript) == (mode in ("chunking", "both"))


def test_refusals_are_known_per_recipient(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, tmp_path: Path
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING",))
    server = start_server(mode="plain", users=None, ca=ca, tmp_path=tmp_path, handler=Picky())
    steps: list[Step] = []
    try:
        with SmtpSession(relay_account(server.port), on_step=steps.append) as session:
            session.open()
            delivery_ = session.send(
                "a@example.com", ["gone@x.test", "ok@x.test", "full@x.test"], MESSAGE
            )
            transcript = session.transcript.render()
    finally:
        server.stop()
    assert list(delivery_.accepted) == ["ok@x.test"]
    assert {a: r.code for a, r in delivery_.refused.items()} == {
        "gone@x.test": 550,
        "full@x.test": 452,
    }
    assert [m.rcpt_tos for m in server.messages] == [["ok@x.test"]]
    assert steps[-5:] == [Step.MAIL, Step.RCPT, Step.DATA, Step.FINAL_DOT, Step.DONE]
    assert transcript.count("C: DATA") == 1


def test_all_refused_with_data_pipelined_sends_no_data(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, tmp_path: Path
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING",))
    server = start_server(mode="plain", users=None, ca=ca, tmp_path=tmp_path, handler=Picky())
    steps: list[Step] = []
    try:
        with SmtpSession(relay_account(server.port), on_step=steps.append) as session:
            session.open()
            refused = session.send("a@example.com", ["gone@x.test", "full@x.test"], MESSAGE)
            session.reset()
            accepted = session.send("a@example.com", ["ok@x.test"], MESSAGE)
            transcript = session.transcript.render()
    finally:
        server.stop()
    assert refused.final is None and not refused.accepted
    assert accepted.final is not None and accepted.final.code == 250
    assert [m.rcpt_tos for m in server.messages] == [["ok@x.test"]]
    assert transcript.count("<message data") == 1  # only for the accepted message
    assert Step.FINAL_DOT not in steps[: steps.index(Step.DATA) + 1]


def test_a_server_that_wants_data_without_recipients_gets_none(scripted_server) -> None:
    received: list[bytes] = []

    def script(conn: socket.socket) -> None:
        with conn.makefile("rb") as lines:
            conn.sendall(b"220 odd.test ESMTP\r\n")
            for raw in lines:
                verb = raw[:4].upper()
                received.append(raw)
                if verb == b"EHLO":
                    conn.sendall(b"250-odd.test\r\n250 PIPELINING\r\n")
                elif verb == b"RCPT":
                    conn.sendall(b"550 5.1.1 no\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go on anyway\r\n")
                elif raw == b".\r\n":
                    conn.sendall(b"554 5.5.1 no valid recipients\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    host, port = scripted_server(script)
    with SmtpSession(relay_account(port)) as session:
        session.open()
        result = session.send("a@example.com", ["b@example.com"], MESSAGE)
    assert result.final is None
    after_data = received[[r[:4] for r in received].index(b"DATA") + 1 :]
    assert after_data[0] == b".\r\n"
    assert not any(b"leading dot" in line for line in received)
