"""`relaydesk send`, `history`, `outbox` and `audit`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app.cli.output import Output
from app.cli.passwords import password_source
from app.core import settings
from app.core.accounts import model as accounts
from app.core.delivery import history, outbox, spool
from app.core.delivery.attempts import SendOptions, queue_draft, run_due, send_item
from app.core.delivery.message import Attachment, Draft, attachment_path, open_regular
from app.core.delivery.outbox import SendResult, State
from app.core.delivery.send import hold, queue_and_send, send_again
from app.core.errors import ExitCode, UnreadableFile, UsageError
from app.core.limits import MAX_BODY_BYTES, decode_text, read_limited
from app.core.sizes import human_size
from app.core.store import Store

FACE = "cli"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `send`, `history`, `outbox` and `audit`."""
    send = commands.add_parser(
        "send",
        help="send a message",
        description="Validate the message, store it in the outbox, then send it. Exit 0 when "
        "sent; 75 when it stays in the outbox for a later retry.",
    )
    send.add_argument("--account", help="account name (default: the default account)")
    for flag, what in (
        ("--to", "recipient"),
        ("--cc", "copy recipient"),
        ("--bcc", "blind copy recipient (never shown to others)"),
    ):
        send.add_argument(
            flag,
            nargs="+",
            action="extend",
            default=[],
            metavar="ADDR",
            help=f"{what}; repeat or list several",
        )
    send.add_argument("--subject", required=True)
    body = send.add_mutually_exclusive_group()
    body.add_argument("--text", help="plain-text body")
    body.add_argument("--text-file", metavar="FILE", help="plain-text body from FILE (- = stdin)")
    send.add_argument(
        "--html-file", metavar="FILE", help="HTML body; sent as multipart/alternative with the text"
    )
    send.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="attach a file; repeat for several",
    )
    send.add_argument("--reply-to", nargs="+", action="extend", default=[], metavar="ADDR")
    send.add_argument(
        "--queue",
        action="store_true",
        help="only store the message in the outbox (send later with `outbox run`)",
    )
    send.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the account's password from standard input",
    )
    send.add_argument("--json", action="store_true", help="print JSON")
    send.set_defaults(handler=cmd_send)

    hist = commands.add_parser(
        "history",
        help="list sent messages, or send one again",
        description="list (the default): sent messages, newest first. resend ID: send the "
        "message of history entry ID again now, as a new message to the same recipients "
        "(its files are kept for spool_retention_days after sending; see `relaydesk "
        "settings`).",
    )
    hist.add_argument("action", nargs="?", default="list", choices=["list", "resend"])
    hist.add_argument("id", nargs="?", type=_history_id, help="history entry id (resend)")
    hist.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the account's password from standard input (resend)",
    )
    hist.add_argument(
        "--search",
        default="",
        metavar="Q",
        help="words that must appear in the subject or the addresses",
    )
    hist.add_argument("--limit", type=int, default=20, metavar="N")
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.set_defaults(handler=cmd_history)

    box = commands.add_parser(
        "outbox",
        help="list, send, retry, cancel or discard queued messages",
        description="list: what waits (queued, retrying, failed, possibly sent, cancelled) "
        "and the size of the spool of large messages. run: send everything that is due; "
        "exit 0 when all of it was sent (or nothing was due, or another Relaydesk is "
        "sending the outbox right now and does it), 75 when some stays for a retry, else "
        "the code of the first failure (e.g. 67 refused, 77 authentication). retry ID: "
        "send a failed or possibly sent item again now, with the same Message-ID, never "
        "to recipients that already have it. cancel ID: stop a queued or retrying item. "
        "discard ID: delete an unsent item.",
    )
    box.add_argument(
        "action", nargs="?", default="list", choices=["list", "run", "retry", "cancel", "discard"]
    )
    box.add_argument("id", nargs="?", type=_item_id, help="outbox item id (retry, cancel, discard)")
    box.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the account's password from standard input",
    )
    box.add_argument("--json", action="store_true", help="print JSON")
    box.set_defaults(handler=cmd_outbox)

    audit = commands.add_parser("audit", help="show the audit log")
    audit.add_argument("--limit", type=int, default=50, metavar="N")
    audit.add_argument("--json", action="store_true", help="print JSON")
    audit.set_defaults(handler=cmd_audit)


