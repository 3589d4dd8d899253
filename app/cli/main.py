"""The `relaydesk` command: the GUI with no arguments, the CLI with a command.

Building the parser must stay cheap (scripts, cron and git call the CLI often):
the top level knows every command by name and help line only (``COMMANDS``),
and the module that implements a command is imported only when that command
runs. ``tests/test_architecture.py`` fails if a heavy module (dns,
email_validator, smtplib, keyring, sqlite3, jsonschema, mcp…) creeps into the
path of ``--version`` or ``--help``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from app import __version__
from app.core.errors import ExitCode

if TYPE_CHECKING:
    from app.cli.output import Output

# The names this program answers to as a sendmail stand-in (argv[0]'s basename).
SENDMAIL_NAMES = {"sendmail": (), "mailq": ("-bp",)}


class Command(NamedTuple):
    module: str  # defines register(commands) that adds this command (and maybe others)
    help: str  # the line shown by `relaydesk --help`; a test keeps it equal to the module's


COMMANDS: dict[str, Command] = {
    "account": Command("app.cli.account_commands", "set up, list, test and remove SMTP accounts"),
    "send": Command("app.cli.mail_commands", "send a message"),
    "history": Command("app.cli.mail_commands", "list sent messages, or send one again"),
    "outbox": Command(
        "app.cli.mail_commands", "list, send, retry, cancel or discard queued messages"
    ),
    "audit": Command("app.cli.mail_commands", "show the audit log"),
    "sendmail": Command(
        "app.cli.sendmail_commands", "send a message read from standard input, like sendmail"
    ),
    "settings": Command("app.cli.settings_commands", "list, show and change settings"),
    "merge": Command(
        "app.cli.merge_commands",
        "send a personalised copy of a message to each row of a CSV list",
    ),
    "merges": Command(
        "app.cli.merge_commands",
        "list, follow, send, pause, resume, cancel or export merge runs",
    ),
    "merge-call": Command(
        "app.cli.merge_commands",
        "the send_merge tool for agents: one JSON call on stdin, JSON result out",
    ),
    "background": Command(
        "app.cli.background_commands", "deliver due messages while no window is open"
    ),
    "tool": Command(
        "app.cli.agent_commands", "the send_email tool for AI agents: schema and calls"
    ),
    "policy": Command("app.cli.agent_commands", "what each tool caller (agent, script) may send"),
    "mcp": Command("app.cli.agent_commands", "serve the send_email tool over MCP (stdio)"),
}


class _Parser(argparse.ArgumentParser):
    """argparse that exits with 64 (EX_USAGE) on bad usage, as the contract says."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"relaydesk: {message}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The command word: the top level has only flags without values before it."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line; only the chosen command's module is loaded (all of them if argv is None).

    Other commands are listed by name and help line, so ``--help`` stays complete
    without importing what they need.
    """
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
    if argv is None:
        wanted = list(dict.fromkeys(command.module for command in COMMANDS.values()))
    else:
        chosen = COMMANDS.get(_chosen_command(argv) or "")
        wanted = [chosen.module] if chosen else []
    for module in wanted:
        import_module(module).register(commands)
    for name, command in COMMANDS.items():
        if name not in commands.choices:
            commands.add_parser(name, help=command.help)
    return parser


def _body(argv: Sequence[str]) -> Callable[[Output], int]:
    def body(out: Output) -> int:
        try:
            args = build_parser(argv).parse_args(argv)
        except SystemExit as done:  # --help, --version, bad usage: flush while we can catch
            sys.stdout.flush()
            return done.code if isinstance(done.code, int) else int(ExitCode.USAGE)
        out.as_json = getattr(args, "json", False)
        from app.core.store import Store  # sqlite3: not for --help and --version

        with Store.open() as store:
            code = int(args.handler(args, store, out))
        sys.stdout.flush()  # here, so a reader that went away is seen by the guard
        return code

    return body


def run(argv: Sequence[str]) -> int:
    """Parse and run one CLI command under the final guard; returns the exit code.

    A reader that goes away (``relaydesk history | head``) ends the command quietly
    with the status a shell shows for a tool stopped by SIGPIPE (the guard's part).
    """
    from app.cli.guard import run_guarded

    return run_guarded(argv, _body(argv))


def _as_sendmail(argv: list[str]) -> list[str] | None:
    """``sendmail ARGS`` when this program was started under a sendmail name, else None."""
    name = os.path.basename(sys.argv[0] if sys.argv else "")
    extra = SENDMAIL_NAMES.get(name)
    return None if extra is None else ["sendmail", *extra, *argv]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `relaydesk` script (also under the names sendmail, mailq)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_sendmail = _as_sendmail(argv)
    gui_launch = ("--quick-send", "--minimised", "mailto:")
    if as_sendmail is None and (not argv or argv[0].lower().startswith(gui_launch)):
        from app.cli.guard import run_guarded

        return run_guarded(argv, lambda _: _run_gui(argv), face="gui")
    return run(argv if as_sendmail is None else as_sendmail)


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
