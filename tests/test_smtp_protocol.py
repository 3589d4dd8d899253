"""The SMTP protocol core with byte fixtures, no sockets: what goes on the wire and what it meant.

These bytes are what a user's mail depends on: a wrong group boundary is a
message sent twice or to the wrong people, a lost dot is a corrupted message.
"""

from __future__ import annotations

import base64
import json
from collections import deque
from dataclasses import dataclass, field

import pytest

from app.core.smtp import sasl
from app.core.smtp.actions import (
    Announce,
    Commit,
    Note,
    Outcome,
    Plan,
    Progress,
    Receive,
    Refused,
    Send,
    Settled,
)
from app.core.smtp.protocol import (
    MAX_LINE,
    Capabilities,
    DotStuffer,
    ProtocolViolation,
    ReplyParser,
    command,
)
from app.core.smtp.reply import Reply
from app.core.smtp.source import MessageSource
from app.core.smtp.steps import Step
from app.core.smtp.transaction import (
    BDAT_CHUNK_SIZE,
    CHUNK_SIZE,
    PIPELINED_DATA_LIMIT,
    Envelope,
    Mode,
    plan,
)

MESSAGE = b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n"
OK = b"250 2.0.0 ok\r\n"
GO_AHEAD = b"354 go ahead\r\n"
QUEUED = b"250 2.0.0 queued as 1\r\n"
BOTH = Mode(pipelined=True, chunked=True)
PIPELINING_ONLY = Mode(pipelined=True, chunked=False)
NEITHER = Mode(pipelined=False, chunked=False)


def envelope(count: int = 1, mail: str = "FROM:<a@example.com>") -> Envelope:
    return Envelope(mail, tuple(f"r{n}@example.com" for n in range(1, count + 1)))


@dataclass
class Run:
    """What a plan did against a server that says ``server`` (parsed as the plan reads)."""

    writes: list[bytes] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    outcome: Outcome | None = None

    @property
    def wire(self) -> bytes:
        return b"".join(self.writes)


def drive(steps: Plan, server: bytes, run: Run | None = None) -> Run:
    """Carry out the plan like the real driver, with the server's bytes given up front."""
    replies = deque(ReplyParser().feed(server))
    run = run if run is not None else Run()
    try:
        action = next(steps)
        while True:
            answer: list[Reply] = []
            if isinstance(action, Send):
                run.writes.append(action.data)
                run.log.append("send " + (" | ".join(action.lines) or f"<{len(action.data)}>"))
            elif isinstance(action, Receive):
                for _ in action.steps:
                    answer.append(replies.popleft())
                    if answer[-1].code == 421:
                        break
                run.log.append(f"receive {len(answer)}")
            elif isinstance(action, Announce):
                run.log.append(f"announce {action.step}")
            elif isinstance(action, Commit):
                run.log.append("commit")
            elif isinstance(action, Settled):
                run.log.append("settled")
            elif isinstance(action, Progress):
                run.log.append(f"progress {action.sent}/{action.total}")
            else:
                assert isinstance(action, Note)
            action = steps.send(answer)
    except StopIteration as finished:
        run.outcome = finished.value
    assert not replies, "the plan read fewer replies than the server sent"
    return run


def stuffed(data: bytes) -> bytes:
    stuffer = DotStuffer()
    return stuffer.feed(data) + stuffer.end()


# -- replies ------------------------------------------------------------------------

SERVER_SAYS = (
    b"220 mx.example.com ESMTP\r\n"
    b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 AUTH PLAIN LOGIN\r\n"
    b"250 2.1.0 ok\r\n550 5.1.1 no such user\r\n354 go ahead\r\n"
)
EXPECTED = [
    Reply(220, ("mx.example.com ESMTP",)),
    Reply(250, ("mx.example.com", "PIPELINING", "SIZE 1000", "AUTH PLAIN LOGIN")),
    Reply(250, ("2.1.0 ok",)),
    Reply(550, ("5.1.1 no such user",)),
    Reply(354, ("go ahead",)),
]


def test_several_replies_in_one_read_come_out_in_order() -> None:
    assert ReplyParser().feed(SERVER_SAYS) == EXPECTED


