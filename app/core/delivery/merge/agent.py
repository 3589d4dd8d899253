"""The ``send_merge`` tool: an agent queues a personalised run within its caller policy.

The caller gives the template (subject, text, optional HTML) and the rows as
objects. The policy binds every message of the run as if each were one
``send_email`` call: the account must be allowed, every address (To and Cc of
every row) must be allowed, and the whole run must fit in what is left of the
caller's hourly and daily quota — otherwise nothing is queued. Each queued
message gets its own audit row (face ``tool``), so later calls count it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from app.core.accounts.credentials import CredentialResolver
from app.core.accounts.model import get_account
from app.core.agents.caller_quota import sent_count
from app.core.agents.policy import (
    TOOL_ACTION,
    TOOL_FACE,
    Policy,
    check_account,
    check_caller,
    check_recipients,
    get_policy,
)
from app.core.agents.schema import MERGE_MAX_ROWS as MAX_ROWS
from app.core.agents.schema import SEND_MERGE, SEND_MERGE_DESCRIPTION
from app.core.delivery.attempts import SendOptions
from app.core.delivery.merge import batch
from app.core.delivery.merge.plan import CheckReport, MergeRun, rendered_rows, rows_of
from app.core.delivery.merge.render import MergeOptions
from app.core.delivery.merge.send import send_batch
from app.core.delivery.merge.template import MergeTemplate
from app.core.errors import CallerQuotaExceeded, RelayError
from app.core.store import Store

__all__ = ["MAX_ROWS", "SEND_MERGE", "SEND_MERGE_DESCRIPTION", "send_merge"]


def _run(store: Store, policy: Policy, arguments: dict[str, Any]) -> MergeRun:
    account = get_account(store, arguments.get("account"))
    check_account(policy, account)
    template = MergeTemplate.compose(
        subject=arguments["subject"], text=arguments["text"], html=arguments.get("html")
    )
    options = MergeOptions(
        to_column=arguments.get("to_column", "email"), attachments_column="\0none"
    )
    rows = arguments["rows"]
    columns = tuple(sorted({key for row in rows for key in row}))
    return MergeRun(template, rows_of(rows), columns, account, options)


def _check_policy(store: Store, policy: Policy, run: MergeRun) -> CheckReport:
    report = CheckReport()
    addresses: list[str] = []
    for _, message in rendered_rows(run, report):
        if message is not None:
            addresses.extend(message.recipients)
    check_recipients(policy, tuple(addresses))
    _check_room(store, policy, report.ready)
    return report


def _check_room(store: Store, policy: Policy, messages: int) -> None:
    """CallerQuotaExceeded unless ``messages`` more fit in the caller's hour and day."""
    now = time.time()
    for limit, window, label in ((policy.per_hour, 3600, "hour"), (policy.per_day, 86400, "day")):
        if limit is None:
            continue
        used = sent_count(store, policy.caller, now - window)
        if used + messages > limit:
            raise CallerQuotaExceeded(
                f"The run has {messages} messages, but caller “{policy.caller}” may send "
                f"only {max(0, limit - used)} more in this {label} (limit {limit}). "
                "Nothing was queued.",
                hint="Send fewer rows, or raise the quota with: "
                f"relaydesk policy set {policy.caller} --per-{label} N",
                details={"used": used, "limit": limit, "window": label},
            )


def send_merge(store: Store, arguments: dict[str, Any], *, caller: str) -> dict[str, Any]:
    """Check, queue and send one merge run for ``caller``; a result dict, never a raise.

    ``arguments`` must already match ``SEND_MERGE`` (the dispatcher validates it).
    """
    check_caller(caller)
    try:
        policy = get_policy(store, caller)
        run = _run(store, policy, arguments)
        report = _check_policy(store, policy, run)
        if not report.ok:
            error = batch.refusal(report).to_dict()
            return {"status": "rejected", **report.to_dict(), "error": error}
        if arguments.get("dry_run"):
            return {"status": "dry_run", **report.to_dict()}
        queued = batch.queue(
            store,
            run,
            name=f"tool:{caller}",
            face=TOOL_FACE,
            before_commit=lambda db, batch_id, count: _count_against_quota(
                store, db, policy, batch_id, count
            ),
        )
        resolver = CredentialResolver(store, cannot_ask="a tool call cannot ask")
        sent = send_batch(store, queued.batch_id, resolver, SendOptions(face=TOOL_FACE))
    except RelayError as error:
        return {"status": "rejected", "error": error.to_dict()}
    return {
        "status": "sent" if sent.sent == queued.queued else "queued",
        "batch": queued.batch_id,
        "queued": queued.queued,
        "sent": sent.sent,
        "error": sent.error.to_dict() if sent.error else None,
    }


def _count_against_quota(
    store: Store, db: sqlite3.Connection, policy: Policy, batch_id: int, count: int
) -> None:
    """Inside the queueing transaction: check the room again (another call may have
    used it since), then write one audit row per message, which is what later calls
    count. Two calls racing each other see each other here."""
    _check_room(store, policy, count)
    detail = json.dumps({"caller": policy.caller, "tool": "send_merge", "batch": batch_id})
    db.execute(
        "INSERT INTO audit (at, face, action, account, outbox_id, outcome, detail)"
        " SELECT ?, ?, ?, account, id, 'queued', ? FROM outbox WHERE batch_id = ?",
        (time.time(), TOOL_FACE, TOOL_ACTION, detail, batch_id),
    )
