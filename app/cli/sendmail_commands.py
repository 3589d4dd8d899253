"""`relaydesk sendmail` — also what runs when the program is started as `sendmail` or `mailq`.

Accepts the command lines that cron, mail(1), git and other daemons use with
Postfix's or msmtp's sendmail: options that only tune a local MTA's own queue
(``-oem``, ``-odi``, ``-B8BITMIME``, ``-N…`` …) are accepted and ignored;
``-t -i -f/-r -F`` are honoured; ``-bp`` lists the outbox (like ``mailq``) and
``-q`` sends what is due.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli.output import Output
from app.core.errors import ExitCode, UsageError

if TYPE_CHECKING:  # the store (sqlite3) loads when a command runs, not for --help
    from app.core.store import Store

_IGNORED_WITH_VALUE = ("-B", "-N", "-L", "-O", "-R", "-V", "-X", "-C", "-e", "-A")
_IGNORED_FLAGS = ("-v", "-U", "-m", "-G")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sendmail`."""
    sm = commands.add_parser(
        "sendmail",
        help="send a message read from standard input, like sendmail",
        description="Read an RFC 5322 message on standard input and send it through the "
        "outbox, like msmtp or sendmail. Started under the name `sendmail` (a symlink), the "
        "program behaves as `relaydesk sendmail`; as `mailq`, it lists the outbox. Exit codes "
        "follow sysexits (75: kept in the outbox for a later retry). Recipients without a "
        "domain (root) go through the aliases file, then to the default address (see "
        "`relaydesk settings list`).",
    )
    sm.add_argument("-t", dest="extract", action="store_true", help="recipients from the headers")
    sm.add_argument(
        "-i", dest="ignore_dots", action="store_true", help="a line with a single dot is not EOF"
    )
    sm.add_argument("-f", "-r", dest="envelope_from", metavar="FROM", help="envelope sender")
    sm.add_argument("-F", dest="full_name", metavar="NAME", help="full name for an added From")
    sm.add_argument("--account", help="account name (default: by From address, else default)")
    sm.add_argument(
        "-o",
        dest="legacy",
        action="append",
        default=[],
        metavar="OPTION",
        help="sendmail -o options: -oi means -i; others (-oem, -odi, -oQ…) are ignored",
    )
    sm.add_argument(
        "-b",
        dest="mode",
        default="m",
        metavar="MODE",
        help="-bm deliver (the default); -bp list the outbox, like mailq",
    )
    sm.add_argument(
        "-q",
        dest="queue_run",
        nargs="?",
        const="",
        default=None,
        metavar="INTERVAL",
        help="send what is due in the outbox now (an interval, -q30m, is ignored)",
    )
    for flag in _IGNORED_WITH_VALUE:  # accepted for compatibility, no effect
        sm.add_argument(flag, dest=f"ignored_{flag[1]}", help=argparse.SUPPRESS)
    for flag in _IGNORED_FLAGS:
        sm.add_argument(
            flag, dest=f"ignored_{flag[1]}", action="store_true", help=argparse.SUPPRESS
        )
    sm.add_argument("recipients", nargs="*", metavar="RCPT")
    sm.set_defaults(handler=cmd_sendmail)


def _outbox_command(action: str, store: Store, out: Output) -> int:
    from app.cli.mail_commands import cmd_outbox

    return cmd_outbox(argparse.Namespace(action=action, id=None, password_stdin=False), store, out)


def _queue_run_value(args: argparse.Namespace) -> str | None:
    """`-q` takes its interval attached (-q30m); a separate word after it is a recipient."""
    value: str | None = args.queue_run
    if value and not value[:1].isdigit():
        args.recipients.insert(0, value)
        return ""
    return value


def cmd_sendmail(args: argparse.Namespace, store: Store, out: Output) -> int:
    """Deliver one message from stdin (or list / run the outbox for -bp / -q)."""
    mode = (args.mode or "m")[:1]
    if _queue_run_value(args) is not None:
        return _outbox_command("run", store, out)
    if mode == "p":
        return _outbox_command("list", store, out)
    if mode != "m":
        raise UsageError(
            f"sendmail mode -b{args.mode} is not supported.",
            hint="Relaydesk delivers messages (-bm, the default) and lists the outbox (-bp).",
        )
    return _deliver(args, store, out)


def _deliver(args: argparse.Namespace, store: Store, out: Output) -> int:
    from app.cli.passwords import password_source
    from app.core.agents import sendmail
    from app.core.delivery.attempts import SendOptions
    from app.core.delivery.send import send_now

    envelope_from = (args.envelope_from or "").strip().strip("<>") or None
    options = sendmail.SendmailOptions(
        recipients=tuple(args.recipients),
        extract_recipients=args.extract,
        envelope_from=envelope_from,
        full_name=args.full_name,
        account=args.account,
    )
    ignore_dots = args.ignore_dots or "i" in args.legacy
    data = sendmail.read_message(sys.stdin.buffer, ignore_dots=ignore_dots)
    item_id = sendmail.queue_message(store, data, options)
    result = send_now(
        store, item_id, password_source(store, from_stdin=False), SendOptions(face=sendmail.FACE)
    )
    if result.error is not None:
        code = out.error(result.error)
        out.note(f"  The message is kept in the outbox as item {item_id} ({result.state.value}).")
        return code
    for address, reply in result.refused.items():
        out.note(f"relaydesk: refused by the server: {address} — {reply}")
    for address, reply in result.deferred.items():
        out.note(f"relaydesk: deferred, kept in the outbox for retry: {address} — {reply}")
    return int(ExitCode.NOUSER) if result.refused else result.exit_code