@pytest.mark.parametrize("cut", range(len(SERVER_SAYS) + 1))
def test_replies_cut_at_any_byte_parse_the_same(cut: int) -> None:
    parser = ReplyParser()
    assert parser.feed(SERVER_SAYS[:cut]) + parser.feed(SERVER_SAYS[cut:]) == EXPECTED
    assert not parser.pending


def test_replies_fed_byte_by_byte_parse_the_same() -> None:
    parser = ReplyParser()
    replies = [
        reply for i in range(len(SERVER_SAYS)) for reply in parser.feed(SERVER_SAYS[i : i + 1])
    ]
    assert replies == EXPECTED
    assert parser.lines[:2] == ["220 mx.example.com ESMTP", "250-mx.example.com"]


def test_a_partial_reply_waits_for_the_rest() -> None:
    parser = ReplyParser()
    assert parser.feed(b"250-first\r\n250 sec") == []
    assert parser.pending
    assert parser.feed(b"ond\r\n") == [Reply(250, ("first", "second"))]


def test_bare_lf_and_a_code_without_text_are_replies() -> None:
    assert ReplyParser().feed(b"250\n221 bye\n") == [Reply(250, ("",)), Reply(221, ("bye",))]


def test_a_line_of_the_maximum_length_is_taken() -> None:
    line = b"250 " + b"x" * (MAX_LINE - 6) + b"\r\n"
    assert len(line) == MAX_LINE
    assert ReplyParser().feed(line)[0].code == 250


@pytest.mark.parametrize("ending", [b"", b"\r\n"])
def test_a_longer_line_is_a_protocol_error(ending: bytes) -> None:
    with pytest.raises(ProtocolViolation, match="too long"):
        ReplyParser().feed(b"250 " + b"x" * (MAX_LINE - 3) + ending)


def test_a_reply_in_latin_1_is_read_not_refused() -> None:
    """Old servers answer in their locale's encoding: the code counts, the text is best effort."""
    parser = ReplyParser()
    assert parser.feed(b"550 5.1.1 Empf\xe4nger unbekannt\r\n") == [
        Reply(550, ("5.1.1 Empf\ufffdnger unbekannt",))
    ]
    assert parser.lines == ["550 5.1.1 Empf\ufffdnger unbekannt"]


@pytest.mark.parametrize(
    "garbage",
    [b"HTTP/1.1 400 Bad Request\r\n", b"25 short\r\n", b"2500 ok\r\n", b"\x16\x03\x01\x02\r\n"],
)
def test_what_is_not_smtp_is_a_protocol_error(garbage: bytes) -> None:
    with pytest.raises(ProtocolViolation, match="not an SMTP reply"):
        ReplyParser().feed(garbage)


# -- EHLO -------------------------------------------------------------------------


def test_capabilities_from_ehlo() -> None:
    reply = ReplyParser().feed(
        b"250-smtp.example.com at your service\r\n250-size 35882577\r\n250-8BITMIME\r\n"
        b"250-StartTLS\r\n250-AUTH login plain XOAUTH2\r\n250-AUTH=LOGIN\r\n"
        b"250-ENHANCEDSTATUSCODES\r\n250-Pipelining\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n"
    )[0]
    offered = Capabilities.from_reply(reply)
    assert offered.max_size == 35882577 and offered.size
    assert offered.auth == ("LOGIN", "PLAIN", "XOAUTH2")
    assert offered.pipelining and offered.chunking and offered.smtputf8
    assert offered.eightbitmime and offered.starttls
    assert offered.offers("enhancedstatuscodes")
    # The first line is the server's name, not an extension.
    assert not offered.offers("SMTP.EXAMPLE.COM")


def test_size_without_a_limit_and_a_bare_server() -> None:
    offered = Capabilities.from_reply(Reply(250, ("mx", "SIZE")))
    assert offered.size and offered.max_size is None
    bare = Capabilities.from_reply(Reply(250, ("mx greets you",)))
    assert not bare.keywords and bare.auth == () and not bare.pipelining


def test_old_style_auth_equals_is_understood() -> None:
    assert Capabilities.from_reply(Reply(250, ("mx", "AUTH=PLAIN LOGIN"))).auth == (
        "PLAIN",
        "LOGIN",
    )


# -- commands and data ---------------------------------------------------------------


