"""One mail transaction planned without I/O: what to write, what to read, what it meant.

``plan`` is a generator. It yields actions (``Announce`` a step, ``Send`` bytes,
``Receive`` replies, ...) and is sent back the replies each ``Receive`` asked
for; it returns the ``Outcome`` or raises ``Refused`` for a reply that ends the
transaction. The driver (``transfer.Sender``) does the I/O; tests drive it with
byte fixtures. The wire behaviour, per ``transfer``'s docstring:

- PIPELINING: [RSET,] MAIL, every RCPT and DATA in one write; with CHUNKING a
  message of at most ``PIPELINED_DATA_LIMIT`` bytes rides along as ``BDAT n LAST``.
- More than ``RCPT_GROUP`` recipients: MAIL alone, then RCPTs in groups of
  ``RCPT_GROUP``, then ``RCPT_GROUP_PAST_100``; the first 452 ends the list.
- CHUNKING: ``BDAT`` chunks of ``BDAT_CHUNK_SIZE``, ``BDAT_WINDOW`` in flight.
- ``Commit`` marks the write after which the server may have the message.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass

from app.core.smtp.actions import (
    Action,
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
from app.core.smtp.protocol import DotStuffer, bdat_line, command, commands
from app.core.smtp.reply import Reply
from app.core.smtp.source import MessageSource
from app.core.smtp.steps import Step

_Replying = Generator[Action, Sequence[Reply], Reply]  # a part of a plan that ends in a reply

CHUNK_SIZE = 64 * 1024  # pieces of DATA between progress reports and cancel checks
BDAT_CHUNK_SIZE = 1024 * 1024  # one BDAT chunk
BDAT_WINDOW = 4  # pipelined BDAT chunks in flight before waiting for a reply
PIPELINED_DATA_LIMIT = CHUNK_SIZE  # at most this much is sent before RCPT replies are in
RCPT_GROUP = 100  # RCPTs pipelined in one write; RFC 5321 §4.5.3.1.8 minimum per transaction
RCPT_GROUP_PAST_100 = 10  # later groups: few enough that a 452 costs few errors
TOO_MANY_RECIPIENTS = 452  # RFC 5321 §4.5.3.1.10: this transaction takes no more


@dataclass(frozen=True)
class Envelope:
    """MAIL's arguments (``FROM:<a> SIZE=…``), the recipients, and how to write it."""

    mail: str
    recipients: tuple[str, ...]
    encoding: str = "ascii"  # "utf-8" with SMTPUTF8


@dataclass(frozen=True)
class Mode:
    """The fast paths in use on this connection, and whether an RSET is owed first."""

    pipelined: bool
    chunked: bool
    rset_first: bool = False


def plan(envelope: Envelope, source: MessageSource, mode: Mode) -> Plan:
    """The whole transaction for ``envelope`` and the message in ``source``."""
    if mode.pipelined and len(envelope.recipients) <= RCPT_GROUP:
        return (yield from _pipelined(envelope, source, mode))
    return (yield from _stepwise(envelope, source, mode))


def _expect(step: Step, reply: Reply, code: int) -> None:
    """Raise ``Refused`` unless ``reply`` has ``code``."""
    if reply.code != code:
        raise Refused(step, reply)


def _too_many(reply: Reply) -> bool:
    """A 452 for the transaction (4.5.3, "too many recipients"), not one mailbox's (4.2.2)."""
    if reply.code != TOO_MANY_RECIPIENTS:
        return False
    return reply.enhanced == "4.5.3" or "too many" in reply.text.lower()


def _stepwise(envelope: Envelope, source: MessageSource, mode: Mode) -> Plan:
    """MAIL alone, RCPTs one by one (or in groups when pipelining), then the message."""
    if mode.rset_first:
        _expect(Step.DONE, (yield from _command("RSET", Step.DONE, envelope)), 250)
    yield Announce(Step.MAIL)
    _expect(Step.MAIL, (yield from _command(f"MAIL {envelope.mail}", Step.MAIL, envelope)), 250)
    yield Announce(Step.RCPT)
    replies: list[Reply] = []
    recipients = envelope.recipients
    while len(replies) < len(recipients):
        size = (RCPT_GROUP if not replies else RCPT_GROUP_PAST_100) if mode.pipelined else 1
        lines = tuple(f"RCPT TO:<{a}>" for a in recipients[len(replies) : len(replies) + size])
        yield Send(commands(lines, envelope.encoding), lines, Step.RCPT)
        group = yield Receive((Step.RCPT,) * len(lines))
        replies += group
        if len(group) < len(lines) or any(r.code == 421 or _too_many(r) for r in group):
            break
    outcome = _sort(recipients, iter(replies))
    if not outcome.accepted:
        return outcome
    if mode.chunked:
        return _with_final(outcome, (yield from _chunks(source, mode)))
    yield Announce(Step.DATA)
    _expect(Step.DATA, (yield from _command("DATA", Step.DATA, envelope)), 354)
    return _with_final(outcome, (yield from _data(source)))


