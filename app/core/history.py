"""What was sent: a searchable record of every accepted transaction."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from app.core.store import Store


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    outbox_id: int
    account: str
    message_id: str
    subject: str
    envelope_from: str
    recipients: tuple[dict[str, Any], ...]  # {address, status, reply}
    final_reply: str | None
    size: int
    sent_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outbox_id": self.outbox_id,
            "account": self.account,
            "message_id": self.message_id,
            "subject": self.subject,
            "from": self.envelope_from,
            "recipients": list(self.recipients),
            "final_reply": self.final_reply,
            "size": self.size,
            "sent_at": self.sent_at,
        }


def record(
    store: Store,
    *,
    outbox_id: int,
    account: str,
    message_id: str,
    subject: str,
    envelope_from: str,
    recipients: list[dict[str, Any]],
    final_reply: str | None,
    size: int,
) -> int:
    """Add one history row for a transaction the server accepted."""
    search_text = " ".join(
        [subject, envelope_from, *(str(r["address"]) for r in recipients)]
    ).casefold()
    cursor = store.execute(
        "INSERT INTO history (outbox_id, account, message_id, subject, envelope_from,"
        " recipients, search_text, final_reply, size, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outbox_id,
            account,
            message_id,
            subject,
            envelope_from,
            json.dumps(recipients, ensure_ascii=False),
            search_text,
            final_reply,
            size,
            time.time(),
        ),
    )
    return int(cursor.lastrowid or 0)


def _entry(row: Any) -> HistoryEntry:
    return HistoryEntry(
        id=row["id"],
        outbox_id=row["outbox_id"],
        account=row["account"],
        message_id=row["message_id"],
        subject=row["subject"],
        envelope_from=row["envelope_from"],
        recipients=tuple(json.loads(row["recipients"])),
        final_reply=row["final_reply"],
        size=row["size"],
        sent_at=row["sent_at"],
    )


def _where(query: str) -> tuple[str, tuple[Any, ...]]:
    words = query.casefold().split()
    if not words:
        return "", ()
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
    clause = " AND ".join("search_text LIKE ? ESCAPE '\\'" for _ in words)
    return f"WHERE {clause}", tuple(f"%{w}%" for w in escaped)


def search(
    store: Store, query: str = "", *, limit: int = 50, offset: int = 0
) -> list[HistoryEntry]:
    """Newest first; every word of ``query`` must appear in subject or addresses."""
    where, parameters = _where(query)
    rows = store.execute(
        f"SELECT * FROM history {where} ORDER BY sent_at DESC, id DESC LIMIT ? OFFSET ?",
        (*parameters, limit, offset),
    ).fetchall()
    return [_entry(row) for row in rows]


def count(store: Store, query: str = "") -> int:
    """How many history rows match ``query``."""
    where, parameters = _where(query)
    return int(store.execute(f"SELECT COUNT(*) FROM history {where}", parameters).fetchone()[0])


def get(store: Store, entry_id: int) -> HistoryEntry | None:
    """One history row by id."""
    row = store.execute("SELECT * FROM history WHERE id = ?", (entry_id,)).fetchone()
    return _entry(row) if row else None
