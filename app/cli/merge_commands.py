"""`relaydesk merge` (a personalised message per row of a list) and `relaydesk merges`."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from app.cli.output import Output
from app.cli.passwords import password_source
from app.core.accounts.model import get_account
from app.core.delivery import connections
from app.core.delivery.attempts import SendOptions
from app.core.delivery.merge import batch, progress
from app.core.delivery.merge.plan import CheckReport, MergeRun, check, preview, rows_of
from app.core.delivery.merge.recipients import history_rows, open_csv
from app.core.delivery.merge.render import MergeOptions
from app.core.delivery.merge.send import send_batch
from app.core.delivery.merge.template import load_template
from app.core.delivery.outbox import SendResult, State
from app.core.errors import UnreadableFile, UsageError
from app.core.store import Store

FACE = "cli"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `merge` and `merges`."""
    merge = commands.add_parser(
        "merge",
        help="send a personalised copy of a message to each row of a CSV list",
        description="TEMPLATE is a message saved as .eml (text, HTML, attachments) whose "
        "headers and text may hold {{column}} placeholders, or {{column|fallback}} for cells "
        "that may be empty. LIST is a CSV file with a header row; the address is in the "
        "column `email` unless --to-column names another; optional columns `cc` and "
        "`attachments` (file paths, separated by ;). Every row is checked before anything "
        "is queued; then the whole run is queued in one step and sent. Exit 0 when all "
        "went, 65 when rows have problems (nothing queued), 75 when some wait (quota, retry).",
    )
    merge.add_argument("template", metavar="TEMPLATE", help="the message (.eml)")
    merge.add_argument("list", metavar="LIST", nargs="?", help="the recipients (.csv)")
    merge.add_argument("--from-history", metavar="Q", help="recipients from History instead")
    merge.add_argument("--account", help="account name (default: the default account)")
    merge.add_argument("--to-column", default="email", metavar="C", help="address column")
    merge.add_argument("--cc-column", default="cc", metavar="C", help="copy addresses column")
    merge.add_argument(
        "--attachments-column", default="attachments", metavar="C", help="per-row files column"
    )
    merge.add_argument(
        "--unsubscribe",
        metavar="LINK",
        help="add List-Unsubscribe: a mailto: or https: link, placeholders allowed "
        "(https also adds one-click List-Unsubscribe-Post)",
    )
    merge.add_argument(
        "--skip-list", metavar="FILE", help="addresses that get nothing (one per line or CSV)"
    )
    merge.add_argument("--dry-run", action="store_true", help="check every row; queue nothing")
    merge.add_argument(
        "--preview",
        type=int,
        metavar="N",
        help="print row N's message and stop (numbered as in a spreadsheet: the first "
        "person is row 2, under the column names)",
    )
    merge.add_argument(
        "--skip-invalid", action="store_true", help="queue the good rows even if some have problems"
    )
    merge.add_argument("--queue-only", action="store_true", help="queue; send later")
    merge.add_argument("--connections", type=int, metavar="N", help="connections for this run")
    merge.add_argument("--name", help="a name for the run (default: the template's file name)")
    merge.add_argument("--results", metavar="FILE", help="write per-row results as CSV")
    merge.add_argument("--password-stdin", action="store_true", help="read the password on stdin")
    merge.add_argument("--json", action="store_true", help="print JSON")
    merge.set_defaults(handler=cmd_merge)

    runs = commands.add_parser(
        "merges",
        help="list, follow, send, pause, resume, cancel or export merge runs",
        description="list: recent runs. status ID: counts and expected end. run ID: send what "
        "is due. pause/resume ID: hold or release the waiting messages. cancel ID: cancel "
        "every message not sent yet. export ID: per-row results as CSV (--out FILE or stdout).",
    )
    runs.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "status", "run", "pause", "resume", "cancel", "export"],
    )
    runs.add_argument("id", nargs="?", type=int, help="merge run id")
    runs.add_argument("--out", metavar="FILE", help="export: write here instead of stdout")
    runs.add_argument("--connections", type=int, metavar="N", help="run: connections")
    runs.add_argument("--password-stdin", action="store_true", help="read the password on stdin")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(handler=cmd_merges)

    tool = commands.add_parser(
        "merge-call",
        help="the send_merge tool for agents: one JSON call on stdin, JSON result out",
        description="Reads the send_merge arguments (see --schema) on stdin and runs them "
        "within the caller's policy (relaydesk policy show CALLER): allowed account and "
        "recipients, and the whole run inside the hourly and daily quota, or nothing is queued.",
    )
    tool.add_argument("--caller", default="cli", help="caller id whose policy applies")
    tool.add_argument("--schema", action="store_true", help="print the JSON schema and stop")
    tool.set_defaults(handler=cmd_merge_call, json=True)