def test_a_command_is_one_line() -> None:
    assert (
        command("RCPT TO:<jörg@example.com>", "utf-8") == "RCPT TO:<jörg@example.com>\r\n".encode()
    )
    with pytest.raises(ValueError, match="one line"):
        command("MAIL FROM:<a@example.com>\r\nRCPT TO:<victim@example.com>")
    with pytest.raises(UnicodeEncodeError):
        command("RCPT TO:<jörg@example.com>")  # no SMTPUTF8: the address cannot go out


def test_dot_stuffing_does_not_depend_on_where_the_message_is_cut() -> None:
    data = b".one\r\n..two\r\n.\r\nmid.dle\r\n.\r\nlast"
    whole = stuffed(data)
    assert whole == b"..one\r\n...two\r\n..\r\nmid.dle\r\n..\r\nlast\r\n"
    for cut in range(len(data) + 1):
        stuffer = DotStuffer()
        assert stuffer.feed(data[:cut]) + stuffer.feed(data[cut:]) + stuffer.end() == whole


# -- transactions ----------------------------------------------------------------------


def test_one_recipient_pipelined_with_data() -> None:
    run = drive(
        plan(envelope(), MessageSource.of_bytes(MESSAGE), PIPELINING_ONLY),
        OK * 2 + GO_AHEAD + QUEUED,
    )
    assert run.writes == [
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<r1@example.com>\r\nDATA\r\n",
        stuffed(MESSAGE),
        b".\r\n",
    ]
    assert run.log == [
        "announce mail",
        "announce rcpt",
        "announce data",
        "send MAIL FROM:<a@example.com> | RCPT TO:<r1@example.com> | DATA",
        "receive 3",
        f"progress 0/{len(MESSAGE) + 1}",
        f"send <{len(MESSAGE) + 1}>",
        f"progress {len(MESSAGE) + 1}/{len(MESSAGE) + 1}",
        "announce final_dot",
        "commit",
        "send .",
        "receive 1",
        "settled",
    ]
    assert run.outcome is not None and run.outcome.final == Reply(250, ("2.0.0 queued as 1",))
    assert list(run.outcome.accepted) == ["r1@example.com"]


def test_a_small_message_rides_with_the_envelope_as_bdat_last() -> None:
    data = b"Subject: x\r\n\r\nno final newline"
    run = drive(plan(envelope(2), MessageSource.of_bytes(data), BOTH), OK * 3 + QUEUED)
    payload = data + b"\r\n"  # the same bytes arrive as with DATA
    assert run.writes == [
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<r1@example.com>\r\nRCPT TO:<r2@example.com>\r\n"
        + f"BDAT {len(payload)} LAST\r\n".encode()
        + payload
    ]
    # The outbox hears FINAL_DOT before the one write that may deliver: "possibly sent" after it.
    assert run.log[:4] == ["announce mail", "announce rcpt", "announce data", "announce final_dot"]
    assert run.log[4:7] == ["commit", f"progress 0/{len(payload)}", run.log[6]]
    assert run.log[6].startswith("send MAIL") and run.log[-2:] == ["receive 4", "settled"]


def test_a_pending_rset_goes_in_the_same_write_as_mail() -> None:
    mode = Mode(pipelined=True, chunked=True, rset_first=True)
    run = drive(plan(envelope(), MessageSource.of_bytes(MESSAGE), mode), OK * 3 + QUEUED)
    assert run.writes[0].startswith(b"RSET\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:")
    assert len(run.writes) == 1


def test_a_pending_rset_without_pipelining_is_its_own_round_trip() -> None:
    mode = Mode(pipelined=False, chunked=False, rset_first=True)
    run = drive(plan(envelope(), MessageSource.of_bytes(MESSAGE), mode), OK * 3 + GO_AHEAD + QUEUED)
    assert run.writes[:2] == [b"RSET\r\n", b"MAIL FROM:<a@example.com>\r\n"]