def _pipelined(envelope: Envelope, source: MessageSource, mode: Mode) -> Plan:
    """[RSET,] MAIL, RCPTs and DATA (or a small ``BDAT LAST``) in one write."""
    lines = ["RSET"] if mode.rset_first else []
    lines += [f"MAIL {envelope.mail}", *(f"RCPT TO:<{a}>" for a in envelope.recipients)]
    steps = [Step.MAIL] * (len(lines) - len(envelope.recipients))
    steps += [Step.RCPT] * len(envelope.recipients)
    yield Announce(Step.MAIL)
    yield Announce(Step.RCPT)
    if not mode.chunked:
        yield Announce(Step.DATA)
        lines.append("DATA")
        steps.append(Step.DATA)
    elif source.size <= PIPELINED_DATA_LIMIT:
        return (yield from _pipelined_small(envelope, lines, source, mode))
    yield Send(commands(lines, envelope.encoding), tuple(lines), Step.MAIL)
    got = yield Receive(tuple(steps))
    replies = iter(got)
    # A server that says 354 to DATA after refusing MAIL or every RCPT gets an empty message.
    wants_data = not mode.chunked and len(got) == len(steps) and got[-1].code == 354
    try:
        _check_envelope(replies, mode)
        outcome = _sort(envelope.recipients, replies)
    except Refused:
        if wants_data:
            yield from _command(".", Step.DATA, envelope)
        raise
    if mode.chunked:
        if not outcome.accepted:
            return outcome
        return _with_final(outcome, (yield from _chunks(source, mode)))
    data_reply = _next(replies, Step.DATA)
    if not outcome.accepted:
        if wants_data:
            yield from _command(".", Step.DATA, envelope)
        return outcome
    _expect(Step.DATA, data_reply, 354)
    return _with_final(outcome, (yield from _data(source)))


def _pipelined_small(
    envelope: Envelope, lines: list[str], source: MessageSource, mode: Mode
) -> Plan:
    """MAIL, RCPT… and ``BDAT n LAST`` with the whole message: one round trip.

    Safe before the RCPT replies are known: a chunk in a transaction without a
    valid recipient is read and discarded by the server (RFC 3030).
    """
    payload = source.read_all() + source.ending()
    lines.append(bdat_line(len(payload), last=True))
    yield Announce(Step.DATA)
    yield Announce(Step.FINAL_DOT)
    yield Commit()
    yield Progress(0, len(payload))
    yield Send(commands(lines, envelope.encoding) + payload, tuple(lines), Step.FINAL_DOT)
    yield Note(f"<message data: {len(payload)} bytes>")
    yield Progress(len(payload), len(payload))
    replies = iter((yield Receive((Step.FINAL_DOT,) * len(lines))))
    yield Settled()
    _check_envelope(replies, mode)
    outcome = _sort(envelope.recipients, replies)
    final = _next(replies, Step.FINAL_DOT)
    if not outcome.accepted:  # the server discarded the chunk: nothing was delivered
        return outcome
    _expect(Step.FINAL_DOT, final, 250)
    return _with_final(outcome, final)


def _data(source: MessageSource) -> _Replying:
    """After 354: the dot-stuffed message in pieces, then the final dot."""
    total = _wire_size(source)
    yield Note(f"<message data: {total} bytes>")
    yield Progress(0, total)
    stuffer = DotStuffer()
    sent = 0
    for piece, last in source.pieces(CHUNK_SIZE):
        wire = stuffer.feed(piece) + (stuffer.end() if last else b"")
        yield Send(wire, (), Step.DATA)
        sent += len(wire)
        yield Progress(sent, total)
    return (yield from _finish(Send(command("."), (".",), Step.DATA)))


