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
from collections.abc import Sequence
from importlib import import_module
from typing import NamedTuple

from app import __version__
from app.core.errors import ExitCode

# The names this program answers to as a sendmail stand-in (argv[0]'s basename).
SENDMAIL_NAMES = {"sendmail": (), "mailq": ("-bp",)}


class Command(NamedTuple):
    module: str  # defines register(commands) that adds this command (and maybe others)
    help: str  # the line shown by `relaydesk --help`; a test keeps it equal to the module's


COMMANDS: dict[str, Command] = {
    "account": Command("app.cli.account_commands", "set up, list, test and remove SMTP accounts"),
    "send": Command("app.cli.mail_commands", "send a message"),
    "history": Command("app.cli.mail_commands", "list sent messages"),
    "outbox": Command(
        "app.cli.mail_commands", "list, send, retry, cancel or discard queued messages"
    ),
    "audit": Command("app.cli.mail_commands", "show the audit log"),
    "sendmail": Command(
        "app.cli.sendmail_commands", "send a message read from standard input, like sendmail"
    ),
    "settings": Command("app.cli.settings_commands", "list, show and change settings"),
    "tool": Command(
        "app.cli.agent_commands", "the send_email tool for AI agents: schema and calls"
    ),
    "policy": Command("app.cli.agent_commands", "what each tool caller (agent, script) may send"),
    "mcp": Command("app.cli.agent_commands", "serve the send_email tool over MCP (stdio)"),
}

SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`


class _Parser(argparse.ArgumentParser):
    """argparse that exits with 64 (EX_USAGE) on bad usage, as the contract says."""

    def error(self, message: str) -> None:  # type: ignore[override]
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
        "69 server unreachable, 70 internal error, 75 temporary failure (kept in the outbox), "
        "76 protocol or TLS failure, 77 authentication failed, 78 configuration error.",
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


def _stdout_closed() -> bool:
    """True when nobody reads our stdout any more (the reader of the pipe went away)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (OSError, ValueError):
        return True


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def _dispatch(args: argparse.Namespace) -> int:
    from app.cli.output import Output
    from app.core.errors import RelayError
    from app.core.store import Store

    out = Output(as_json=getattr(args, "json", False))
    try:
        with Store.open() as store:
            return int(args.handler(args, store, out))
    except RelayError as error:
        return out.error(error)
    except KeyboardInterrupt:
        out.note("relaydesk: interrupted; anything queued stays in the outbox.")
        return 130


def run(argv: Sequence[str]) -> int:
    """Parse and run one CLI command; returns the exit code.

    A reader that goes away (``relaydesk history | head``) ends the command quietly
    with the status a shell shows for a tool stopped by SIGPIPE.
    """
    try:
        try:
            args = build_parser(argv).parse_args(argv)
        except SystemExit as done:  # --help, --version, bad usage: flush while we can catch
            sys.stdout.flush()
            return done.code if isinstance(done.code, int) else int(ExitCode.USAGE)
        code = _dispatch(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # some other pipe (a socket, a child): not ours to hide
        _silence_stdout()
        return SIGPIPE_STATUS


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
    return run(argv if as_sendmail is None else as_sendmail)
