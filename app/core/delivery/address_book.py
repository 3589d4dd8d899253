"""Addresses the person has written to before (To, Cc and Bcc), for completion."""

from __future__ import annotations

from app.core.store import Store


def known_addresses(store: Store, limit: int = 2000) -> list[str]:
    """Every address used before, most used (then most recent) first."""
    rows = store.execute(
        "SELECT address, COUNT(*) AS uses, MAX(outbox_id) AS last FROM outbox_recipients"
        " GROUP BY lower(address) ORDER BY uses DESC, last DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [str(row["address"]) for row in rows]
