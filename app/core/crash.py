"""Reports of unexpected errors (bugs): one redacted text file per crash.

A report holds what a developer needs (version, platform, face, action, the
exception and its traceback) and nothing a person would not want to share: every
password this process has handled is blanked the way test reports blank it, and
AUTH lines are redacted as in transcripts. Local variables are never written.
"""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import sys
import time
import traceback
from collections.abc import Iterable
from pathlib import Path

from app import __version__
from app.core.errors import InternalError, RelayError
from app.core.paths import Paths, default_paths
from app.core.redaction import known_secrets
from app.core.setup.report import scrub
from app.core.smtp.transcript import REDACTED, redact
from app.core.store import Store, unusable_data_error

REPORT_DIR = "crash-reports"
KEEP_REPORTS = 20
# key=value or "key": "value" pairs whose value is a credential, wherever they appear.
_CREDENTIAL = re.compile(
    r"""(?ix)
    \b(password|passwd|secret|token|access_token|refresh_token|code_verifier|authorization)
    (["']?\s*[:=]\s*["']?)
    (?:(?:bearer|basic)\s+)?[^\s"',}]+
    """
)
# An AUTH command quoted inside an exception text: keep the mechanism, hide the payload.
_AUTH_INLINE = re.compile(r"(?i)\b(AUTH[ \t]+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER))[ \t]+\S+")


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with known secrets, credential pairs and AUTH payloads blanked."""
    text = scrub(text, [*known_secrets(), *extra])
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _AUTH_INLINE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return "\n".join(redact(line, in_auth=False) for line in text.split("\n"))


def render_report(error: BaseException, *, face: str, action: str | None) -> str:
    """The text of a crash report (already redacted)."""
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    lines = [
        "Relaydesk internal error report",
        "Please attach this file to a bug report. Passwords and tokens have been removed.",
        "",
        f"Version:  relaydesk {__version__}",
        f"Python:   {sys.version.split()[0]} ({platform.python_implementation()})",
        f"Platform: {platform.platform()}",
        f"Time:     {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"Face:     {face}",
        f"Action:   {action or '-'}",
        f"Error:    {type(error).__module__}.{type(error).__qualname__}",
        "",
        trace,
    ]
    text = "\n".join(lines)
    # A lone surrogate (from undecodable input) cannot be written as UTF-8.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return redact_text(text)


def write_report(
    error: BaseException, *, face: str, action: str | None, paths: Paths | None = None
) -> Path | None:
    """Write a 0600 report into the state folder; None if even that cannot be written."""
    try:
        directory = (paths or default_paths()).state / REPORT_DIR
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = directory / f"crash-{stamp}-{os.getpid()}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render_report(error, face=face, action=action))
        _prune(directory)
    except Exception:  # noqa: BLE001 - the report is best effort; the one-line error is not
        return None
    return path


def _prune(directory: Path) -> None:
    reports = sorted(directory.glob("crash-*.txt"), key=lambda p: p.stat().st_mtime)
    for old in reports[:-KEEP_REPORTS]:
        old.unlink(missing_ok=True)


def internal_error(error: BaseException, *, face: str, action: str | None) -> RelayError:
    """The error to show for an exception nobody expected (a report file is written).

    A damaged or read-only database is not a bug: it becomes its own clear error.
    """
    if isinstance(error, RelayError):
        return error
    if isinstance(error, sqlite3.DatabaseError | OSError):
        unusable = unusable_data_error(error, default_paths().database)
        if unusable is not None:
            return unusable
    report = write_report(error, face=face, action=action)
    where = f"Report (no passwords in it): {report}." if report else "No report was written."
    return InternalError(
        f"Relaydesk hit an internal error ({type(error).__name__}); this is a bug. {where}",
        hint="Please report it with that file attached. Anything already queued stays in "
        + ("the outbox." if face == "gui" else "the outbox: see `relaydesk outbox`."),
        details={"report": str(report) if report else None, "exception": type(error).__name__},
    )


def audit_failure(
    error: RelayError, *, face: str, action: str, detail: dict[str, object] | None = None
) -> None:
    """An audit row for an action that failed before doing anything; best effort."""
    try:
        with Store.open() as store:
            store.audit(
                face=face,
                action=action,
                outcome="error",
                detail={"error": error.code, **(detail or {})},
            )
    except Exception:  # noqa: BLE001 - the error itself is still reported to the person
        return