def _row_id(short: str, noun: str, listing: str) -> Callable[[str], int]:
    """An argparse type for the id of a ``noun`` (listed by ``listing``)."""

    def parse(text: str) -> int:
        # SQLite ids are 64-bit: a longer number is a typo, not a row.
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {short} id: {text[:40]!r}") from None
        if not 0 < value < 2**63:
            raise argparse.ArgumentTypeError(
                f"no {noun} has the id {text[:40]}; see them with: {listing}"
            )
        return value

    return parse


_item_id = _row_id("an item", "outbox item", "relaydesk outbox list")
_history_id = _row_id("a history entry", "history entry", "relaydesk history")


def _read_text(path: str) -> str:
    # Capped before decoding: a body larger than any message may carry is refused unread.
    what = "text on standard input" if path == "-" else f"file {path}"
    if path == "-":
        return decode_text(read_limited(sys.stdin.buffer, MAX_BODY_BYTES, what), what)
    try:
        with open_regular(attachment_path(path)) as handle:
            data = read_limited(handle, MAX_BODY_BYTES, what)
    except OSError as error:
        raise UnreadableFile(
            f"Cannot read {path}: {error.strerror or error}.",
            hint="Check the path; text files must be UTF-8.",
        ) from None
    return decode_text(data, what)


def _draft_from_args(args: argparse.Namespace) -> Draft:
    text = (
        args.text
        if args.text is not None
        else (_read_text(args.text_file) if args.text_file else "")
    )
    return Draft(
        to=tuple(args.to),
        cc=tuple(args.cc),
        bcc=tuple(args.bcc),
        subject=args.subject,
        text=text,
        html=_read_text(args.html_file) if args.html_file else None,
        attachments=tuple(Attachment.from_path(path) for path in args.attach),
        reply_to=tuple(args.reply_to),
    )


def _with_local_names_resolved(store: Store, account_email: str, draft: Draft) -> Draft:
    """`--to root`: names without a domain go through the aliases (app.core.delivery.aliases)."""
    from app.core.delivery.addresses import split_address_list
    from app.core.delivery.aliases import resolve

    def resolved(entries: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            resolve(store, account_email, split_address_list(entries, line_breaks_separate=False))
        )

    return replace(draft, to=resolved(draft.to), cc=resolved(draft.cc), bcc=resolved(draft.bcc))


def cmd_send(args: argparse.Namespace, store: Store, out: Output) -> int:
    account = accounts.get_account(store, args.account)
    draft = _with_local_names_resolved(store, account.email, _draft_from_args(args))
    if args.queue:
        item_id = queue_draft(store, account, draft, face=FACE)
        item = outbox.get_item(store, item_id)
        out.say(
            f"Queued as outbox item {item_id} ({human_size(item.size)}); "
            "send it with: relaydesk outbox run"
        )
        out.emit({"status": "queued", "id": item_id, "message_id": item.message_id})
        return 0
    source = password_source(store, from_stdin=args.password_stdin)
    return _report(queue_and_send(store, account, draft, source, SendOptions(face=FACE)), out)


def _result_dict(result: SendResult) -> dict[str, Any]:
    return {
        "status": result.state.value,
        "id": result.item_id,
        "message_id": result.message_id,
        "accepted": list(result.accepted),
        "refused": result.refused,
        "deferred": result.deferred,
        "final_reply": result.final_reply,
    }


def _report(result: SendResult, out: Output) -> int:
    payload = _result_dict(result)
    if result.error is not None:
        code = out.error(result.error, **payload)
        if result.state in (State.RETRYING, State.POSSIBLY_SENT, State.FAILED):
            out.note(
                f"  The message is kept in the outbox as item {result.item_id} "
                f"({result.state.value.replace('_', ' ')})."
            )
        return code
    if result.accepted:
        out.say(f"Sent to {', '.join(result.accepted)} — server said: {result.final_reply}")
    for address, reply in result.refused.items():
        out.say(f"Refused by the server: {address} — {reply}")
    for address, reply in result.deferred.items():
        out.say(f"Deferred, will retry: {address} — {reply}")
    out.emit(payload)
    return result.exit_code


def cmd_history(args: argparse.Namespace, store: Store, out: Output) -> int:
    if args.action == "resend":
        if args.id is None:
            raise UsageError(
                "`history resend` needs a history entry id.",
                hint="See the ids with: relaydesk history",
            )
        source = password_source(store, from_stdin=args.password_stdin)
        return _report(send_again(store, args.id, source, SendOptions(face=FACE)), out)
    entries = history.search(store, args.search, limit=args.limit)
    out.emit({"status": "ok", "messages": [entry.to_dict() for entry in entries]})
    if not entries:
        out.say("No sent messages match." if args.search else "Nothing sent yet.")
    for entry in entries:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.sent_at))
        to = ", ".join(r["address"] for r in entry.recipients if r["status"] == "accepted")
        out.say(f"{entry.id:>5}  {when}  {entry.account:<10} {entry.subject[:40]:<40}  → {to}")
    return 0


