"""What a new compose form starts with: from an outbox item, a history row or a mailto: URL."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from app.core import history, outbox
from app.core.errors import UsageError
from app.core.mailto import parse_mailto
from app.core.message import Attachment
from app.core.store import Store


@dataclass
class Prefill:
    account: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    notice: str = ""  # something the person should know about where this came from


def from_mailto(url: str) -> Prefill:
    """``mailto:a@x.com?cc=b@y.com&subject=Hi&body=...`` (RFC 6068); InvalidInput if unsafe."""
    draft = parse_mailto(url)
    return Prefill(
        to=list(draft.to),
        cc=list(draft.cc),
        bcc=list(draft.bcc),
        subject=draft.subject,
        text=draft.body,
        notice=_dropped_notice(draft.ignored),
    )


def _dropped_notice(ignored: tuple[str, ...]) -> str:
    if not ignored:
        return ""
    names = ", ".join(name[:40] for name in ignored[:8]) + (", …" if len(ignored) > 8 else "")
    return (
        f"The link also asked for {names}; Relaydesk left that out, because a link may not "
        "choose the sender, extra headers or files. Add them yourself if you want them."
    )


def _body(message: EmailMessage, prefill: Prefill) -> None:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    prefill.text = str(plain.get_content()) if plain is not None else ""
    prefill.html = str(html.get_content()) if html is not None else None
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            prefill.attachments.append(
                Attachment(
                    filename=part.get_filename() or "attachment",
                    content_type=part.get_content_type(),
                    data=data,
                )
            )


def from_outbox(store: Store, item_id: int) -> Prefill:
    """Everything needed to send an outbox item again (same recipients, body, files)."""
    item = outbox.get_item(store, item_id)
    prefill = Prefill(account=item.account, subject=item.subject)
    for recipient in item.recipients:
        getattr(prefill, recipient.kind if recipient.kind in ("to", "cc", "bcc") else "to").append(
            recipient.address
        )
    message = email.message_from_bytes(
        outbox.message_data(store, item_id), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)
    _body(message, prefill)
    return prefill


def from_history(store: Store, entry_id: int) -> Prefill | None:
    """A history row as a new draft; uses the outbox copy when it is still there."""
    entry = history.get(store, entry_id)
    if entry is None:
        return None
    try:
        return from_outbox(store, entry.outbox_id)
    except UsageError:
        return Prefill(
            account=entry.account,
            to=[str(r["address"]) for r in entry.recipients],
            subject=entry.subject,
        )
