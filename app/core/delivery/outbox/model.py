"""The outbox's values: states, items, per-recipient results, retry policy, attempt results."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.core import settings
from app.core.errors import (
    Cancelled,
    PossiblySent,
    RecipientRefused,
    RelayError,
    ServerUnreachable,
    SignInRequired,
    TemporaryFailure,
)
from app.core.store import Store


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    POSSIBLY_SENT = "possibly_sent"
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    PENDING = "pending"  # not tried yet
    ACCEPTED = "accepted"  # the server took the message for this recipient
    DEFERRED = "deferred"  # 4xx at RCPT: try again later, for this recipient only
    REFUSED = "refused"  # 5xx at RCPT: permanent
    UNCERTAIN = "uncertain"  # in a transaction whose final reply never came


# States from which a send may start without the user asking again.
DUE_STATES = (State.QUEUED, State.RETRYING)
# States the user may send again explicitly (``outbox retry ID``).
RETRYABLE_STATES = (State.RETRYING, State.FAILED, State.POSSIBLY_SENT, State.CANCELLED)
# States an item may be deleted from (never while a sender holds it, never once sent).
DISCARDABLE_STATES = (*DUE_STATES, State.FAILED, State.POSSIBLY_SENT, State.CANCELLED)
# States that wait for the person: their spool file is kept until they decide.
UNRESOLVED_STATES = (State.FAILED, State.POSSIBLY_SENT)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, giving up after ``max_age`` seconds."""

    base: float = 60.0
    cap: float = 3600.0
    max_age: float = 2 * 24 * 3600.0
    jitter: float = 0.2

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the given number of failed attempts."""
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return float(raw * spread)


RETRY_MAX_AGE_SETTING = "retry_max_age_hours"


def retry_policy(store: Store) -> RetryPolicy:
    """The retry policy, with the give-up age the user chose (default two days)."""
    hours = float(settings.get(store, RETRY_MAX_AGE_SETTING))
    return RetryPolicy(max_age=hours * 3600.0)


@dataclass(frozen=True)
class RecipientState:
    address: str
    kind: str
    status: RecipientStatus
    reply: str | None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    account: str
    message_id: str
    subject: str
    envelope_from: str
    size: int
    smtputf8: bool
    state: State
    step: str | None
    attempts: int
    created_at: float
    updated_at: float
    next_attempt_at: float | None
    last_error: dict[str, Any] | None
    face: str
    recipients: tuple[RecipientState, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``outbox list --json``."""
        return {
            "id": self.id,
            "account": self.account,
            "state": self.state.value,
            "step": self.step,
            "subject": self.subject,
            "message_id": self.message_id,
            "from": self.envelope_from,
            "size": self.size,
            "recipients": [
                {"address": r.address, "kind": r.kind, "status": r.status.value, "reply": r.reply}
                for r in self.recipients
            ],
            "attempts": self.attempts,
            "created_at": self.created_at,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "face": self.face,
        }


def item_from_row(row: Any, recipients: Any) -> OutboxItem:
    """An ``OutboxItem`` from its outbox row and its recipient rows."""
    return OutboxItem(
        id=row["id"],
        account=row["account"],
        message_id=row["message_id"],
        subject=row["subject"],
        envelope_from=row["envelope_from"],
        size=row["size"],
        smtputf8=bool(row["smtputf8"]),
        state=State(row["state"]),
        step=row["step"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        next_attempt_at=row["next_attempt_at"],
        last_error=json.loads(row["last_error"]) if row["last_error"] else None,
        face=row["face"],
        recipients=tuple(
            RecipientState(r["address"], r["kind"], RecipientStatus(r["status"]), r["reply"])
            for r in recipients
        ),
    )


@dataclass(frozen=True)
class SendResult:
    """What one send attempt ended in."""

    item_id: int
    state: State
    message_id: str
    accepted: tuple[str, ...]
    refused: dict[str, str]
    deferred: dict[str, str]
    final_reply: str | None
    error: RelayError | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return int(self.error.exit_code)
        return 0 if self.state is State.SENT else 75


def state_after_error(error: RelayError) -> State:
    """Which state a failed attempt leaves the item in."""
    if isinstance(error, PossiblySent):
        return State.POSSIBLY_SENT
    if isinstance(error, Cancelled):
        return State.CANCELLED
    if isinstance(error, SignInRequired):
        return State.RETRYING  # kept: it goes out after `relaydesk account login`
    if isinstance(error, TemporaryFailure | ServerUnreachable):
        return State.RETRYING
    return State.FAILED


def all_refused_error(refused: dict[str, str]) -> RecipientRefused:
    """The error for a message no recipient would take."""
    listing = "; ".join(f"{address}: {reply}" for address, reply in refused.items())
    return RecipientRefused(
        f"The server refused every recipient ({listing}).",
        hint="Check the addresses for typos; nothing was sent.",
        details={"refused": refused},
    )


def error_json(error: RelayError | None) -> str | None:
    """How an error is kept in the ``last_error`` column."""
    return json.dumps(error.to_dict(), ensure_ascii=False) if error else None
