"""Sending one message on an open connection: MAIL, RCPT, then DATA or BDAT.

When the server offers PIPELINING (RFC 2920), MAIL FROM, every RCPT TO and DATA
go out in one write and the replies are read in order; the per-recipient
results are the same as one command at a time. When it offers CHUNKING
(RFC 3030), the message goes in ``BDAT`` chunks: no dot-stuffing, no final dot.

A message of at most ``PIPELINED_DATA_LIMIT`` bytes rides in the same write as
MAIL and RCPT (``BDAT n LAST``), one round trip per message. Its bytes then
leave before the RCPT replies are known; that is safe because RFC 3030 obliges
the server to read and discard a chunk whose transaction has no valid recipient
(it answers 503/554), so nothing is delivered and the connection stays in step.
The only cost when every recipient is refused is that small upload. A larger
message waits for the RCPT replies and sends no data when all were refused.

A server takes a limited number of recipients per transaction (RFC 5321
promises at least 100; Postfix takes 1,000). Its first ``452`` to an RCPT ends
the list for this transaction: the message goes to those accepted, and the rest
follow in further transactions on the same connection. RCPTs of a long list are
pipelined: the first ``RCPT_GROUP`` (which every server must take) in one
write, then groups of ``RCPT_GROUP_PAST_100``, so a server never sees more than
a few past its limit (Postfix hangs up with ``421`` after 20 errors); the limit
learned is then kept for the connection's later transactions.

The outbox hears of every step before it is taken (``on_step``): with a
pipelined ``BDAT LAST`` that is MAIL, RCPT, DATA and FINAL_DOT before the one
write, so a crash after it is judged "possibly sent".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from app.core.accounts.model import Account
from app.core.errors import InvalidInput, RelayError
from app.core.smtp import policy
from app.core.smtp.client import DotStuffer, SmtpClient
from app.core.smtp.conversation import Conversation, Timeouts
from app.core.smtp.reply import Reply
from app.core.smtp.source import MessageSource
from app.core.smtp.steps import Step
from app.core.smtp.transcript import Transcript

CHUNK_SIZE = 64 * 1024  # pieces of DATA between progress reports and cancel checks
BDAT_CHUNK_SIZE = 1024 * 1024  # one BDAT chunk
BDAT_WINDOW = 4  # pipelined BDAT chunks in flight before waiting for a reply
PIPELINED_DATA_LIMIT = CHUNK_SIZE  # at most this much is sent before RCPT replies are in
RCPT_GROUP = 100  # RCPTs pipelined in one write; RFC 5321 §4.5.3.1.8 minimum per transaction
RCPT_GROUP_PAST_100 = 10  # later groups: few enough that a 452 costs few errors
TOO_MANY_RECIPIENTS = 452  # RFC 5321 §4.5.3.1.10: this transaction takes no more

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Delivery:
    """What the server said about one message."""

    accepted: dict[str, Reply]  # RCPT replies 2xx, in transactions the server accepted
    refused: dict[str, Reply]  # RCPT replies 4xx/5xx; the outbox retries only the 4xx ones
    final: Reply | None  # reply to the (last) final dot; None when no transaction was accepted
    # After an earlier transaction was accepted, a later one failed: its recipients and why.
    unsent: tuple[str, ...] = ()
    error: RelayError | None = None
    # Recipients this transaction did not offer after a 452 (the reply that stopped it).
    untried: dict[str, Reply] = field(default_factory=dict)

    def merged(self, later: Delivery) -> Delivery:
        """This delivery followed by a later transaction's."""
        return Delivery(
            {**self.accepted, **later.accepted},
            {**self.refused, **later.refused},
            later.final or self.final,
        )


_Sorted = tuple[dict[str, Reply], dict[str, Reply], dict[str, Reply]]


