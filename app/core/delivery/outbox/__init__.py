"""The durable outbox: every message is committed here before it touches the network.

States::

    queued → sending → sent | retrying | failed | possibly_sent | cancelled

Each state change, and the protocol step reached while sending, is committed
(``synchronous=FULL``) before the next network step, so after a crash the
outbox can still tell whether the final dot went out.

``model`` holds the values, ``queue`` puts messages in and reads them back,
``transitions`` changes states (one guarded transaction each) and
``recovery`` settles what a crash left behind. Callers use this package's names.
"""

from app.core.delivery.outbox.lock import SenderLock, sender_lock
from app.core.delivery.outbox.model import (
    DISCARDABLE_STATES,
    DUE_STATES,
    RETRY_MAX_AGE_SETTING,
    RETRYABLE_STATES,
    UNRESOLVED_STATES,
    OutboxItem,
    RecipientState,
    RecipientStatus,
    RetryPolicy,
    SendResult,
    State,
    all_refused_error,
    retry_policy,
    state_after_error,
)
from app.core.delivery.outbox.queue import (
    MAX_RECIPIENTS,
    check_recipient_count,
    count_by_state,
    due_by_account,
    due_items,
    enqueue,
    enqueue_in,
    get_item,
    list_items,
    message_data,
    message_source,
    next_due_at,
)
from app.core.delivery.outbox.recovery import SPOOL_RETENTION_SETTING, prune_spool, recover, release
from app.core.delivery.outbox.transitions import (
    Outcome,
    cancel,
    claim,
    discard,
    finish,
    postpone,
    record_step,
    record_transaction,
    retry,
    set_recipient_status,
    set_state,
)

__all__ = [
    "DISCARDABLE_STATES",
    "DUE_STATES",
    "MAX_RECIPIENTS",
    "RETRYABLE_STATES",
    "RETRY_MAX_AGE_SETTING",
    "SPOOL_RETENTION_SETTING",
    "UNRESOLVED_STATES",
    "OutboxItem",
    "Outcome",
    "RecipientState",
    "RecipientStatus",
    "RetryPolicy",
    "SendResult",
    "SenderLock",
    "State",
    "all_refused_error",
    "cancel",
    "check_recipient_count",
    "claim",
    "count_by_state",
    "discard",
    "due_by_account",
    "due_items",
    "enqueue",
    "enqueue_in",
    "finish",
    "get_item",
    "list_items",
    "message_data",
    "message_source",
    "next_due_at",
    "postpone",
    "prune_spool",
    "record_step",
    "record_transaction",
    "recover",
    "release",
    "retry",
    "retry_policy",
    "set_recipient_status",
    "sender_lock",
    "set_state",
    "state_after_error",
]