def _unsubscribed(path: str | None) -> frozenset[str]:
    if not path:
        return frozenset()
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise UnreadableFile(
            f"Cannot read the skip list “{path}” ({error.strerror}).",
            hint="Give a file with one address per line.",
        ) from None
    found = set()
    for line in text.splitlines():
        for cell in line.replace(";", ",").split(","):
            if "@" in cell:
                found.add(cell.strip().strip('"').lower())
    return frozenset(found)


def _run(args: argparse.Namespace, store: Store) -> MergeRun:
    template = load_template(args.template)
    account = get_account(store, args.account)
    options = MergeOptions(
        to_column=args.to_column,
        cc_column=args.cc_column,
        attachments_column=args.attachments_column,
        unsubscribe=args.unsubscribe,
        base_dir=Path(args.list).expanduser().absolute().parent if args.list else Path.cwd(),
    )
    skip = _unsubscribed(args.skip_list)
    if args.list and args.from_history is None:
        listing = open_csv(args.list)
        return MergeRun(template, listing.rows, listing.columns, account, options, skip)
    if args.from_history is None:
        raise UsageError(
            "Give the recipient list (a CSV file) or --from-history WORDS.",
            hint="relaydesk merge letter.eml people.csv",
        )
    rows = rows_of(row.values for row in history_rows(store, args.from_history))
    return MergeRun(template, rows, ("email",), account, options, skip)


def cmd_merge(args: argparse.Namespace, store: Store, out: Output) -> int:
    if args.connections is not None:
        connections.check_connections(args.connections)  # before anything is queued
    run = _run(args, store)
    if args.preview is not None:
        message = preview(run, args.preview)
        text = message.data.decode("utf-8", "replace").replace("\r\n", "\n")
        out.emit(
            {
                "status": "ok",
                "row": args.preview,
                "recipients": list(message.recipients),
                "size": message.size,
                "message": text,
            }
        )
        out.say(text)
        return 0
    if args.dry_run:
        report = check(run)
        _print_report(report, out)
        if report.ok:
            out.emit({"status": "ok", **report.to_dict()})
            return 0
        error = batch.refusal(report)
        out.emit({"status": "error", **report.to_dict(), "error": error.to_dict()})
        return int(error.exit_code)
    name = args.name or Path(args.template).stem
    queued = batch.queue(store, run, name=name, face=FACE, skip_invalid=args.skip_invalid)
    _print_report(queued.report, out, problems_only=True)
    out.note(
        f"Queued {queued.queued} messages as merge run {queued.batch_id}"
        + _slot_note(queued.last_slot)
    )
    if args.queue_only:
        out.emit({"status": "queued", **queued.to_dict()})
        return 0
    return _send(args, store, out, queued.batch_id, extra=queued.to_dict())


def _slot_note(last_slot: float) -> str:
    if last_slot <= time.time() + 60:
        return "."
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last_slot))
    return f"; the account's quota spreads them, the last one goes at {when}."


def _print_report(report: CheckReport, out: Output, *, problems_only: bool = False) -> None:
    for problem in report.problems:
        out.say(f"row {problem.row}: {problem.address or '(no address)'}: {problem.message}")
    if report.problem_count > len(report.problems):
        out.say(f"… and {report.problem_count - len(report.problems)} more problems")
    if not problems_only:
        out.say(
            f"{report.rows} rows: {report.ready} ready, {report.problem_count} with problems, "
            f"{report.skipped} on the skip list."
        )


class _Ticker:
    """Progress lines on stderr, at most a few a second."""

    def __init__(self, out: Output, total: int) -> None:
        self._out, self._total, self._done, self._last = out, total, 0, 0.0
        self._start = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, result: SendResult) -> None:
        with self._lock:
            self._done += 1
            now = time.monotonic()
            if now - self._last < 0.5 and self._done < self._total:
                return
            self._last = now
            rate = self._done / max(now - self._start, 1e-6)
            left = (self._total - self._done) / rate if rate else 0
            self._out.note(f"  {self._done}/{self._total} done, about {left:.0f} s left")


