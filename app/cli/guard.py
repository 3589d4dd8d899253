"""The final guard around every command: no traceback ever reaches a person.

A RelayError becomes its one-line message (or the JSON error object) and exit
code; anything else is a bug and becomes one line naming a redacted report file,
exit 70. A command that tried to change something leaves an audit row either way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from app.cli.output import Output
from app.core.errors import InvalidInput, RelayError

_GROUPS = ("account", "outbox", "policy", "tool", "audit")
# Commands that only look: a failure there changed nothing worth an audit row.
_LOOKING = frozenset(
    "account_list account_presets account_detect history outbox_list outbox audit "
    "tool_schema policy_show policy_list mcp".split()
)
_FACES = {"sendmail": "sendmail", "tool_call": "tool", "mcp": "tool"}


def command_of(argv: Sequence[str]) -> str:
    """``outbox retry 7`` → ``outbox_retry``; ``send --to …`` → ``send``."""
    words: list[str] = []
    for arg in argv:
        if arg.startswith("-") or (words and words[0] not in _GROUPS) or len(words) == 2:
            break
        words.append(arg)
    return "_".join(words) or "relaydesk"


def check_arguments(argv: Sequence[str]) -> None:
    """Refuse arguments that are not text (undecodable bytes arrive as lone surrogates)."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "backslashreplace").decode("ascii", "replace")[:60]
            raise InvalidInput(
                f"The argument “{shown}” is not valid text (it holds bytes that are not UTF-8).",
                hint="Pass file names and values as UTF-8, or rename the file.",
            ) from None


def run_guarded(
    argv: Sequence[str], body: Callable[[Output], int], *, face: str | None = None
) -> int:
    """Run one command; every failure ends as one line (or one JSON object) and a code."""
    action = "gui" if face == "gui" else command_of(argv)
    face = face or _FACES.get(action, "cli")
    out = Output(as_json="--json" in argv or action == "tool_call")
    try:
        check_arguments(argv)
        return body(out)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        out.note("relaydesk: interrupted; anything queued stays in the outbox.")
        return 130
    except BrokenPipeError:
        # The reader went away (`relaydesk history | head`): as a shell tool killed by
        # SIGPIPE would. Point stdout at /dev/null so the final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except RelayError as error:
        failure = error
    except BaseException as error:  # noqa: BLE001 - the last line of defence
        from app.core import crash  # only now: a crash is rare, the import is not free

        failure = crash.internal_error(error, face=face, action=action)
    if action not in _LOOKING and not (face == "tool" and failure.code != "internal_error"):
        from app.core import crash

        crash.audit_failure(failure, face=face, action=action)
    return _report(out, failure)


def _report(out: Output, error: RelayError) -> int:
    try:
        return out.error(error)
    except (OSError, ValueError):  # stdout closed or not text: the exit code still says it
        print(f"relaydesk: {error.message}", file=sys.stderr)
        return int(error.exit_code)