class Sender(Conversation):
    """The sending half of a session; ``pipelining``/``chunking`` False keep to one command."""

    def __init__(
        self,
        account: Account,
        *,
        transcript: Transcript | None,
        timeouts: Timeouts,
        on_step: Callable[[Step], None] | None,
        pipelining: bool,
        chunking: bool,
    ) -> None:
        super().__init__(account, transcript=transcript, timeouts=timeouts, on_step=on_step)
        self.pipelining = pipelining
        self.chunking = chunking
        # Facts learned when the session opens:
        self.max_size: int | None = None
        self.supports_smtputf8 = False
        self.supports_pipelining = False
        self.supports_chunking = False
        self.supports_8bitmime = False
        self._rset_pending = False
        self._idle = True  # no transaction open: nothing for RSET to undo
        self.recipient_limit: int | None = None  # learned from a "452 too many recipients"

    @property
    def pipelined(self) -> bool:
        """Commands go out in groups (the server offers PIPELINING and it is not turned off)."""
        return self.pipelining and self.supports_pipelining

    @property
    def chunked(self) -> bool:
        """The message goes as BDAT chunks (CHUNKING offered and not turned off)."""
        return self.chunking and self.supports_chunking

    def reset(self) -> None:
        """RSET when a transaction is open; when pipelining, with the next MAIL FROM.

        Unasked-for input usually means the server closed: a real RSET finds out now.
        """
        client = self._open_client()
        if not client.has_input():
            if self._idle:
                return
            if self.pipelined:
                self._rset_pending = True
                return
        self._rset_pending = False
        super().reset()
        self._idle = True

    def _flush_reset(self) -> None:
        if self._rset_pending:
            self._rset_pending = False
            super().reset()

    def check_sender(self, address: str) -> Reply:
        """MAIL FROM then RSET: would the server take mail from ``address``?"""
        client = self._open_client()
        _check_address(address, smtputf8=False)
        self._flush_reset()
        self._announce(Step.MAIL)
        self._idle = False
        with self._network(Step.MAIL):
            reply = client.command("MAIL", f"FROM:<{address}>")
        self._expect(Step.MAIL, reply, 250)
        self.reset()
        return reply

    def send(
        self,
        envelope_from: str,
        recipients: Sequence[str],
        data: bytes | MessageSource,
        *,
        smtputf8: bool = False,
        on_progress: Progress | None = None,
        on_transaction: Callable[[Delivery], None] | None = None,
    ) -> Delivery:
        """Send one message; refused recipients are reported, not raised.

        When a 452 splits the recipients over several transactions,
        ``on_transaction`` hears of each accepted one before the next begins
        (so the outbox can commit who has the message before risking more).
        """
        source = data if isinstance(data, MessageSource) else MessageSource.of_bytes(data)
        client = self._open_client()
        if not recipients:
            raise InvalidInput("The message has no recipients.", hint="Add at least one.")
        for address in (envelope_from, *recipients):
            _check_address(address, smtputf8=smtputf8)
        if smtputf8 and not self.supports_smtputf8:
            raise policy.smtputf8_unsupported(self.account)
        if self.max_size is not None and source.size > self.max_size:
            raise policy.message_too_large(self.account, source.size, self.max_size)
        client.command_encoding = "utf-8" if smtputf8 else "ascii"
        mail = self._mail_arguments(client, envelope_from, source.size, smtputf8=smtputf8)
        done = Delivery({}, {}, None)
        remaining = list(recipients)
        while remaining:
            batch = remaining[: self.recipient_limit or len(remaining)]
            try:
                one = self._transaction(client, mail, batch, source, on_progress)
            except RelayError as error:
                if done.final is None:
                    raise  # nothing went through yet: the whole attempt failed
                return replace(done, unsent=tuple(remaining), error=error)
            done = done.merged(one)
            later = [*one.untried, *remaining[len(batch) :]]
            if one.untried and one.accepted:
                self.recipient_limit = len(one.accepted)
            if not later:
                break
            if len(one.untried) == len(batch):
                # Not even the first recipient was taken: the server wants no more now.
                stop = next(iter(one.untried.values()))
                done = done.merged(Delivery({}, {a: stop for a in later}, None))
                break
            remaining = later
            if on_transaction is not None and one.final is not None:
                on_transaction(replace(one, untried={}))
            self.reset()
        return done

    def _transaction(
        self,
        client: SmtpClient,
        mail: str,
        recipients: Sequence[str],
        source: MessageSource,
        on_progress: Progress | None,
    ) -> Delivery:
        """MAIL, RCPTs and the message, once; ``untried`` lists those a 452 held back."""
        self._idle = False
        if self.pipelined and len(recipients) <= RCPT_GROUP:
            delivery = self._send_pipelined(client, mail, recipients, source, on_progress)
        else:
            delivery = self._send_stepwise(client, mail, recipients, source, on_progress)
        if delivery.final is not None and self._on_step is not None:
            self._on_step(Step.DONE)  # not a cancel point: the outcome is known
        return delivery

    def _mail_arguments(self, client: SmtpClient, sender: str, size: int, *, smtputf8: bool) -> str:
        options = [f"FROM:<{sender}>"]
        if "size" in client.esmtp_features:
            options.append(f"SIZE={size}")
        if self.supports_8bitmime:
            options.append("BODY=8BITMIME")
        if smtputf8:
            options.append("SMTPUTF8")
        return " ".join(options)

    # -- one command at a time ---------------------------------------------------

    def _send_stepwise(
        self,
        client: SmtpClient,
        mail: str,
        recipients: Sequence[str],
        source: MessageSource,
        on_progress: Progress | None,
    ) -> Delivery:
        self._flush_reset()
        self._announce(Step.MAIL)
        with self._network(Step.MAIL):
            reply = client.command("MAIL", mail)
        self._expect(Step.MAIL, reply, 250)
        accepted, refused, untried = self._recipients(client, recipients)
        if not accepted:
            self.reset()
            return Delivery(accepted, refused, None, untried=untried)
        if self.chunked:
            final = self._send_chunks(client, source, on_progress)
            return Delivery(accepted, refused, final, untried=untried)
        self._announce(Step.DATA)
        with self._network(Step.DATA):
            reply = client.command("DATA")
        self._expect(Step.DATA, reply, 354)
        final = self._stream_data(client, source, on_progress)
        return Delivery(accepted, refused, final, untried=untried)

    def _recipients(self, client: SmtpClient, recipients: Sequence[str]) -> _Sorted:
        """RCPT for each recipient (in pipelined groups when offered) until a 421 or 452."""
        self._announce(Step.RCPT)
        replies: list[Reply] = []
        start = 0
        while start < len(recipients):
            group = (RCPT_GROUP if start == 0 else RCPT_GROUP_PAST_100) if self.pipelined else 1
            lines = [f"RCPT TO:<{address}>" for address in recipients[start : start + group]]
            start += len(lines)
            with self._network(Step.RCPT):
                if len(lines) == 1:
                    replies.append(client.command(lines[0]))
                else:
                    client.send_lines(lines)
                    replies += [client.read_reply() for _ in lines]
            if any(reply.code == 421 or _too_many(reply) for reply in replies[-len(lines) :]):
                break
        return self._sort_recipients(recipients, iter(replies))

    def _sort_recipients(self, recipients: Sequence[str], replies: Iterator[Reply]) -> _Sorted:
        """Accepted, refused, and those not offered (or refused) after the first 452."""
        accepted: dict[str, Reply] = {}
        refused: dict[str, Reply] = {}
        untried: dict[str, Reply] = {}
        stop: Reply | None = None
        for address in recipients:
            reply = next(replies, None)  # one command at a time: none after a 452
            if reply is not None and reply.code == 421:
                self._expect(Step.RCPT, reply, 250)
            if reply is not None and 200 <= reply.code < 300:
                accepted[address] = reply
            elif stop is None and reply is not None and _too_many(reply):
                stop = untried[address] = reply
            elif stop is not None:
                untried[address] = stop
            elif reply is not None:
                refused[address] = reply
        return accepted, refused, untried

    # -- pipelined ---------------------------------------------------------------

    def _send_pipelined(
        self,
        client: SmtpClient,
        mail: str,
        recipients: Sequence[str],
        source: MessageSource,
        on_progress: Progress | None,
    ) -> Delivery:
        rset = self._rset_pending
        lines = [*(["RSET"] if rset else []), f"MAIL {mail}"]
        lines += [f"RCPT TO:<{address}>" for address in recipients]
        steps = [Step.MAIL] * (2 if rset else 1) + [Step.RCPT] * len(recipients)
        early = self.chunked and source.size <= PIPELINED_DATA_LIMIT
        self._announce(Step.MAIL)
        self._announce(Step.RCPT)
        if not self.chunked:
            self._announce(Step.DATA)
            lines.append("DATA")
            steps.append(Step.DATA)
        if early:
            return self._send_pipelined_small(
                client, lines, recipients, source, on_progress, rset=rset
            )
        with self._network(Step.MAIL):
            client.send_lines(lines)
        self._rset_pending = False
        replies = iter(self._read_replies(client, steps))
        self._check_envelope(replies, rset=rset)
        accepted, refused, untried = self._sort_recipients(recipients, replies)
        if self.chunked:
            if not accepted:
                self.reset()
                return Delivery(accepted, refused, None, untried=untried)
            final = self._send_chunks(client, source, on_progress)
            return Delivery(accepted, refused, final, untried=untried)
        data_reply = next(replies)
        if not accepted:
            if data_reply.code == 354:  # a server that wants data anyway gets none
                with self._network(Step.DATA):
                    client.command(".")
            self.reset()
            return Delivery(accepted, refused, None, untried=untried)
        self._expect(Step.DATA, data_reply, 354)
        final = self._stream_data(client, source, on_progress)
        return Delivery(accepted, refused, final, untried=untried)

    def _send_pipelined_small(
        self,
        client: SmtpClient,
        lines: list[str],
        recipients: Sequence[str],
        source: MessageSource,
        on_progress: Progress | None,
        *,
        rset: bool,
    ) -> Delivery:
        """MAIL, RCPT… and ``BDAT n LAST`` with the whole message in one write."""
        payload = source.read_all() + source.ending()
        self._announce(Step.DATA)
        self._announce(Step.FINAL_DOT)
        self._commit()
        try:
            if on_progress is not None:
                on_progress(0, len(payload))
            with self._network(Step.FINAL_DOT):  # the server may have it from here on
                client.send_lines([*lines, f"BDAT {len(payload)} LAST"], payload)
            self._rset_pending = False
            self.transcript.note(f"<message data: {len(payload)} bytes>")
            if on_progress is not None:
                on_progress(len(payload), len(payload))
            steps = [Step.FINAL_DOT] * (len(lines) + 1)
            replies = iter(self._read_replies(client, steps))
        finally:
            with self._lock:
                self._committed = False
        self._check_envelope(replies, rset=rset)
        accepted, refused, untried = self._sort_recipients(recipients, replies)
        final = next(replies)
        if not accepted:  # the server discarded the chunk: nothing was delivered
            self.reset()
            return Delivery(accepted, refused, None, untried=untried)
        self._expect(Step.FINAL_DOT, final, 250)
        self._idle = True
        return Delivery(accepted, refused, final, untried=untried)

    def _read_replies(self, client: SmtpClient, steps: Sequence[Step]) -> list[Reply]:
        """One reply per pipelined command, in order; stops after a 421 (the server leaves)."""
        replies: list[Reply] = []
        for index, step in enumerate(steps):
            if index == len(steps) - 1 and step is Step.FINAL_DOT:
                client.set_timeout(self.timeouts.final_reply)
            with self._network(step):
                replies.append(client.read_reply())
            if replies[-1].code == 421:
                break
        client.set_timeout(self.timeouts.command)
        return replies

    def _check_envelope(self, replies: Iterator[Reply], *, rset: bool) -> None:
        """Raise for a refused RSET or MAIL FROM (the RCPT replies then say 503)."""
        if rset:
            self._expect(Step.MAIL, next(replies), 250)
        self._expect(Step.MAIL, next(replies), 250)

    # -- the message itself ------------------------------------------------------

    def _stream_data(
        self, client: SmtpClient, source: MessageSource, on_progress: Progress | None
    ) -> Reply:
        """After 354: the dot-stuffed message in pieces, then the final dot."""
        total = _wire_size(source)
        self.transcript.note(f"<message data: {total} bytes>")
        stuffer = DotStuffer()
        sent = 0
        with self._network(Step.DATA):
            if on_progress is not None:
                on_progress(0, total)
            for piece, last in source.pieces(CHUNK_SIZE):
                self._check_cancelled(Step.DATA)
                wire = stuffer.feed(piece) + (stuffer.end() if last else b"")
                client.send(wire)
                sent += len(wire)
                if on_progress is not None:
                    on_progress(sent, total)
        return self._finish(client, lambda: client.putcmd("."))

    def _send_chunks(
        self, client: SmtpClient, source: MessageSource, on_progress: Progress | None
    ) -> Reply:
        """BDAT chunks (pipelined up to ``BDAT_WINDOW`` when offered), the last one LAST."""
        ending = source.ending()  # the same bytes arrive as with DATA
        total = source.size + len(ending)
        self._announce(Step.DATA)
        self.transcript.note(f"<message data: {total} bytes in BDAT chunks>")
        window = BDAT_WINDOW if self.pipelined else 1
        outstanding = sent = 0
        if on_progress is not None:
            on_progress(0, total)
        final_piece = b""
        for piece, last in source.pieces(BDAT_CHUNK_SIZE):
            if last:
                final_piece = piece + ending
                break
            self._check_cancelled(Step.DATA)
            with self._network(Step.DATA):
                client.bdat(piece, last=False)
            outstanding += 1
            sent += len(piece)
            if outstanding >= window:
                outstanding = self._collect(client, outstanding, keep=window - 1)
            if on_progress is not None:
                on_progress(sent, total)
        self._collect(client, outstanding, keep=0)
        reply = self._finish(client, lambda: client.bdat(final_piece, last=True))
        if on_progress is not None:
            on_progress(total, total)
        return reply

    def _collect(self, client: SmtpClient, outstanding: int, *, keep: int) -> int:
        """Read chunk replies until ``keep`` are left; a refusal drains the rest and raises."""
        while outstanding > keep:
            with self._network(Step.DATA):
                reply = client.read_reply()
                outstanding -= 1
                if reply.code != 250:
                    for _ in range(outstanding):  # the server discards chunks in flight
                        client.read_reply()
            self._expect(Step.DATA, reply, 250)
        return outstanding

    def _commit(self) -> None:
        """From here on the server may have the message: cancel no longer applies."""
        with self._lock:
            self._check_cancelled(Step.DATA)
            self._committed = True

    def _finish(self, client: SmtpClient, write_final: Callable[[], None]) -> Reply:
        """Announce FINAL_DOT, write the end of the message, wait (long) for the verdict."""
        self._announce(Step.FINAL_DOT)
        self._commit()
        with self._network(Step.DATA):  # until the end is written the server cannot have it
            write_final()
        client.set_timeout(self.timeouts.final_reply)
        with self._network(Step.FINAL_DOT):
            reply = client.read_reply()
        with self._lock:
            self._committed = False
        client.set_timeout(self.timeouts.command)
        self._expect(Step.FINAL_DOT, reply, 250)
        self._idle = True
        return reply


def _too_many(reply: Reply) -> bool:
    """A 452 for the transaction (4.5.3, "too many recipients"), not one mailbox's (4.2.2)."""
    if reply.code != TOO_MANY_RECIPIENTS:
        return False
    return reply.enhanced == "4.5.3" or "too many" in reply.text.lower()


def _wire_size(source: MessageSource) -> int:
    """Bytes the message takes after dot-stuffing (for progress), read piece by piece."""
    stuffer = DotStuffer()
    size = sum(len(stuffer.feed(piece)) for piece in source.chunks(CHUNK_SIZE))
    return size + len(stuffer.end())


def _check_address(address: str, *, smtputf8: bool) -> None:
    """Refuse what would break the command line (CR/LF injection) or need SMTPUTF8."""
    if not address or any(c in address for c in "<>\r\n \t\0"):
        raise policy.bad_address(address)
    if not smtputf8 and not address.isascii():
        raise policy.needs_smtputf8(address)
