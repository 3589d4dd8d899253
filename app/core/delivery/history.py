"""What was sent: a searchable record of every accepted transaction."""

from __future__ import annotations

import json
import sqlite3
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
    db: Store | sqlite3.Connection,
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
    """Add one history row for a transaction the server accepted (in ``db``'s transaction)."""
    search_text = " ".join(
        [subject, envelope_from, *(str(r["address"]) for r in recipients)]
    ).casefold()
    cursor = db.execute(
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


# How the trigram index is used. A query with fewer than SPARSE candidates fetches them by
# id and sorts them. With more, walking history newest first is cheaper as long as the
# page it wants lies within WALK rows of the newest; a query whose matches are all old
# mail (an old employer's domain) would make that walk read every row, so it, too, goes
# through the index.
SPARSE = 2000
WALK = 20_000
_MIN_INDEXED = 3  # the trigram index cannot look up a shorter word
_WHOLE_UP_TO = 8  # longer words are looked up as _PIECES trigrams
_PIECES = 6


def _words(query: str) -> list[str]:
    return query.casefold().split()


def _like(words: list[str]) -> tuple[str, tuple[Any, ...]]:
    """Every word as a substring of search_text: the exact meaning of a search."""
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
    clause = " AND ".join("history.search_text LIKE ? ESCAPE '\\'" for _ in words)
    return clause, tuple(f"%{w}%" for w in escaped)


def _match(words: list[str]) -> str | None:
    """An FTS5 query whose matches include every row that has all ``words`` (None: no help)."""
    indexed = [piece for w in words if len(w) >= _MIN_INDEXED for piece in _pieces(w)]
    if not indexed:
        return None
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)


def _pieces(word: str) -> list[str]:
    """What to look up for ``word``: itself, or for a long one (an address) a few pieces.

    A phrase of 26 trigrams makes the index read the positions of every one of them,
    common ones included (60 ms over a million rows); six separate pieces find nearly
    the same rows in a fifth of that, and LIKE keeps the exact meaning.
    """
    if len(word) <= _WHOLE_UP_TO:
        return [word]
    return [word[i : i + 3] for i in range(0, len(word) - 2, 3)][:_PIECES]


def _use_index(store: Store, match: str | None, want: int | None) -> bool:
    """Whether fetching candidates through the index beats walking history newest first.

    ``want`` is how many rows the caller reads newest first (None: all of them, to count).
    """
    if match is None or not store.has_search_index:
        return False
    newest = store.execute(
        "SELECT rowid FROM history_search WHERE history_search MATCH ? ORDER BY rowid DESC LIMIT ?",
        (match, SPARSE),
    ).fetchall()
    if len(newest) < SPARSE:
        return True
    if want is None or want > len(newest):
        return False
    top = store.execute("SELECT MAX(id) FROM history").fetchone()[0]
    return int(top) - int(newest[want - 1][0]) > WALK


def _source(store: Store, query: str, want: int | None) -> tuple[str, tuple[Any, ...]]:
    """FROM … WHERE … for ``query``: through the trigram index when that is cheaper."""
    words = _words(query)
    if not words:
        return "FROM history", ()
    like, parameters = _like(words)
    match = _match(words)
    if _use_index(store, match, want):
        # The index gives a superset (it folds case once more); LIKE keeps the exact meaning.
        return (
            "FROM history_search JOIN history ON history.id = history_search.rowid"
            f" WHERE history_search MATCH ? AND {like}",
            (match, *parameters),
        )
    return f"FROM history WHERE {like}", parameters


def search(
    store: Store, query: str = "", *, limit: int = 50, offset: int = 0
) -> list[HistoryEntry]:
    """Newest first; every word of ``query`` must appear in subject or addresses."""
    words = _words(query)
    match = _match(words)
    if match is not None and store.has_search_index:
        return _search_newest_matches(store, words, match, limit, offset)
    source, parameters = _source(store, query, offset + limit)
    rows = store.execute(
        f"SELECT history.* {source}"
        " ORDER BY history.sent_at DESC, history.id DESC LIMIT ? OFFSET ?",
        (*parameters, limit, offset),
    ).fetchall()
    return [_entry(row) for row in rows]


def _search_newest_matches(
    store: Store, words: list[str], match: str, limit: int, offset: int
) -> list[HistoryEntry]:
    """Ask the index for its newest candidates only (rowid order is send order), as many
    as the page needs and a margin; more only when LIKE turned too many away.

    The index can walk its matches from the highest rowid down and stop, so a page
    costs about the same with 1,000 or 1,000,000 rows, however common the word.
    """
    like, parameters = _like(words)
    want = offset + limit
    fetch = max(2 * want, 200)
    while True:
        rows = store.execute(
            "SELECT history.* FROM history WHERE history.id IN (SELECT rowid FROM"
            " history_search WHERE history_search MATCH ? ORDER BY rowid DESC LIMIT ?)"
            f" AND {like} ORDER BY history.sent_at DESC, history.id DESC LIMIT ? OFFSET ?",
            (match, fetch, *parameters, limit, offset),
        ).fetchall()
        if len(rows) == limit or not _more_candidates(store, match, fetch):
            return [_entry(row) for row in rows]
        fetch *= 4


def _more_candidates(store: Store, match: str, fetched: int) -> bool:
    row = store.execute(
        "SELECT rowid FROM history_search WHERE history_search MATCH ?"
        " ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (match, fetched),
    ).fetchone()
    return row is not None


def count(store: Store, query: str = "") -> int:
    """How many history rows match ``query``."""
    source, parameters = _source(store, query, None)
    return int(store.execute(f"SELECT COUNT(*) {source}", parameters).fetchone()[0])


def get(store: Store, entry_id: int) -> HistoryEntry | None:
    """One history row by id."""
    row = store.execute("SELECT * FROM history WHERE id = ?", (entry_id,)).fetchone()
    return _entry(row) if row else None
