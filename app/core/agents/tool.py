"""The agent tools behind ``relaydesk tool call`` and the MCP server.

Every call, allowed or rejected, leaves one audit row (face ``tool``, action
``tool_call``, the caller id in ``detail``); a call that queued a message carries
its outbox id, which is what the caller's quotas count. Passwords come only from
the keyring and never appear in a result or an audit row.
"""

from __future__ import annotations

import base64
import binascii
import json
from email import policy as email_policy
from email.parser import BytesHeaderParser
from typing import Any

import jsonschema

from app.core import crash
from app.core.accounts.credentials import CredentialResolver
from app.core.accounts.model import Account, get_account, list_accounts
from app.core.agents import caller_quota
from app.core.agents.policy import (
    TOOL_ACTION,
    TOOL_FACE,
    Policy,
    check_account,
    check_caller,
    check_content_size,
    check_recipients,
    get_policy,
    read_attachment,
)
from app.core.agents.schema import CALL, TOOLS
from app.core.delivery import outbox
from app.core.delivery.addresses import parse_address_list
from app.core.delivery.attempts import SendOptions
from app.core.delivery.message import Attachment, Draft, build
from app.core.delivery.outbox import SendResult, State
from app.core.delivery.send import queue_and_send
from app.core.errors import InvalidInput, MessageTooLarge, RelayError
from app.core.limits import MAX_TOOL_CALL_BYTES, check_json_depth, check_value
from app.core.store import Store

_STATUS = {
    State.QUEUED: "queued",
    State.SENDING: "queued",
    State.SENT: "sent",
    State.RETRYING: "retrying",
    State.FAILED: "failed",
    State.POSSIBLY_SENT: "possibly_sent",
    State.CANCELLED: "failed",
}


def validate(schema: dict[str, Any], value: Any, what: str) -> None:
    """InvalidInput naming the first problem jsonschema finds."""
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(value)
    )
    if error is None:
        return
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    raise InvalidInput(
        f"The {what} is not valid at {where}: {error.message[:300]}",
        hint="See the schema with: relaydesk tool schema",
        details={"where": where},
    )


def error_result(error: RelayError, status: str = "rejected") -> dict[str, Any]:
    """The result of a call that did not get as far as sending."""
    return {"status": status, "message_id": None, "accepted": [], "refused": {}, "error": error}


# --- send_email ------------------------------------------------------------------------


