"""CHUNKING (RFC 3030): BDAT chunks, no dot-stuffing, the same outcomes as DATA."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

from app.core import errors
from app.core.accounts.model import Account, Security
from app.core.smtp.session import MessageSource, SmtpSession, Step, Timeouts
from app.core.smtp.transaction import BDAT_CHUNK_SIZE
from tests.support.fast_server import use_fast_server
from tests.support.smtp_servers import RecordingHandler, RunningServer, start_server

BIG = b"Subject: big\r\n\r\n" + b"".join(b".%07d\r\n" % n for n in range(400_000))


def account(port: int) -> Account:
    return Account(
        name="relay", email="a@example.com", host="127.0.0.1", port=port, security=Security.NONE
    )


@pytest.fixture
def fast_server(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, tmp_path: Path
) -> Callable[..., RunningServer]:
    servers: list[RunningServer] = []

    def start(extensions: tuple[str, ...] = ("PIPELINING", "CHUNKING"), **kwargs: Any):
        use_fast_server(monkeypatch, extensions)
        server = start_server(mode="plain", users=None, ca=ca, tmp_path=tmp_path, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class RefuseAll(RecordingHandler):
    async def handle_RCPT(self, server, session, envelope, address, options):
        return "550 5.1.1 No such user"


@pytest.mark.parametrize("extensions", [("CHUNKING",), ("PIPELINING", "CHUNKING")])
def test_a_large_message_goes_in_several_chunks_with_progress(fast_server, extensions) -> None:
    server = fast_server(extensions)
    progress: list[tuple[int, int]] = []
    steps: list[Step] = []
    with SmtpSession(account(server.port), on_step=steps.append) as session:
        session.open()
        session.send(
            "a@example.com", ["b@example.com"], BIG, on_progress=lambda *p: progress.append(p)
        )
        transcript = session.transcript.render()
    assert server.messages[0].data == BIG  # no dot-stuffing and nothing lost
    chunks = len(BIG) // BDAT_CHUNK_SIZE + 1
    assert transcript.count("C: BDAT") == chunks
    assert transcript.count(" LAST") == 1 and "C: DATA" not in transcript
    assert progress[0] == (0, len(BIG)) and progress[-1] == (len(BIG), len(BIG))
    assert [sent for sent, _ in progress] == sorted(sent for sent, _ in progress)
    assert steps[-3:] == [Step.DATA, Step.FINAL_DOT, Step.DONE]


def test_all_refused_sends_no_chunk_of_a_large_message(fast_server) -> None:
    server = fast_server(handler=RefuseAll())
    with SmtpSession(account(server.port)) as session:
        session.open()
        result = session.send("a@example.com", ["x@example.com"], BIG)
        assert session.is_open
    assert result.final is None and list(result.refused) == ["x@example.com"]
    assert "BDAT" not in session.transcript.render()
    assert server.messages == []


def test_all_refused_small_message_is_discarded_by_the_server(fast_server) -> None:
    server = fast_server(handler=RefuseAll())
    with SmtpSession(account(server.port)) as session:
        session.open()
        result = session.send("a@example.com", ["x@example.com"], b"Subject: s\r\n\r\nhi\r\n")
        session.reset()
        again = session.send("a@example.com", ["y@example.com"], b"Subject: s\r\n\r\nhi\r\n")
    assert result.final is None and again.final is None
    assert server.messages == []  # the pipelined chunk was refused with 554, nothing delivered


def test_a_refused_final_chunk_is_a_classified_failure(fast_server) -> None:
    class Reject(RecordingHandler):
        reject = True

        async def handle_DATA(self, server, session, envelope):
            if self.reject:
                return "554 5.7.1 Rejected as spam"
            return await super().handle_DATA(server, session, envelope)

    handler = Reject()
    server = fast_server(handler=handler)
    with SmtpSession(account(server.port)) as session:
        session.open()
        with pytest.raises(errors.PermanentFailure) as caught:
            session.send("a@example.com", ["b@example.com"], BIG)
        assert caught.value.details["step"] == "final_dot"
        session.reset()
        handler.reject = False
        session.send("a@example.com", ["b@example.com"], b"Subject: ok\r\n\r\nok\r\n")
    assert len(server.messages) == 1


def chunk_server(after_last: Callable[[socket.socket], None], *, drop_mid: bool = False):
    """A scripted server offering CHUNKING; ``after_last`` runs once BDAT … LAST is read."""

    def script(conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        conn.sendall(b"220 chunky.test ESMTP\r\n")
        while line := reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-chunky.test\r\n250 CHUNKING\r\n")
            elif verb == b"BDAT":
                if drop_mid:
                    return
                size = int(line.split()[1])
                reader.read(size)
                if b"LAST" in line:
                    after_last(conn)
                    return
                conn.sendall(b"250 ok\r\n")
            else:
                conn.sendall(b"250 ok\r\n")

    return script


def test_drop_after_the_last_chunk_is_possibly_sent(scripted_server) -> None:
    host, port = scripted_server(chunk_server(lambda conn: None))
    steps: list[Step] = []
    with SmtpSession(account(port), on_step=steps.append) as session:
        session.open()
        with pytest.raises(errors.PossiblySent):
            session.send("a@example.com", ["b@example.com"], BIG)
    assert steps[-1] is Step.FINAL_DOT


def test_drop_before_the_last_chunk_is_not_possibly_sent(scripted_server) -> None:
    host, port = scripted_server(chunk_server(lambda conn: None, drop_mid=True))
    steps: list[Step] = []
    with SmtpSession(account(port), on_step=steps.append) as session:
        session.open()
        with pytest.raises(errors.ConnectionLost) as caught:
            session.send("a@example.com", ["b@example.com"], BIG)
    assert not isinstance(caught.value, errors.PossiblySent)
    assert Step.FINAL_DOT not in steps


def test_cancel_between_chunks(scripted_server) -> None:
    release = threading.Event()

    def stall(conn: socket.socket) -> None:
        release.wait(5)

    host, port = scripted_server(chunk_server(stall))
    steps: list[Step] = []
    session = SmtpSession(account(port), on_step=steps.append, timeouts=Timeouts(command=5))
    session.open()

    def on_progress(sent: int, total: int) -> None:
        if sent >= BDAT_CHUNK_SIZE:
            session.cancel()

    with pytest.raises(errors.Cancelled), session:
        session.send("a@example.com", ["b@example.com"], BIG, on_progress=on_progress)
    release.set()
    assert Step.FINAL_DOT not in steps


def test_a_spool_file_is_sent_in_chunks(fast_server, tmp_path: Path) -> None:
    server = fast_server()
    path = tmp_path / "message.eml"
    path.write_bytes(BIG)
    with SmtpSession(account(server.port)) as session:
        session.open()
        session.send("a@example.com", ["b@example.com"], MessageSource.of_file(path))
    assert server.messages[0].data == BIG
