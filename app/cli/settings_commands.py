"""`relaydesk settings list|get|set|reset`: the settings registry of app.core.settings."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.cli.output import Output
from app.core import settings

if TYPE_CHECKING:  # the store (sqlite3) loads when a command runs, not for --help
    from app.core.store import Store

FACE = "cli"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `settings` and its actions."""
    parser = commands.add_parser(
        "settings",
        help="list, show and change settings",
        description="The same settings as the window's Settings dialog. A bad value is refused "
        "with exit 65 and nothing changes; every change is written to the audit log.",
    )
    actions = parser.add_subparsers(dest="settings_action", metavar="ACTION")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=cmd_list)  # `relaydesk settings` alone lists them
    listing = actions.add_parser("list", help="every setting with its value and meaning")
    listing.set_defaults(handler=cmd_list)
    get = actions.add_parser("get", help="print one setting's value")
    get.add_argument("key", metavar="KEY")
    get.set_defaults(handler=cmd_get)
    put = actions.add_parser("set", help="change one setting")
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    put.set_defaults(handler=cmd_set)
    reset = actions.add_parser("reset", help="back to the default value")
    reset.add_argument("key", metavar="KEY")
    reset.set_defaults(handler=cmd_reset)
    for action in (listing, get, put, reset):
        action.add_argument("--json", action="store_true", help="print JSON")


def _shown(value: settings.Value, declared: settings.Setting) -> str:
    if declared.kind is bool:
        return "on" if value else "off"
    return str(value) if value != "" else '""'


def _entry(store: Store, declared: settings.Setting) -> dict[str, Any]:
    return {
        "key": declared.key,
        "value": settings.get(store, declared.key),
        "default": declared.default,
        "type": {bool: "bool", int: "int", float: "float"}.get(declared.kind, "str"),
        "description": declared.description,
    }


def cmd_list(args: argparse.Namespace, store: Store, out: Output) -> int:
    entries = [_entry(store, declared) for declared in settings.SETTINGS]
    out.emit({"status": "ok", "settings": entries})
    for declared, entry in zip(settings.SETTINGS, entries, strict=True):
        marker = "" if entry["value"] == declared.default else "  (changed)"
        out.say(f"{declared.key} = {_shown(entry['value'], declared)}{marker}")
        out.say(f"    {declared.description}")
    return 0


def cmd_get(args: argparse.Namespace, store: Store, out: Output) -> int:
    declared = settings.setting(args.key)
    entry = _entry(store, declared)
    out.emit({"status": "ok", **entry})
    out.say(str(entry["value"]) if declared.kind is not bool else _shown(entry["value"], declared))
    return 0


def cmd_set(args: argparse.Namespace, store: Store, out: Output) -> int:
    declared = settings.setting(args.key)
    value = settings.put(store, declared.key, args.value, face=FACE)
    out.emit({"status": "ok", **_entry(store, declared)})
    out.say(f"{declared.key} = {_shown(value, declared)}")
    return 0


def cmd_reset(args: argparse.Namespace, store: Store, out: Output) -> int:
    declared = settings.setting(args.key)
    value = settings.reset(store, declared.key, face=FACE)
    out.emit({"status": "ok", **_entry(store, declared)})
    out.say(f"{declared.key} = {_shown(value, declared)} (the default)")
    return 0
