"""The product's words, in one place: what each state is called and why a message waits.

Every face says "message", "outbox", "sent", "retrying", "sign in" the same way; the
server's own words (reply codes) stay in details, never in the line that reports success.
"""

from __future__ import annotations

from app.core.delivery.outbox import OutboxItem, RecipientStatus, State

# The words a person sees, with what they mean (shown in the Help and the docs).
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("Message", "One mail you write and send; it may go to several recipients."),
    ("Account", "The address you send from and the server that sends for it."),
    ("Outbox", "Messages not sent yet: waiting, retrying, or stopped with a reason."),
    ("Waiting", "In the outbox, to be sent at the next chance."),
    ("Sending", "Being handed to your server right now."),
    ("Sent", "Your server accepted the message for delivery; see History."),
    ("Retrying", "The server asked to try again later; Relaydesk will, by itself."),
    ("Not sent", "The server refused the message; it says why. Fix it and send again."),
    ("Maybe sent", "The connection ended before the server confirmed; check before resending."),
    ("Sign in", "Prove to your server that the account is yours (password or provider page)."),
    ("Trusted certificate", "The exact server certificate this account accepts."),
)

STATE_WORDS: dict[State, str] = {
    State.QUEUED: "Waiting",
    State.SENDING: "Sending",
    State.SENT: "Sent",
    State.RETRYING: "Retrying",
    State.FAILED: "Not sent",
    State.POSSIBLY_SENT: "Maybe sent",
    State.CANCELLED: "Cancelled",
}


def state_word(state: State) -> str:
    """The glossary's name for an outbox state."""
    return STATE_WORDS[state]


def _deferred(item: OutboxItem) -> list[tuple[str, str]]:
    return [
        (r.address, r.reply or "") for r in item.recipients if r.status is RecipientStatus.DEFERRED
    ]


def outbox_reason(item: OutboxItem) -> str:
    """Why the message is still in the outbox, in plain words ("" when nothing went wrong)."""
    error = item.last_error or {}
    if error.get("message"):
        return str(error["message"])
    deferred = _deferred(item)
    if deferred:
        who = ", ".join(address for address, _ in deferred)
        return f"The server asked to try {who} again later."
    return ""


def outbox_details(item: OutboxItem) -> str:
    """The reason with what to do and the server's own words (for the details pane)."""
    error = item.last_error or {}
    lines: list[str] = []
    if error.get("message"):
        lines.append(f"{error['message']} {error.get('hint', '')}".strip())
        if error.get("reply"):
            lines.append(f"Server said: {error['reply']}")
    deferred = _deferred(item)
    if deferred:
        if not lines:
            lines.append(outbox_reason(item) + " Relaydesk retries by itself.")
        lines += [f"{address} — server said: {reply}" for address, reply in deferred if reply]
    refused = [
        (r.address, r.reply or "") for r in item.recipients if r.status is RecipientStatus.REFUSED
    ]
    lines += [f"{address} refused — server said: {reply}" for address, reply in refused if reply]
    return "\n".join(lines)


def sent_line(accepted: tuple[str, ...] | list[str], refused: dict[str, str], at: str = "") -> str:
    """The one line that reports a send: who got it (at what time), who did not.

    No reply codes: the server's words are in History's details.
    """
    line = f"Sent to {', '.join(accepted)}" + (f" at {at}." if at else ".")
    if refused:
        line += f" Not accepted for {', '.join(refused)}: see the outbox for the reason."
    return line
