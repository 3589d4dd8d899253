"""The `relaydesk` command: the GUI with no arguments, the CLI with a command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app import __version__
from app.cli.output import Output
from app.core.errors import ExitCode
from app.core.store import Store


class _Parser(argparse.ArgumentParser):
    """argparse that exits with 64 (EX_USAGE) on bad usage, as the contract says."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"relaydesk: {message}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the command modules load only for a CLI run (fast GUI start)."""
    from app.cli import (
        account_commands,
        agent_commands,
        background_commands,
        mail_commands,
        merge_commands,
        settings_commands,
    )

    parser = _Parser(
        prog="relaydesk",
        description="Send mail through your own SMTP account. Without a command, opens the "
        "Relaydesk window.",
        epilog="Exit codes: 0 done, 64 usage, 65 bad input, 67 recipient refused, "
        "69 server unreachable, 70 internal error (a bug; a report file is named), "
        "74 cannot write the data folder (disk full), "
        "75 temporary failure (kept in the outbox), 76 protocol or TLS failure (also a "
        "certificate left untrusted), 77 not permitted: authentication failed, sender "
        "refused, or the caller's policy forbids the call (nothing queued), "
        "78 configuration error (no such account, no keyring, data folder read-only or "
        "damaged).",
    )
    parser.add_argument("--version", action="version", version=f"relaydesk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    account_commands.register(commands)
    mail_commands.register(commands)
    agent_commands.register(commands)
    merge_commands.register(commands)
    settings_commands.register(commands)
    background_commands.register(commands)
    return parser


def run(argv: Sequence[str]) -> int:
    """Parse and run one CLI command under the final guard; returns the exit code."""
    from app.cli.guard import run_guarded

    def body(out: Output) -> int:
        args = build_parser().parse_args(argv)
        out.as_json = getattr(args, "json", False)
        with Store.open() as store:
            return int(args.handler(args, store, out))

    return run_guarded(argv, body)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `relaydesk` script and `python -m app`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    gui_launch = ("--quick-send", "--minimised", "mailto:")
    if not argv or argv[0].lower().startswith(gui_launch):
        from app.cli.guard import run_guarded

        return run_guarded(argv, lambda _: _run_gui(argv), face="gui")
    return run(argv)


def _run_gui(argv: Sequence[str]) -> int:
    try:
        from app.ui.application import run_gui
    except ImportError as error:
        if not (error.name or "").startswith(("PySide6", "shiboken6")):
            raise  # a bug in our own code, not a missing Qt: the guard reports it
        print(
            f"relaydesk: the desktop window needs Qt, which did not load ({error}). "
            "See `relaydesk --help` for the command line.",
            file=sys.stderr,
        )
        return int(ExitCode.CONFIG)
    return run_gui(argv)
