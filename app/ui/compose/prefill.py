"""What a new compose form starts with: from an outbox item, a history row or a mailto: URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.delivery import history, send
from app.core.delivery.mailto import parse_mailto
from app.core.delivery.message import Attachment
from app.core.delivery.send import StoredDraft
from app.core.errors import RelayError
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


def _from_stored(stored: StoredDraft) -> Prefill:
    draft = stored.draft
    return Prefill(
        account=stored.account,
        to=list(draft.to),
        cc=list(draft.cc),
        bcc=list(draft.bcc),
        subject=draft.subject,
        text=draft.text,
        html=draft.html,
        attachments=list(draft.attachments),
    )


def from_outbox(store: Store, item_id: int) -> Prefill:
    """Everything needed to send an outbox item again (same recipients, body, files)."""
    return _from_stored(send.draft_from_outbox(store, item_id))


def from_history(store: Store, entry_id: int) -> Prefill | None:
    """A history row as a new draft; only its recipients and subject once the message is gone."""
    entry = history.get(store, entry_id)
    if entry is None:
        return None
    try:
        return _from_stored(send.draft_from_history(store, entry_id))
    except RelayError:
        return Prefill(
            account=entry.account,
            to=[str(r["address"]) for r in entry.recipients],
            subject=entry.subject,
        )
