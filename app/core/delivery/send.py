"""Send use cases every face calls: queue and send now, send again from history.

A message is always committed to the outbox before it touches the network.
``queue_and_send`` holds the new item back from other senders (the background
sender, a GUI's timer) for ``HOLD_SECONDS`` so the caller's own attempt gets it;
should the caller die first, it becomes due after the hold like any other.
"""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from app.core import settings
from app.core.accounts.model import Account, get_account
from app.core.delivery import history, outbox
from app.core.delivery.attempts import PasswordSource, SendOptions, queue_draft, send_item
from app.core.delivery.message import Attachment, Draft
from app.core.delivery.outbox import SendResult, State
from app.core.errors import UnreadableFile, UsageError
from app.core.store import Store

HOLD_SECONDS = 600.0


def queue_and_send(
    store: Store,
    account: Account,
    draft: Draft,
    password: PasswordSource,
    options: SendOptions,
    *,
    on_queued: Callable[[int], None] | None = None,
) -> SendResult:
    """Validate, commit to the outbox, then make one attempt now; the result says how it went."""
    item_id = queue_draft(store, account, draft, face=options.face)
    hold(store, item_id)
    if on_queued is not None:
        on_queued(item_id)
    return send_now(store, item_id, password, options)


def send_now(
    store: Store, item_id: int, password: PasswordSource, options: SendOptions
) -> SendResult:
    """One attempt now at an item the caller just queued (or retried)."""
    hold(store, item_id)
    outbox.recover(store)  # items a crashed run left "sending" are settled first
    return send_item(store, item_id, password, options)


def hold(store: Store, item_id: int, seconds: float = HOLD_SECONDS) -> None:
    """Keep other senders off a queued item the caller is about to send itself."""
    with store.transaction() as db:
        db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND state = ?",
            (time.time() + seconds, item_id, State.QUEUED.value),
        )


@dataclass(frozen=True)
class StoredDraft:
    """A message rebuilt from what the outbox kept, ready to edit or send again."""

    account: str
    draft: Draft


def draft_from_outbox(store: Store, item_id: int) -> StoredDraft:
    """The outbox item's message as a new draft: same recipients, body and files."""
    item = outbox.get_item(store, item_id)
    to: list[str] = []
    cc: list[str] = []
    bcc: list[str] = []
    lists = {"to": to, "cc": cc, "bcc": bcc}
    for recipient in item.recipients:
        lists.get(recipient.kind, to).append(recipient.address)
    data = outbox.message_data(store, item_id)
    if not data:
        days = settings.get(store, outbox.SPOOL_RETENTION_SETTING)
        raise UnreadableFile(
            f"The message “{item.subject}” is no longer kept: sent messages' files are "
            f"removed after {days:g} days.",
            hint="Write it again, or keep files longer with: "
            "relaydesk settings set spool_retention_days N",
        )
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text, html, attachments = _body(message)
    draft = Draft(
        to=tuple(to),
        cc=tuple(cc),
        bcc=tuple(bcc),
        subject=item.subject,
        text=text,
        html=html,
        attachments=attachments,
        reply_to=tuple(str(a) for a in message.get_all("Reply-To", [])),
    )
    return StoredDraft(item.account, draft)


def draft_from_history(store: Store, entry_id: int) -> StoredDraft:
    """A history row's message as a new draft (UsageError / UnreadableFile when gone)."""
    entry = history.get(store, entry_id)
    if entry is None:
        raise UsageError(
            f"There is no history entry {entry_id}.",
            hint="List sent messages with: relaydesk history",
        )
    try:
        return draft_from_outbox(store, entry.outbox_id)
    except UsageError:
        raise UnreadableFile(
            f"The message “{entry.subject}” is no longer kept in the outbox.",
            hint="Write it again; history keeps only who it went to and when.",
        ) from None


def send_again(
    store: Store, entry_id: int, password: PasswordSource, options: SendOptions
) -> SendResult:
    """Send a message from history again, as a new message (a new Message-ID)."""
    stored = draft_from_history(store, entry_id)
    account = get_account(store, stored.account)
    return queue_and_send(store, account, stored.draft, password, options)


def _body(message: EmailMessage) -> tuple[str, str | None, tuple[Attachment, ...]]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    attachments = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            attachments.append(
                Attachment(
                    filename=part.get_filename() or "attachment",
                    content_type=part.get_content_type(),
                    data=data,
                )
            )
    return (
        str(plain.get_content()) if plain is not None else "",
        str(html.get_content()) if html is not None else None,
        tuple(attachments),
    )