def _send(
    args: argparse.Namespace, store: Store, out: Output, batch_id: int, *, extra: dict[str, Any]
) -> int:
    waiting = progress.progress(store, batch_id).waiting
    report = send_batch(
        store,
        batch_id,
        password_source(store, from_stdin=args.password_stdin),
        SendOptions(face=FACE),
        count=args.connections,
        on_result=_Ticker(out, waiting),
    )
    if getattr(args, "results", None):
        _export(store, batch_id, args.results)
    state = progress.progress(store, batch_id)
    if report.lowered_to is not None:
        out.note(f"The server refused more connections; used {report.lowered_to}.")
    out.say(_summary(state))
    payload = {**extra, **state.to_dict(), "connections": report.opened}
    if report.error is not None:
        out.emit({"status": "error", **payload, "error": report.error.to_dict()})
        if not out.as_json:
            out.error(report.error)
        return int(report.error.exit_code)
    complete = state.counts.get(State.SENT.value, 0) == state.total
    out.emit({"status": "ok" if complete else "incomplete", **payload})
    return 0 if complete else 75


def _summary(state: progress.Progress) -> str:
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(state.counts.items()))
    line = f"Merge run {state.batch_id} ({state.name}): {counts} of {state.total}."
    if state.waiting and state.eta:
        line += f" The rest goes by {time.strftime('%Y-%m-%d %H:%M', time.localtime(state.eta))}."
    return line


def _export(store: Store, batch_id: int, path: str) -> None:
    if path == "-":
        progress.export_results(store, batch_id, sys.stdout)
        return
    try:
        with open(Path(path).expanduser(), "w", encoding="utf-8", newline="") as handle:
            progress.export_results(store, batch_id, handle)
    except OSError as error:
        raise UnreadableFile(
            f"Cannot write the results to “{path}” ({error.strerror}).",
            hint="Choose a folder you can write to.",
        ) from None


def cmd_merges(args: argparse.Namespace, store: Store, out: Output) -> int:
    if args.action == "list":
        runs = progress.latest_batches(store)
        out.emit({"status": "ok", "runs": runs})
        for run in runs:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["created_at"]))
            out.say(
                f"{run['id']:>4}  {when}  {run['account']:<12} {run['total']:>6}  {run['name']}"
            )
        if not runs:
            out.say("No merge runs yet.")
        return 0
    if args.id is None:
        raise UsageError(f"`merges {args.action}` needs a run id.", hint="See: relaydesk merges")
    if args.action == "status":
        state = progress.progress(store, args.id)
        out.emit({"status": "ok", **state.to_dict()})
        out.say(_summary(state))
        return 0
    if args.action == "run":
        return _send(args, store, out, args.id, extra={})
    if args.action == "export":
        if args.out:
            _export(store, args.id, args.out)
        else:
            progress.export_results(store, args.id, out.out)
        return 0
    action = {"pause": progress.pause, "resume": progress.resume, "cancel": progress.cancel_rest}
    changed = action[args.action](store, args.id, face=FACE)
    out.emit({"status": "ok", "batch": args.id, "changed": changed})
    done = {"pause": "held", "resume": "released", "cancel": "cancelled"}[args.action]
    out.say(f"Merge run {args.id}: {changed} messages {done}.")
    return 0


def cmd_merge_call(args: argparse.Namespace, store: Store, out: Output) -> int:
    import json

    from app.core.agents import tool
    from app.core.delivery.merge.agent import SEND_MERGE, SEND_MERGE_DESCRIPTION, send_merge

    if args.schema:
        out.emit(
            {"name": "send_merge", "description": SEND_MERGE_DESCRIPTION, "parameters": SEND_MERGE}
        )
        return 0
    try:
        arguments = json.loads(sys.stdin.read())
    except json.JSONDecodeError as error:
        raise UsageError(
            f"The call is not valid JSON: {error.msg} (line {error.lineno}).",
            hint="Send one object; see relaydesk merge-call --schema",
        ) from None
    tool.validate(SEND_MERGE, arguments, "send_merge arguments")
    result = send_merge(store, arguments, caller=args.caller)
    out.emit(result)
    return tool.result_exit_code(result)
