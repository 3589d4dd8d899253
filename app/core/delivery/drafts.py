"""Drafts kept while they are written, so a crash or a power cut loses nothing.

The compose window saves what is typed every few seconds; a sent or discarded
draft is deleted. Whatever is left at the next start was interrupted and is
offered again. Addresses are kept as typed (they may be half written).
Attachments are not kept: only their names would survive, not their bytes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.core.store import Store


@dataclass(frozen=True)
class SavedDraft:
    """A draft as stored: the fields as typed, not yet validated."""

    id: int
    account: str | None
    to: str
    cc: str
    bcc: str
    subject: str
    text: str
    html: str | None
    updated_at: float

    @property
    def empty(self) -> bool:
        return not any(
            part.strip() for part in (self.to, self.cc, self.bcc, self.subject, self.text)
        )


def save(
    store: Store,
    draft_id: int | None,
    *,
    account: str | None,
    to: str = "",
    cc: str = "",
    bcc: str = "",
    subject: str = "",
    text: str = "",
    html: str | None = None,
) -> int:
    """Store the draft (a new row when ``draft_id`` is None or gone); its id."""
    values = (account, to, cc, bcc, subject, text, html, time.time())
    with store.transaction() as db:
        if draft_id is not None:
            cursor = db.execute(
                "UPDATE drafts SET account = ?, to_addrs = ?, cc_addrs = ?, bcc_addrs = ?,"
                " subject = ?, text = ?, html = ?, updated_at = ? WHERE id = ?",
                (*values, draft_id),
            )
            if cursor.rowcount:
                return draft_id
        cursor = db.execute(
            "INSERT INTO drafts (account, to_addrs, cc_addrs, bcc_addrs, subject, text, html,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        return int(cursor.lastrowid or 0)


def delete(store: Store, draft_id: int) -> None:
    """Forget a draft (sent, discarded, or restored into a window that saves it anew)."""
    with store.transaction() as db:
        db.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))


def saved(store: Store) -> list[SavedDraft]:
    """Every kept draft, oldest first."""
    rows = store.execute(
        "SELECT id, account, to_addrs, cc_addrs, bcc_addrs, subject, text, html, updated_at"
        " FROM drafts ORDER BY updated_at"
    ).fetchall()
    return [
        SavedDraft(
            id=int(row["id"]),
            account=row["account"],
            to=row["to_addrs"],
            cc=row["cc_addrs"],
            bcc=row["bcc_addrs"],
            subject=row["subject"],
            text=row["text"],
            html=row["html"],
            updated_at=float(row["updated_at"]),
        )
        for row in rows
    ]
