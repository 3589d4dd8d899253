"""What an account adds to every message it sends: a signature and a default Reply-To.

Every face goes through ``apply``: the CLI's ``send``, the tool, the GUI (which
shows the signature in the text before sending, so it is not added twice).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.core.delivery.addresses import validate_address
from app.core.delivery.message import Draft
from app.core.store import Store

SIGNATURE_MARK = "-- "  # RFC 3676 §4.3: mail readers recognise (and may fold) what follows


@dataclass(frozen=True)
class Identity:
    signature: str = ""
    reply_to: str = ""


def get(store: Store, account: str) -> Identity:
    """The account's signature and default Reply-To (empty when none was set)."""
    row = store.execute(
        "SELECT signature, reply_to FROM identities WHERE account = ?", (account,)
    ).fetchone()
    return Identity(row["signature"], row["reply_to"]) if row is not None else Identity()


def put(store: Store, account: str, *, signature: str | None, reply_to: str | None) -> Identity:
    """Change what is given (None keeps the stored value); InvalidAddress for a bad Reply-To."""
    current = get(store, account)
    if reply_to:
        reply_to = validate_address(reply_to)
    changed = Identity(
        signature=current.signature if signature is None else signature.strip("\n"),
        reply_to=current.reply_to if reply_to is None else reply_to,
    )
    with store.transaction() as db:
        db.execute(
            "INSERT INTO identities (account, signature, reply_to) VALUES (?, ?, ?)"
            " ON CONFLICT(account) DO UPDATE SET signature = excluded.signature,"
            " reply_to = excluded.reply_to",
            (account, changed.signature, changed.reply_to),
        )
    return changed


def signature_block(signature: str) -> str:
    """The signature as it ends a message: the standard separator line, then the text."""
    return f"\n\n{SIGNATURE_MARK}\n{signature}" if signature.strip() else ""


def apply(store: Store, account: str, draft: Draft) -> Draft:
    """The draft with the account's default Reply-To (unless it has one) and signature
    (unless its text already ends with it)."""
    identity = get(store, account)
    changes: dict[str, object] = {}
    if identity.reply_to and not draft.reply_to:
        changes["reply_to"] = (identity.reply_to,)
    block = signature_block(identity.signature)
    if block and not draft.text.rstrip().endswith(identity.signature.strip()):
        changes["text"] = draft.text.rstrip("\n") + block
        if draft.html is not None:
            escaped = identity.signature.replace("&", "&amp;").replace("<", "&lt;")
            changes["html"] = draft.html + "<br><br>-- <br>" + escaped.replace("\n", "<br>")
    return replace(draft, **changes) if changes else draft  # type: ignore[arg-type]
