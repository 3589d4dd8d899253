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

What goes on the wire is planned in ``transaction`` (no I/O, tested with byte
fixtures); the ``Sender`` here only carries out the plan on the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from app.core.errors import InvalidInput, RelayError
from app.core.smtp import policy
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
from app.core.smtp.conversation import Conversation
from app.core.smtp.protocol import Capabilities
from app.core.smtp.reply import Reply
from app.core.smtp.source import MessageSource
from app.core.smtp.steps import Step
from app.core.smtp.transaction import Envelope, Mode, plan
from app.core.smtp.transport import Transport

OnProgress = Callable[[int, int], None]


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


class Sender:
    """Sends messages over a conversation: runs each transaction's plan against the socket.

    ``pipelining``/``chunking`` False keep to one command per round trip and DATA.
    """

    def __init__(self, conversation: Conversation, *, pipelining: bool, chunking: bool) -> None:
        self.conversation = conversation
        self.pipelining = pipelining
        self.chunking = chunking
        self.capabilities = Capabilities()  # learned when the session opens
        self.recipient_limit: int | None = None  # learned from a "452 too many recipients"
        self._rset_pending = False
        self._idle = True  # no transaction open: nothing for RSET to undo

    @property
    def pipelined(self) -> bool:
        """Commands go out in groups (the server offers PIPELINING and it is not turned off)."""
        return self.pipelining and self.capabilities.pipelining

    @property
    def chunked(self) -> bool:
        """The message goes as BDAT chunks (CHUNKING offered and not turned off)."""
        return self.chunking and self.capabilities.chunking

    def reset(self) -> None:
        """RSET when a transaction is open; when pipelining, with the next MAIL FROM."""
        self._drop_unsolicited()
        if self._idle:
            return
        if self.pipelined:
            self._rset_pending = True
            return
        self._rset_pending = False
        self.conversation.rset()
        self._idle = True

    def _drop_unsolicited(self) -> None:
        """Read what the server sent unasked, so it is not taken for the next command's reply.

        Usually it is a 421 or the end of the connection (raised here, classified);
        any other reply is noted and dropped: replies must stay in step with commands.
        """
        talk = self.conversation
        transport = talk.transport()
        if not transport.has_input():
            return
        with talk.network(Step.DONE):
            replies = transport.take_unsolicited()
        for reply in replies:
            if reply.code == 421:
                talk.fail(Step.DONE, reply)
            talk.transcript.note(f"ignored a reply nobody asked for: {reply}")

    def check_sender(self, address: str) -> Reply:
        """MAIL FROM then RSET: would the server take mail from ``address``?"""
        talk = self.conversation
        talk.transport()
        _check_address(address, smtputf8=False)
        if self._rset_pending:
            self._rset_pending = False
            talk.rset()
        talk.announce(Step.MAIL)
        self._idle = False
        reply = talk.command(Step.MAIL, f"MAIL FROM:<{address}>")
        talk.expect(Step.MAIL, reply, 250)
        self.reset()
        return reply

    def send(
        self,
        envelope_from: str,
        recipients: Sequence[str],
        data: bytes | MessageSource,
        *,
        smtputf8: bool = False,
        on_progress: OnProgress | None = None,
        on_transaction: Callable[[Delivery], None] | None = None,
    ) -> Delivery:
        """Send one message; refused recipients are reported, not raised.

        When a 452 splits the recipients over several transactions,
        ``on_transaction`` hears of each accepted one before the next begins
        (so the outbox can commit who has the message before risking more).
        """
        source = data if isinstance(data, MessageSource) else MessageSource.of_bytes(data)
        self._drop_unsolicited()
        if not recipients:
            raise InvalidInput("The message has no recipients.", hint="Add at least one.")
        for address in (envelope_from, *recipients):
            _check_address(address, smtputf8=smtputf8)
        account, limit = self.conversation.account, self.capabilities.max_size
        if smtputf8 and not self.capabilities.smtputf8:
            raise policy.smtputf8_unsupported(account)
        # RFC 1870: the size as it arrives (with the CRLF a message without one gets).
        size = source.size + len(source.ending())
        if limit is not None and size > limit:
            raise policy.message_too_large(account, size, limit)
        mail = self._mail_arguments(envelope_from, size, smtputf8=smtputf8)
        encoding = "utf-8" if smtputf8 else "ascii"
        done = Delivery({}, {}, None)
        remaining = list(recipients)
        while remaining:
            batch = remaining[: self.recipient_limit or len(remaining)]
            try:
                if done.final is not None:
                    self.reset()  # between transactions: the server may have left
                one = self._transaction(Envelope(mail, tuple(batch), encoding), source, on_progress)
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
        return done

    def _transaction(
        self, envelope: Envelope, source: MessageSource, on_progress: OnProgress | None
    ) -> Delivery:
        """MAIL, RCPTs and the message, once; ``untried`` lists those a 452 held back."""
        self._idle = False
        mode = Mode(self.pipelined, self.chunked, rset_first=self._rset_pending)
        self._rset_pending = False
        outcome = self._run(plan(envelope, source, mode), on_progress)
        if outcome.final is None:
            self.reset()  # nothing was delivered: forget the transaction
        else:
            self._idle = True
            self.conversation.notify(Step.DONE)  # not a cancel point: the outcome is known
        return Delivery(outcome.accepted, outcome.refused, outcome.final, untried=outcome.untried)

    def _mail_arguments(self, sender: str, size: int, *, smtputf8: bool) -> str:
        options = [f"FROM:<{sender}>"]
        if self.capabilities.size:
            options.append(f"SIZE={size}")
        if self.capabilities.eightbitmime:
            options.append("BODY=8BITMIME")
        if smtputf8:
            options.append("SMTPUTF8")
        return " ".join(options)

    # -- the driver: the plan decides, this does the I/O ---------------------------

    def _run(self, steps: Plan, on_progress: OnProgress | None) -> Outcome:
        """Carry out each action of ``steps``, feeding back the replies it asks for."""
        talk = self.conversation
        transport = talk.transport()
        try:
            action = next(steps)
            while True:
                action = steps.send(self._act(action, transport, on_progress))
        except StopIteration as finished:
            outcome: Outcome = finished.value
            return outcome
        except Refused as refused:
            talk.fail(refused.step, refused.reply)
        finally:
            talk.settle()

    def _act(
        self, action: Action, transport: Transport, on_progress: OnProgress | None
    ) -> Sequence[Reply]:
        talk = self.conversation
        if isinstance(action, Receive):
            return self._receive(transport, action.steps)
        if isinstance(action, Send):
            talk.check_cancelled(action.step)
            with talk.network(action.step):
                transport.send(action.data, action.lines)
        elif isinstance(action, Announce):
            talk.announce(action.step)
        elif isinstance(action, Commit):
            talk.commit()
        elif isinstance(action, Settled):
            talk.settle()
        elif isinstance(action, Note):
            talk.transcript.note(action.text)
        elif isinstance(action, Progress) and on_progress is not None:
            on_progress(action.sent, action.total)
        return ()

    def _receive(self, transport: Transport, steps: Sequence[Step]) -> list[Reply]:
        """One reply per step, in order; stops after a 421 (the server leaves)."""
        timeouts = self.conversation.timeouts
        replies: list[Reply] = []
        for index, step in enumerate(steps):
            if index == len(steps) - 1 and step is Step.FINAL_DOT:
                transport.set_timeout(timeouts.final_reply)
            with self.conversation.network(step):
                replies.append(transport.read_reply())
            if replies[-1].code == 421:
                break
        transport.set_timeout(timeouts.command)
        return replies


def _check_address(address: str, *, smtputf8: bool) -> None:
    """Refuse what would break the command line (CR/LF injection) or need SMTPUTF8."""
    if not address or any(c in address for c in "<>\r\n \t\0"):
        raise policy.bad_address(address)
    if not smtputf8 and not address.isascii():
        raise policy.needs_smtputf8(address)