def _list(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return parse_address_list(value)


def _attachment(policy: Policy, spec: dict[str, Any]) -> Attachment:
    if "path" in spec:
        name, data = read_attachment(policy, spec["path"])
    else:
        name, content = spec["filename"], "".join(spec["content"].split())
        # Refuse before decoding a blob far above the cap.
        check_content_size(policy, name, len(content) * 3 // 4 - 2)
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                f"The content of attachment “{name}” is not valid base64.",
                hint="Encode the file's bytes with standard base64.",
            ) from None
        check_content_size(policy, name, len(data))
    return Attachment(
        filename=spec.get("filename") or name, content_type=spec.get("content_type"), data=data
    )


def _draft(policy: Policy, arguments: dict[str, Any]) -> Draft:
    return Draft(
        to=_list(arguments.get("to")),
        cc=_list(arguments.get("cc")),
        bcc=_list(arguments.get("bcc")),
        subject=arguments.get("subject", ""),
        text=arguments.get("text", ""),
        html=arguments.get("html"),
        reply_to=_list(arguments.get("reply_to")),
        attachments=tuple(_attachment(policy, a) for a in arguments.get("attachments", ())),
    )


def _dry_run(account: Account, draft: Draft) -> dict[str, Any]:
    built = build(draft, sender=account.email, sender_name=account.from_name)
    headers = BytesHeaderParser(policy=email_policy.default).parsebytes(built.data)
    return {
        "status": "dry_run",
        "message_id": built.message_id,
        "account": account.name,
        "headers": {name: str(value) for name, value in headers.items()},
        "size": built.size,
        "envelope": {"from": built.envelope_from, "recipients": list(built.recipients)},
        "recipients": {"to": list(draft.to), "cc": list(draft.cc), "bcc": list(draft.bcc)},
        "attachments": [
            {"filename": a.filename, "content_type": a.mime_type, "size": len(a.read())}
            for a in draft.attachments
        ],
        "accepted": [],
        "refused": {},
        "error": None,
    }


def sent_result(result: SendResult, account: str) -> dict[str, Any]:
    """The tool result of one send attempt."""
    return {
        "status": _STATUS[result.state],
        "message_id": result.message_id,
        "outbox_id": result.item_id,
        "account": account,
        "accepted": list(result.accepted),
        "refused": dict(result.refused),
        "deferred": dict(result.deferred),
        "error": result.error,
    }


def send_email(store: Store, arguments: Any, *, caller: str, audit: dict[str, Any]) -> Any:
    """Check the call against the caller's policy, then dry-run or queue and send it."""
    validate(TOOLS["send_email"][1], arguments, "send_email arguments")
    policy = get_policy(store, caller)
    account = get_account(store, arguments.get("account"))
    audit["account"] = account.name
    check_account(policy, account)
    draft = _draft(policy, arguments)
    audit["recipients"] = list(draft.to + draft.cc + draft.bcc)
    check_recipients(policy, draft.to + draft.cc + draft.bcc)
    caller_quota.check_quota(store, policy)
    if arguments.get("dry_run"):
        return _dry_run(account, draft)
    audit["hold"] = caller_quota.reserve(store, policy)  # released with the audit row
    result = queue_and_send(
        store,
        account,
        draft,
        CredentialResolver(store, cannot_ask="a tool call cannot ask"),
        SendOptions(face=TOOL_FACE),
        on_queued=lambda item_id: audit.__setitem__("outbox_id", item_id),
    )
    return sent_result(result, account.name)


# --- list_accounts and get_message_status ---------------------------------------------


def accounts_for(store: Store, caller: str, audit: dict[str, Any]) -> dict[str, Any]:
    """Names and addresses of the accounts this caller may use; nothing else."""
    policy = get_policy(store, caller)
    listed = [
        {"name": account.name, "email": account.email, "default": is_default}
        for account, is_default in list_accounts(store)
        if policy.accounts is None or account.name in policy.accounts
    ]
    return {"status": "ok", "accounts": listed}


def message_status(store: Store, message_id: str, *, caller: str) -> dict[str, Any]:
    """Outbox state and per-recipient status of a message this caller sent."""
    wanted = message_id.strip()
    if not wanted.startswith("<"):
        wanted = f"<{wanted}>"
    row = store.execute(
        "SELECT o.id FROM outbox o WHERE o.message_id = ? AND EXISTS (SELECT 1 FROM audit a"
        " WHERE a.outbox_id = o.id AND a.face = ? AND a.action = ?"
        " AND json_extract(a.detail, '$.caller') = ?) ORDER BY o.id DESC LIMIT 1",
        (wanted, TOOL_FACE, TOOL_ACTION, caller),
    ).fetchone()
    if row is None:
        return error_result(
            InvalidInput(
                f"No message {wanted} sent by caller “{caller}” is known.",
                hint="Use the message_id that send_email returned.",
            ),
            status="not_found",
        )
    item = outbox.get_item(store, int(row["id"]))
    return {
        "status": "ok",
        "message_id": item.message_id,
        "state": _STATUS[item.state],
        "outbox_id": item.id,
        "account": item.account,
        "subject": item.subject,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "recipients": item.to_dict()["recipients"],
        "error": item.last_error,
    }


# --- dispatch --------------------------------------------------------------------------


def _dispatch(
    store: Store, name: str, arguments: Any, caller: str, audit: dict[str, Any]
) -> dict[str, Any]:
    if name == "send_email":
        result: dict[str, Any] = send_email(store, arguments, caller=caller, audit=audit)
        return result
    validate(TOOLS[name][1], arguments, f"{name} arguments")
    if name == "list_accounts":
        return accounts_for(store, caller, audit)
    if name == "send_merge":
        from app.core.delivery.merge.agent import (
            send_merge,  # loads the merge machinery only when used
        )

        merged: dict[str, Any] = send_merge(store, arguments, caller=caller)
        return merged
    return message_status(store, arguments["message_id"], caller=caller)


def _parse_request(request: Any) -> tuple[str, Any]:
    validate(CALL, request, "tool call")
    name, arguments = request["name"], request.get("arguments", {})
    if name not in TOOLS:
        raise InvalidInput(
            f"There is no tool named “{name[:60]}”.",
            hint="Tools: " + ", ".join(TOOLS),
        )
    if isinstance(arguments, str):  # some function-calling APIs pass arguments as JSON text
        check_json_depth(arguments, "tool call's arguments")
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            raise InvalidInput(
                "The tool call's arguments are not valid JSON.",
                hint='Give them as an object: {"name": "send_email", "arguments": {…}}',
            ) from None
    return name, arguments


def call(store: Store, request: Any, *, caller: str, via: str = "cli") -> dict[str, Any]:
    """Run one tool call; always returns a result and leaves exactly one audit row."""
    audit: dict[str, Any] = {"caller": check_caller(caller), "via": via}
    name = request.get("name") if isinstance(request, dict) else None
    audit["tool"] = name if isinstance(name, str) and name in TOOLS else None
    try:
        check_value(request, "tool call")
        name, arguments = _parse_request(request)
        result = _dispatch(store, name, arguments, caller, audit)
    except RelayError as error:
        result = error_result(error)
    except Exception as error:  # noqa: BLE001 - a bug must still give the caller a result
        bug = crash.internal_error(error, face=TOOL_FACE, action=TOOL_ACTION)
        result = error_result(bug, status="failed")
    _audit(store, audit, result)
    return _public(result)


def call_text(store: Store, text: str, *, caller: str, via: str = "cli") -> dict[str, Any]:
    """Run one tool call given as JSON text (``relaydesk tool call`` reads it on stdin)."""
    try:
        request = parse_call(text)
    except RelayError as error:
        return rejected(store, error, caller=caller, via=via)
    return call(store, request, caller=caller, via=via)


def rejected(store: Store, error: RelayError, *, caller: str, via: str) -> dict[str, Any]:
    """The audited result of a call refused before it could be read."""
    result = error_result(error)
    _audit(store, {"caller": check_caller(caller), "via": via, "tool": None}, result)
    return _public(result)


def parse_call(text: str) -> Any:
    """The JSON of one call, refused before parsing when too large or too deeply nested."""
    if len(text) > MAX_TOOL_CALL_BYTES:
        raise call_too_large()
    check_json_depth(text, "tool call")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"The tool call is not valid JSON: {error.msg} (line {error.lineno}).",
            hint='Send one object: {"name": "send_email", "arguments": {…}}',
        ) from None