def test_250_recipients_go_in_groups_of_100_then_10() -> None:
    run = drive(
        plan(envelope(250), MessageSource.of_bytes(MESSAGE), PIPELINING_ONLY),
        OK * 251 + GO_AHEAD + QUEUED,
    )
    rcpt_writes = [w for w in run.writes if w.startswith(b"RCPT")]
    assert run.writes[0] == b"MAIL FROM:<a@example.com>\r\n"
    assert [w.count(b"RCPT TO:") for w in rcpt_writes] == [100] + [10] * 15
    assert rcpt_writes[1].startswith(b"RCPT TO:<r101@example.com>\r\n")
    assert run.writes[-3:] == [b"DATA\r\n", stuffed(MESSAGE), b".\r\n"]
    assert run.outcome is not None and len(run.outcome.accepted) == 250


def test_452_at_recipient_101_leaves_the_rest_for_a_later_transaction() -> None:
    too_many = b"452 4.5.3 Too many recipients\r\n"
    run = drive(
        plan(envelope(250), MessageSource.of_bytes(MESSAGE), PIPELINING_ONLY),
        OK * 101 + too_many * 10 + GO_AHEAD + QUEUED,
    )
    # No RCPT after the group that met the 452; the message goes to the first 100.
    assert [w.count(b"RCPT TO:") for w in run.writes if w.startswith(b"RCPT")] == [100, 10]
    outcome = run.outcome
    assert outcome is not None and outcome.final is not None
    assert len(outcome.accepted) == 100 and not outcome.refused
    assert list(outcome.untried)[:2] == ["r101@example.com", "r102@example.com"]
    assert len(outcome.untried) == 150
    assert {reply.enhanced for reply in outcome.untried.values()} == {"4.5.3"}


def test_a_full_mailbox_452_is_one_refusal_not_a_limit() -> None:
    full = b"452 4.2.2 Mailbox full\r\n"
    run = drive(
        plan(envelope(3), MessageSource.of_bytes(MESSAGE), BOTH), OK * 2 + full + OK + QUEUED
    )
    assert run.outcome is not None
    assert list(run.outcome.refused) == ["r2@example.com"] and not run.outcome.untried


def test_all_refused_small_message_is_sent_and_discarded() -> None:
    no = b"550 5.1.1 no such user\r\n"
    run = drive(
        plan(envelope(2), MessageSource.of_bytes(MESSAGE), BOTH),
        OK + no * 2 + b"554 5.5.1 no valid recipients\r\n",
    )
    assert len(run.writes) == 1 and run.writes[0].endswith(MESSAGE)
    assert run.outcome is not None and run.outcome.final is None
    assert set(run.outcome.refused) == {"r1@example.com", "r2@example.com"}


def test_all_refused_large_message_sends_no_data() -> None:
    large = MessageSource.of_bytes(b"x" * (PIPELINED_DATA_LIMIT + 1))
    no = b"550 5.1.1 no such user\r\n"
    run = drive(plan(envelope(2), large, BOTH), OK + no * 2)
    assert run.writes == [
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<r1@example.com>\r\nRCPT TO:<r2@example.com>\r\n"
    ]
    assert run.outcome is not None and run.outcome.final is None
    assert "announce final_dot" not in run.log and "commit" not in run.log


def test_all_refused_with_data_pipelined_ends_a_354_with_an_empty_message() -> None:
    no = b"550 5.1.1 no such user\r\n"
    run = drive(
        plan(envelope(), MessageSource.of_bytes(MESSAGE), PIPELINING_ONLY),
        OK + no + GO_AHEAD + b"554 no valid recipients\r\n",
    )
    assert run.writes[1:] == [b".\r\n"]  # the message itself never leaves
    assert run.outcome is not None and run.outcome.final is None


def test_data_is_dot_stuffed_across_pieces() -> None:
    # A line starting with a dot right where one piece of CHUNK_SIZE ends and the next begins.
    data = b"x" * (CHUNK_SIZE - 2) + b"\r\n.dot at the cut\r\n" + b".\r\n" * 3 + b"end"
    run = drive(plan(envelope(), MessageSource.of_bytes(data), NEITHER), OK * 2 + GO_AHEAD + QUEUED)
    data_writes = run.writes[3:-1]
    assert len(data_writes) == 2  # two pieces, each its own write
    assert b"".join(data_writes) == stuffed(data)
    assert b"\r\n..dot at the cut\r\n" in b"".join(data_writes)
    assert run.writes[-1] == b".\r\n"


