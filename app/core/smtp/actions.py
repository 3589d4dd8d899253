"""What a transaction plan asks its driver to do, and what it comes to. Plain values."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step


@dataclass(frozen=True)
class Announce:
    """Tell the caller which step starts (a cancel point)."""

    step: Step


@dataclass(frozen=True)
class Send:
    """Write ``data``; ``lines`` are its command lines (for the transcript, not the payload)."""

    data: bytes
    lines: tuple[str, ...]
    step: Step  # what a failed write is blamed on


@dataclass(frozen=True)
class Receive:
    """Read one reply per step, in order, stopping after a 421 (the server is leaving)."""

    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Commit:
    """The next ``Send`` may deliver the message: cancel no longer applies until ``Settled``."""


@dataclass(frozen=True)
class Settled:
    """The server's verdict on the message is in (or will never come)."""


@dataclass(frozen=True)
class Note:
    """A line for the transcript that is not part of the protocol."""

    text: str


@dataclass(frozen=True)
class Progress:
    """Message bytes written so far, of ``total``."""

    sent: int
    total: int


Action = Announce | Send | Receive | Commit | Settled | Note | Progress


@dataclass(frozen=True)
class Outcome:
    """What the server said in one transaction."""

    accepted: dict[str, Reply]
    refused: dict[str, Reply]
    final: Reply | None  # None: no recipient was accepted, nothing was delivered
    untried: dict[str, Reply] = field(default_factory=dict)  # left after a 452, for later


Plan = Generator[Action, Sequence[Reply], Outcome]  # yields actions, is sent replies


class Refused(Exception):
    """A reply that ends the transaction (the driver classifies it and cleans up)."""

    def __init__(self, step: Step, reply: Reply) -> None:
        super().__init__(f"{step}: {reply}")
        self.step = step
        self.reply = reply