def call_too_large() -> RelayError:
    """The error for a call above :data:`MAX_TOOL_CALL_BYTES` (nothing of it was parsed)."""
    return MessageTooLarge(
        f"The tool call is larger than {MAX_TOOL_CALL_BYTES:,} bytes, the most Relaydesk reads.",
        hint="Attach large files by path from an allowed folder "
        "(relaydesk policy set CALLER --attachment-dir DIR) instead of inline base64.",
        details={"limit": MAX_TOOL_CALL_BYTES},
    )


def _audit(store: Store, audit: dict[str, Any], result: dict[str, Any]) -> None:
    error = result.get("error")
    detail = {k: v for k, v in audit.items() if k not in ("account", "outbox_id", "hold")}
    if isinstance(error, RelayError):
        detail["error"] = error.code
    # One transaction: the call's quota slot moves from its hold to its audit row.
    with store.transaction():
        store.audit(
            face=TOOL_FACE,
            action=TOOL_ACTION,
            outcome=str(result["status"]),
            account=audit.get("account"),
            outbox_id=audit.get("outbox_id"),
            detail=detail,
        )
        if audit.get("hold"):
            caller_quota.release(store, int(audit["hold"]))


def _public(result: dict[str, Any]) -> dict[str, Any]:
    error = result.get("error")
    if isinstance(error, RelayError):
        result = {**result, "error": error.to_dict()}
    return result


def result_exit_code(result: dict[str, Any]) -> int:
    """The sysexits code a CLI front end ends with for this result."""
    error = result.get("error")
    if result["status"] in ("sent", "dry_run", "ok", "queued") and not error:
        return 0
    if isinstance(error, dict) and isinstance(error.get("exit_code"), int):
        return int(error["exit_code"])
    return 75