def test_pipelining_off_writes_one_command_at_a_time() -> None:
    run = drive(
        plan(envelope(2), MessageSource.of_bytes(MESSAGE), NEITHER), OK * 3 + GO_AHEAD + QUEUED
    )
    assert run.writes[:4] == [
        b"MAIL FROM:<a@example.com>\r\n",
        b"RCPT TO:<r1@example.com>\r\n",
        b"RCPT TO:<r2@example.com>\r\n",
        b"DATA\r\n",
    ]
    sends = [i for i, line in enumerate(run.log) if line.startswith("send")]
    assert all(run.log[i + 1] == "receive 1" for i in sends[:4])


def test_chunking_without_pipelining_waits_for_every_chunk() -> None:
    data = b"y" * (2 * BDAT_CHUNK_SIZE + 10) + b"\r\n"
    run = drive(plan(envelope(), MessageSource.of_bytes(data), Mode(False, True)), OK * 4 + QUEUED)
    assert [w[: w.index(b"\r\n")] for w in run.writes[2:]] == [
        b"BDAT 1048576",
        b"BDAT 1048576",
        b"BDAT 12 LAST",
    ]
    assert run.log.count("receive 1") == 5


def test_a_5_mib_message_keeps_4_bdat_chunks_in_flight() -> None:
    data = b"z" * (5 * BDAT_CHUNK_SIZE - 2) + b"\r\n"
    run = drive(plan(envelope(), MessageSource.of_bytes(data), BOTH), OK * 2 + OK * 4 + QUEUED)
    headers = [w[: w.index(b"\r\n")] for w in run.writes[1:]]
    assert headers == [b"BDAT 1048576"] * 4 + [b"BDAT 1048576 LAST"]
    assert b"".join(w[w.index(b"\r\n") + 2 :] for w in run.writes[1:]) == data
    io = [line for line in run.log if line.startswith(("send", "receive", "commit"))]
    assert io == [
        "send MAIL FROM:<a@example.com> | RCPT TO:<r1@example.com>",
        "receive 2",
        *["send BDAT 1048576"] * 4,
        "receive 1",  # the 4th chunk is written before the 1st is acknowledged
        *["receive 1"] * 3,
        "commit",
        "send BDAT 1048576 LAST",
        "receive 1",
    ]


def test_a_refused_chunk_drains_the_chunks_in_flight() -> None:
    data = b"z" * (5 * BDAT_CHUNK_SIZE)
    server = OK * 2 + b"552 5.3.4 too big\r\n" + b"503 5.5.1 no\r\n" * 3
    with pytest.raises(Refused) as refused:
        drive(plan(envelope(), MessageSource.of_bytes(data), BOTH), server)
    assert refused.value.step is Step.DATA and refused.value.reply.code == 552


def test_a_421_in_the_middle_of_a_pipelined_group_ends_the_transaction() -> None:
    with pytest.raises(Refused) as refused:
        drive(
            plan(envelope(3), MessageSource.of_bytes(MESSAGE), PIPELINING_ONLY),
            OK + OK + b"421 4.3.2 going down\r\n",
        )
    assert refused.value.step is Step.RCPT and refused.value.reply.code == 421


def test_a_refused_sender_is_refused_at_mail() -> None:
    with pytest.raises(Refused) as refused:
        drive(
            plan(envelope(), MessageSource.of_bytes(MESSAGE), PIPELINING_ONLY),
            b"550 5.7.1 not you\r\n" + b"503 5.5.1 need MAIL\r\n" * 2,
        )
    assert refused.value.step is Step.MAIL