def _describe_item(item: outbox.OutboxItem) -> str:
    to = ", ".join(f"{r.address}({r.status.value})" for r in item.recipients)
    line = f"{item.id:>5}  {item.state.value:<13} {item.subject[:32]:<32} {to}"
    if item.next_attempt_at and item.state is State.RETRYING:
        line += f"  next {time.strftime('%H:%M', time.localtime(item.next_attempt_at))}"
    if item.last_error:
        line += f"\n       {item.last_error.get('message', '')}"
    return line


def cmd_outbox(args: argparse.Namespace, store: Store, out: Output) -> int:
    if args.action in ("retry", "cancel", "discard") and args.id is None:
        raise UsageError(
            f"`outbox {args.action}` needs an item id.",
            hint="See the ids with: relaydesk outbox list",
        )
    if args.action == "retry":
        outbox.retry(store, args.id, face=FACE)
        hold(store, args.id)  # this run sends it; a background sender keeps off
        result = send_item(
            store,
            args.id,
            password_source(store, from_stdin=args.password_stdin),
            SendOptions(face=FACE),
        )
        return _report(result, out)
    if args.action == "cancel":
        outbox.cancel(store, args.id, face=FACE)
        out.say(f"Cancelled outbox item {args.id}; it will not be sent.")
        out.emit({"status": "ok", "id": args.id})
        return 0
    if args.action == "discard":
        outbox.discard(store, args.id, face=FACE)
        out.say(f"Discarded outbox item {args.id}.")
        out.emit({"status": "ok", "id": args.id})
        return 0
    if args.action == "run":
        return _run_due(args, store, out)
    items = [item for item in outbox.list_items(store) if item.state is not State.SENT]
    out.emit([item.to_dict() for item in items])
    if not items:
        out.say("The outbox is empty.")
    for item in items:
        out.say(_describe_item(item))
    files, size = spool.usage(store.path.parent / "spool")
    days = settings.get(store, outbox.SPOOL_RETENTION_SETTING)
    out.say(
        f"Spool: {files} file{'s' if files != 1 else ''}, {human_size(size)} "
        f"(sent messages' files are kept {days:g} days)."
    )
    return 0


def _run_due(args: argparse.Namespace, store: Store, out: Output) -> int:
    with outbox.sender_lock(store) as holder:
        if holder is not None:
            who = f" (process {holder})" if holder else ""
            out.say(
                f"Another Relaydesk is sending the outbox right now{who}; "
                "it sends what is due, so there is nothing to do here."
            )
            out.emit({"status": "busy", "pid": holder or None, "results": []})
            return 0
        outbox.recover(store)
        source = password_source(store, from_stdin=args.password_stdin)
        results = run_due(store, source, SendOptions(face=FACE))
    for result in results:
        state = result.state.value.replace("_", " ")
        out.say(
            f"{result.item_id:>5}  {state}" + (f" — {result.error.message}" if result.error else "")
        )
    out.emit(
        {
            "status": "ok" if all(r.state is State.SENT for r in results) else "incomplete",
            "results": [_result_dict(r) for r in results],
        }
    )
    if not results:
        out.say("Nothing is due.")
    return run_exit_code(results)


def run_exit_code(results: list[SendResult]) -> int:
    """0 all sent; 75 when something stays for a retry; else the first failure's code."""
    if any(r.state not in (State.SENT, State.FAILED, State.CANCELLED) for r in results):
        return int(ExitCode.TEMPFAIL)
    for result in results:
        if result.state is State.FAILED:
            return int(result.error.exit_code) if result.error else int(ExitCode.NOUSER)
    return 0


def cmd_audit(args: argparse.Namespace, store: Store, out: Output) -> int:
    rows = store.audit_rows(args.limit)
    out.emit({"status": "ok", "entries": rows})
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["at"]))
        subject = row["account"] or ""
        item = f" #{row['outbox_id']}" if row["outbox_id"] else ""
        out.say(f"{when}  {row['face']:<8} {row['action']:<16} {subject}{item}: {row['outcome']}")
    return 0
