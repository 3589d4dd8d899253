"""`relaydesk background`: send due messages while no window is open."""

from __future__ import annotations

import argparse

from app.cli.output import Output
from app.core.delivery import background
from app.core.store import Store


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `background`."""
    parser = commands.add_parser(
        "background",
        help="deliver due messages while no window is open",
        description="enable: install and start a systemd user timer that runs `relaydesk "
        "outbox run` every minute (it takes the same sender lock as every other run, so "
        "two senders never run at once); without a systemd user session, start Relaydesk "
        "minimised at login instead. disable: stop and remove it. status (the default): "
        "say which is in use.",
    )
    parser.add_argument(
        "action", nargs="?", default="status", choices=["status", "enable", "disable"]
    )
    parser.add_argument(
        "--no-systemd",
        action="store_true",
        help="enable: use the autostart entry even where systemd is available",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=cmd_background)


def cmd_background(args: argparse.Namespace, store: Store, out: Output) -> int:
    if args.action == "enable":
        status = background.enable(systemd=False if args.no_systemd else None)
    elif args.action == "disable":
        status = background.disable()
    else:
        status = background.status()
    out.emit({"status": "ok", **status.to_dict()})
    state = {"systemd": "on (systemd timer)", "autostart": "on (start at login)"}
    out.say(f"Background delivery: {state.get(status.mode, 'off')}. {status.detail}")
    for path in status.units:
        out.say(f"  {path}")
    return 0