@pytest.mark.parametrize("mode", [BOTH, PIPELINING_ONLY, NEITHER, Mode(False, True)])
@pytest.mark.parametrize("size", [10, PIPELINED_DATA_LIMIT + 1, 2 * BDAT_CHUNK_SIZE + 3])
def test_commit_comes_just_before_the_write_that_may_deliver(mode: Mode, size: int) -> None:
    """Cancel works until this point and never after: the user must not cancel a sent message."""
    data = b"m" * size
    chunks = -(-size // BDAT_CHUNK_SIZE) if mode.chunked else 0
    server = OK * 2 + (OK * (chunks - 1) if mode.chunked else GO_AHEAD) + QUEUED
    run = drive(plan(envelope(), MessageSource.of_bytes(data), mode), server)
    commit = run.log.index("commit")
    assert run.log.count("commit") == 1
    assert run.log[commit - 1] == "announce final_dot"
    after = [line for line in run.log[commit + 1 :] if not line.startswith("progress")]
    assert len(after) == 3 and after[1].startswith("receive") and after[2] == "settled"
    assert after[0] == "send ." or after[0].endswith(" LAST")  # the one write that ends it


# -- authentication ----------------------------------------------------------------------


def exchange(steps: sasl.Exchange | object, replies: list[Reply]) -> tuple[list[str], object]:
    """Run an exchange: the lines it sends, and what it returns."""
    assert hasattr(steps, "send")
    sent = [steps.send(None)]  # type: ignore[attr-defined]
    try:
        for reply in replies:
            sent.append(steps.send(reply))  # type: ignore[attr-defined]
    except StopIteration as finished:
        return sent, finished.value
    raise AssertionError("the exchange wanted more replies")


ERROR = {"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"}
CHALLENGE = Reply(334, (base64.b64encode(json.dumps(ERROR).encode()).decode(),))
REFUSED = Reply(535, ("5.7.8 Username and Password not accepted",))


@pytest.mark.parametrize(("mechanism", "answer"), [("XOAUTH2", ""), ("OAUTHBEARER", "AQ==")])
def test_a_bearer_error_challenge_is_answered_then_refused(mechanism: str, answer: str) -> None:
    response = sasl.initial_response(mechanism, "me@example.com", "tok", "smtp.example.com", 587)
    sent, result = exchange(sasl.bearer_exchange(mechanism, response), [CHALLENGE, REFUSED])
    assert sent == [f"AUTH {mechanism} {response}", answer]
    assert result == (REFUSED, ERROR)


def test_an_accepted_bearer_token_needs_no_answer() -> None:
    accepted = Reply(235, ("2.7.0 Accepted",))
    sent, result = exchange(sasl.bearer_exchange("XOAUTH2", "abc"), [accepted])
    assert sent == ["AUTH XOAUTH2 abc"] and result == (accepted, {})


def test_plain_and_login_exchanges_in_utf8() -> None:
    ok = Reply(235, ("ok",))
    sent, result = exchange(sasl.password_exchange("PLAIN", "jörg", "pässword"), [ok])
    assert sent == ["AUTH PLAIN " + base64.b64encode("\0jörg\0pässword".encode()).decode()]
    assert result == ok
    go = Reply(334, ("VXNlcm5hbWU6",))
    sent, result = exchange(sasl.password_exchange("LOGIN", "jörg", "pw"), [go, go, ok])
    assert sent == ["AUTH LOGIN", base64.b64encode("jörg".encode()).decode(), "cHc="]
    # A 334 to PLAIN's initial response is ended with "*", not left hanging.
    sent, _ = exchange(sasl.password_exchange("PLAIN", "u", "p"), [go, REFUSED])
    assert sent[-1] == "*"


def test_a_421_to_a_chunk_waits_for_no_reply_to_the_chunks_in_flight() -> None:
    """After 421 the server says nothing more: waiting for 3 replies would hang until timeout."""
    data = b"z" * (5 * BDAT_CHUNK_SIZE)
    with pytest.raises(Refused) as refused:
        drive(
            plan(envelope(), MessageSource.of_bytes(data), BOTH),
            OK * 2 + b"421 4.3.2 shutting down\r\n",
        )
    assert refused.value.step is Step.DATA and refused.value.reply.code == 421


def test_a_refused_sender_with_a_354_anyway_gets_an_empty_message_not_rset() -> None:
    """A server that says 354 after refusing MAIL reads whatever follows as the message."""
    run = Run()
    with pytest.raises(Refused) as refused:
        drive(
            plan(envelope(), MessageSource.of_bytes(MESSAGE), PIPELINING_ONLY),
            b"550 5.7.1 not you\r\n503 5.5.1 need MAIL\r\n" + GO_AHEAD + b"554 no\r\n",
            run,
        )
    assert refused.value.step is Step.MAIL
    assert run.writes[1:] == [b".\r\n"]  # the message itself never leaves
