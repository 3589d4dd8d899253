"""`relaydesk tool`, `policy` and `mcp`: the faces agents use (sendmail: sendmail_commands)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import replace
from typing import Any

from app.cli.output import Output
from app.core.agents import policy as policies
from app.core.agents.schema import TOOLS, function_definition
from app.core.errors import ConfigError, MessageTooLarge, RelayError
from app.core.limits import MAX_TOOL_CALL_BYTES, decode_text, read_limited
from app.core.sizes import human_size
from app.core.store import Store

DEFAULT_CALLER = "default"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(|b|bytes?|k|kb|m|mb|g|gb)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6}
_UNITS.update({"g": 1e9, "gb": 1e9})


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `tool`, `policy` and `mcp`."""
    _register_tool(commands)
    _register_policy(commands)
    mcp = commands.add_parser(
        "mcp",
        help="serve the send_email tool over MCP (stdio)",
        description="Serve the Model Context Protocol on standard input/output with the tools "
        "send_email, list_accounts and get_message_status. The caller id is --caller, or "
        "else the name the client declares.",
    )
    mcp.add_argument("--caller", metavar="ID", help="caller id whose policy applies")
    mcp.set_defaults(handler=cmd_mcp)


# --- tool ------------------------------------------------------------------------------


def _register_tool(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = commands.add_parser(
        "tool",
        help="the send_email tool for AI agents: schema and calls",
        description="`tool schema` prints the send_email function definition (its "
        "`parameters` are a JSON Schema); `tool call` reads one call "
        '{"name": "send_email", "arguments": {…}} on stdin and prints one JSON result.',
    )
    actions = t.add_subparsers(dest="tool_action", metavar="ACTION", required=True)
    schema = actions.add_parser("schema", help="print a tool's function definition")
    schema.add_argument("name", nargs="?", default="send_email", choices=list(TOOLS))
    schema.add_argument(
        "--parameters", action="store_true", help="print only the JSON Schema of the arguments"
    )
    schema.set_defaults(handler=cmd_tool_schema)
    call = actions.add_parser("call", help="run one tool call read from stdin")
    call.add_argument("--caller", default=DEFAULT_CALLER, metavar="ID", help="whose policy applies")
    call.set_defaults(handler=cmd_tool_call, json=True)  # errors, too, come out as JSON


def cmd_tool_schema(args: argparse.Namespace, store: Store, out: Output) -> int:
    definition = function_definition(args.name)
    payload = definition["parameters"] if args.parameters else definition
    print(json.dumps(payload, indent=2, ensure_ascii=False))
    return 0


def cmd_tool_call(args: argparse.Namespace, store: Store, out: Output) -> int:
    from app.core.agents import tool  # jsonschema is slow to import; only this command needs it

    try:
        data = read_limited(sys.stdin.buffer, MAX_TOOL_CALL_BYTES, "tool call")
        text = decode_text(data, "tool call")
    except MessageTooLarge:
        result = tool.rejected(store, tool.call_too_large(), caller=args.caller, via="cli")
    except RelayError as error:
        result = tool.rejected(store, error, caller=args.caller, via="cli")
    else:
        result = tool.call_text(store, text, caller=args.caller, via="cli")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return tool.result_exit_code(result)


# --- policy ----------------------------------------------------------------------------


def _size(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 10MB, 500KB or 2000)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _quota(text: str) -> int | None:
    if text.lower() in ("none", "unlimited"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (or: none)") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a quota cannot be negative")
    return value


def _register_policy(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "policy",
        help="what each tool caller (agent, script) may send",
        description="Per-caller rules for `tool call` and `mcp`. Without a policy a caller may "
        "use any account and recipient, 20 messages an hour and 100 a day, base64 "
        "attachments up to 10 MB, and no attachment by file path.",
    )
    actions = p.add_subparsers(dest="policy_action", metavar="ACTION", required=True)
    s = actions.add_parser("set", help="change a caller's policy (other rules stay as they are)")
    s.add_argument("caller", metavar="CALLER")
    s.add_argument(
        "--account",
        dest="accounts",
        action="append",
        metavar="NAME",
        help="allow only these accounts (repeat; replaces the list)",
    )
    s.add_argument("--any-account", action="store_true", help="allow every account")
    s.add_argument(
        "--allow-recipient",
        dest="recipients",
        action="append",
        metavar="ADDR|DOMAIN",
        help="allow only these addresses or domains "
        "(*.example.com for subdomains; repeat; replaces the list)",
    )
    s.add_argument("--any-recipient", action="store_true", help="allow every recipient")
    for unit in ("hour", "day"):
        s.add_argument(
            f"--per-{unit}",
            type=_quota,
            default=argparse.SUPPRESS,
            metavar="N",
            help=f"messages per {unit} (or: none)",
        )
    s.add_argument("--max-attachment-size", type=_size, metavar="SIZE", help="e.g. 5MB")
    s.add_argument(
        "--attachment-dir",
        dest="dirs",
        action="append",
        metavar="DIR",
        help="allow attachments by path from this folder (repeat; replaces the list)",
    )
    s.add_argument(
        "--no-attachment-dirs",
        action="store_true",
        help="allow no attachment by path (the default)",
    )
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(handler=cmd_policy_set)
    for name, handler, text in (
        ("show", cmd_policy_show, "show a caller's policy"),
        ("remove", cmd_policy_remove, "forget a caller's policy (back to the defaults)"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("caller", metavar="CALLER")
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(handler=handler)
    lst = actions.add_parser("list", help="list callers with a policy")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=cmd_policy_list)


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.any_account:
        changes["accounts"] = None
    elif args.accounts:
        changes["accounts"] = tuple(args.accounts)
    if args.any_recipient:
        changes["recipients"] = None
    elif args.recipients:
        changes["recipients"] = tuple(args.recipients)
    if args.no_attachment_dirs:
        changes["attachment_dirs"] = ()
    elif args.dirs:
        changes["attachment_dirs"] = tuple(args.dirs)
    for key in ("per_hour", "per_day"):
        if hasattr(args, key):  # absent unless given (default=SUPPRESS); None = unlimited
            changes[key] = getattr(args, key)
    if args.max_attachment_size is not None:
        changes["max_attachment_size"] = args.max_attachment_size
    return changes


def _describe(policy: policies.Policy) -> list[str]:
    def listing(values: tuple[str, ...] | None, everything: str) -> str:
        return everything if values is None else (", ".join(values) or "none")

    def quota(value: int | None) -> str:
        return "unlimited" if value is None else str(value)

    return [
        f"Caller:            {policy.caller}",
        f"Accounts:          {listing(policy.accounts, 'any')}",
        f"Recipients:        {listing(policy.recipients, 'anyone')}",
        f"Quota:             {quota(policy.per_hour)} per hour, {quota(policy.per_day)} per day",
        f"Attachment cap:    {human_size(policy.max_attachment_size)} each",
        "Attachment paths:  " + (", ".join(policy.attachment_dirs) or "none (base64 content only)"),
    ]


def cmd_policy_set(args: argparse.Namespace, store: Store, out: Output) -> int:
    current = policies.get_policy(store, args.caller)
    updated = replace(current, **_changes(args))
    policies.set_policy(store, updated, face="cli")
    return cmd_policy_show(args, store, out)


def cmd_policy_show(args: argparse.Namespace, store: Store, out: Output) -> int:
    policy = policies.get_policy(store, args.caller)
    stored = policies.has_policy(store, args.caller)
    out.emit({"status": "ok", "stored": stored, "policy": policy.to_dict()})
    for line in _describe(policy):
        out.say(line)
    if not stored:
        out.say("(no policy set for this caller: these are the defaults)")
    return 0


def cmd_policy_remove(args: argparse.Namespace, store: Store, out: Output) -> int:
    removed = policies.remove_policy(store, policies.check_caller(args.caller), face="cli")
    out.emit({"status": "ok", "removed": removed})
    out.say(
        f"Removed the policy of {args.caller}; the defaults apply."
        if removed
        else f"{args.caller} had no policy; the defaults apply."
    )
    return 0


def cmd_policy_list(args: argparse.Namespace, store: Store, out: Output) -> int:
    stored = policies.list_policies(store)
    out.emit({"status": "ok", "policies": [p.to_dict() for p in stored]})
    if not stored:
        out.say("No caller has a policy; every caller gets the defaults:")
        for line in _describe(policies.Policy(caller="(any)"))[1:]:
            out.say("  " + line)
    for policy in stored:
        out.say("\n".join(_describe(policy)) + "\n")
    return 0


# --- mcp -------------------------------------------------------------------------------


def cmd_mcp(args: argparse.Namespace, store: Store, out: Output) -> int:
    try:
        from app.agents.mcp_server import serve
    except ImportError as error:
        if not (error.name or "").startswith(("mcp", "pydantic", "anyio")):
            raise  # a bug in our own code, not a missing extra
        raise ConfigError(
            "relaydesk mcp needs the agents extra, which is not installed.",
            hint="Install it: pipx install 'relaydesk[agents]' "
            "(or pip install 'relaydesk[agents]' in Relaydesk's environment).",
        ) from None

    if args.caller is not None:
        policies.check_caller(args.caller)
    store.close()  # each tool call opens its own connection in a worker thread
    return serve(caller=args.caller)
