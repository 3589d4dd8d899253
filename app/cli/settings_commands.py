"""`relaydesk settings`: the same options the Settings dialog shows, from the command line."""

from __future__ import annotations

import argparse

from app.cli.output import Output
from app.core import settings
from app.core.errors import UsageError
from app.core.store import Store


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `settings`."""
    parser = commands.add_parser(
        "settings",
        help="list, show, change or reset settings",
        description="list: every setting with its value and what it does. get KEY, "
        "set KEY VALUE, reset KEY (back to the default).",
    )
    parser.add_argument(
        "action", nargs="?", default="list", choices=["list", "get", "set", "reset"]
    )
    parser.add_argument("key", nargs="?")
    parser.add_argument("value", nargs="?")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=cmd_settings)


def cmd_settings(args: argparse.Namespace, store: Store, out: Output) -> int:
    if args.action == "list":
        rows = [
            {
                "key": s.key,
                "value": settings.get(store, s.key),
                "default": s.default,
                "description": s.description,
            }
            for s in settings.SETTINGS
        ]
        out.emit({"status": "ok", "settings": rows})
        for row in rows:
            out.say(f"{row['key']:<22} {row['value']!s:<8} {row['description']}")
        return 0
    if args.key is None or (args.action == "set" and args.value is None):
        raise UsageError(
            f"`settings {args.action}` needs a key"
            + (" and a value." if args.action == "set" else "."),
            hint="See the keys with: relaydesk settings list",
        )
    if args.action == "set":
        value = settings.put(store, args.key, args.value)
    elif args.action == "reset":
        value = settings.reset(store, args.key)
    else:
        value = settings.get(store, args.key)
    out.emit({"status": "ok", "key": args.key, "value": value})
    out.say(f"{args.key} = {value}")
    return 0
