"""The `relaydesk` command: the GUI with no arguments, the CLI with a command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app import __version__
from app.cli.output import Output
from app.core.errors import ExitCode, RelayError
from app.core.store import Store


class _Parser(argparse.ArgumentParser):
    """argparse that exits with 64 (EX_USAGE) on bad usage, as the contract says."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"relaydesk: {message}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the command modules load only for a CLI run (fast GUI start)."""
    from app.cli import account_commands, agent_commands, mail_commands, merge_commands

    parser = _Parser(
        prog="relaydesk",
        description="Send mail through your own SMTP account. Without a command, opens the "
        "Relaydesk window.",
        epilog="Exit codes: 0 done, 64 usage, 65 bad input, 67 recipient refused, "
        "69 server unreachable, 75 temporary failure (kept in the outbox), "
        "76 protocol or TLS failure, 77 authentication failed, 78 configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"relaydesk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    account_commands.register(commands)
    mail_commands.register(commands)
    agent_commands.register(commands)
    merge_commands.register(commands)
    return parser


def run(argv: Sequence[str]) -> int:
    """Parse and run one CLI command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(as_json=getattr(args, "json", False))
    try:
        with Store.open() as store:
            return int(args.handler(args, store, out))
    except RelayError as error:
        return out.error(error)
    except KeyboardInterrupt:
        out.note("relaydesk: interrupted; anything queued stays in the outbox.")
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `relaydesk` script and `python -m app`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    gui_launch = ("--quick-send", "--minimised", "mailto:")
    if not argv or argv[0].lower().startswith(gui_launch):
        try:
            from app.ui.application import run_gui
        except ImportError as error:
            if not (error.name or "").startswith(("PySide6", "shiboken6")):
                raise  # a bug in our own code, not a missing Qt
            print(
                f"relaydesk: the desktop window needs Qt, which did not load ({error}). "
                "See `relaydesk --help` for the command line.",
                file=sys.stderr,
            )
            return int(ExitCode.CONFIG)
        return run_gui(argv)
    return run(argv)