def _chunks(source: MessageSource, mode: Mode) -> _Replying:
    """BDAT chunks (``BDAT_WINDOW`` in flight when pipelining), the last one LAST."""
    ending = source.ending()  # the same bytes arrive as with DATA
    total = source.size + len(ending)
    yield Announce(Step.DATA)
    yield Note(f"<message data: {total} bytes in BDAT chunks>")
    window = BDAT_WINDOW if mode.pipelined else 1
    outstanding = sent = 0
    yield Progress(0, total)
    final_piece = b""
    for piece, last in source.pieces(BDAT_CHUNK_SIZE):
        if last:
            final_piece = piece + ending
            break
        yield _bdat(piece, last=False)
        outstanding += 1
        sent += len(piece)
        if outstanding >= window:
            yield from _collect(outstanding - (window - 1), outstanding)
            outstanding = window - 1
        yield Progress(sent, total)
    yield from _collect(outstanding, outstanding)
    reply = yield from _finish(_bdat(final_piece, last=True))
    yield Progress(total, total)
    return reply


def _collect(count: int, outstanding: int) -> Generator[Action, Sequence[Reply], None]:
    """Read ``count`` chunk replies; after a refusal, drain the rest and raise."""
    for done in range(count):
        (reply,) = yield Receive((Step.DATA,))
        if reply.code != 250:
            in_flight = outstanding - done - 1
            if in_flight and reply.code != 421:  # the server discards them, answering each
                yield Receive((Step.DATA,) * in_flight)
            raise Refused(Step.DATA, reply)  # after a 421 nothing more comes


def _finish(write_end: Send) -> _Replying:
    """Announce FINAL_DOT, write the end of the message, read the verdict."""
    yield Announce(Step.FINAL_DOT)
    yield Commit()
    yield write_end  # blamed on DATA: until it is written the server cannot have it
    (reply,) = yield Receive((Step.FINAL_DOT,))
    yield Settled()
    _expect(Step.FINAL_DOT, reply, 250)
    return reply


def _bdat(chunk: bytes, *, last: bool) -> Send:
    line = bdat_line(len(chunk), last=last)
    return Send(command(line) + chunk, (line,), Step.DATA)


def _command(line: str, step: Step, envelope: Envelope) -> _Replying:
    """One command and its reply."""
    yield Send(command(line, envelope.encoding), (line,), step)
    return _next(iter((yield Receive((step,)))), step)


def _check_envelope(replies: Iterator[Reply], mode: Mode) -> None:
    """Raise for a refused RSET or MAIL FROM (the RCPT replies then say 503)."""
    if mode.rset_first:
        _expect(Step.MAIL, _next(replies, Step.MAIL), 250)
    _expect(Step.MAIL, _next(replies, Step.MAIL), 250)


def _sort(recipients: Sequence[str], replies: Iterator[Reply]) -> Outcome:
    """Accepted, refused, and those not offered (or refused) after the first 452."""
    outcome = Outcome({}, {}, None)
    stop: Reply | None = None
    for address in recipients:
        reply = next(replies, None)  # none after a 452 when sent one at a time
        if reply is not None and reply.code == 421:
            raise Refused(Step.RCPT, reply)
        if reply is not None and 200 <= reply.code < 300:
            outcome.accepted[address] = reply
        elif stop is None and reply is not None and _too_many(reply):
            stop = outcome.untried[address] = reply
        elif stop is not None:
            outcome.untried[address] = stop
        elif reply is not None:
            outcome.refused[address] = reply
    return outcome


def _next(replies: Iterator[Reply], step: Step) -> Reply:
    """The next reply; the reader stopped early only after a 421, which ends it all."""
    reply = next(replies, None)
    if reply is None:
        raise Refused(step, Reply(421, ("4.4.2 the server stopped answering",)))
    return reply


def _with_final(outcome: Outcome, final: Reply) -> Outcome:
    return Outcome(outcome.accepted, outcome.refused, final, outcome.untried)


def _wire_size(source: MessageSource) -> int:
    """Bytes the message takes after dot-stuffing (for progress), read piece by piece."""
    stuffer = DotStuffer()
    size = sum(len(stuffer.feed(piece)) for piece in source.chunks(CHUNK_SIZE))
    return size + len(stuffer.end())
