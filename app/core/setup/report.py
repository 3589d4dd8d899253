"""The text report of an account test, for a person to send to their administrator.

Steps with timings, the diagnosis and any offered fix, the server's facts, the
redacted transcript, and the versions that matter. Never a password: the
transcript is redacted as it is recorded, and ``render_report`` also blanks any
secret it is given (and its base64 forms) wherever it might appear.
"""

from __future__ import annotations

import platform
import ssl
import time
from base64 import b64encode
from collections.abc import Iterable
from pathlib import Path

from app import __version__
from app.core.setup.checks import TestReport
from app.core.smtp.transcript import REDACTED


def render_report(report: TestReport, *, hide: Iterable[str] = (), now: float | None = None) -> str:
    """The whole report as text."""
    account = report.account
    lines = [
        f"Relaydesk account test report — {'PASSED' if report.ok else 'FAILED'}",
        f"Written:  {time.strftime('%Y-%m-%d %H:%M:%S %z', time.localtime(now))}",
        f"Versions: Relaydesk {__version__}, Python {platform.python_version()}, "
        f"{ssl.OPENSSL_VERSION}, {platform.platform()}",
        "",
        "Account:",
        f"  name:      {account.name}",
        f"  sender:    {account.email}",
        f"  server:    {account.host} port {account.port}, security {account.security.value}",
        f"  login:     {account.username or '(none)'}",
        f"  provider:  {account.preset or '(none)'}",
        f"  trust:     {_trust(report)}",
        "",
        "Steps:",
    ]
    lines += [
        f"  {'ok  ' if r.ok else 'FAIL'} {r.label:<28} {r.seconds * 1000:8.0f} ms  {r.detail}"
        for r in report.results
    ] or ["  (none ran)"]
    lines += ["", *_diagnosis(report)]
    if report.facts:
        lines += ["", "Server facts:"] + [f"  {k}: {v}" for k, v in report.facts.items()]
    lines += ["", "Transcript (passwords redacted):"]
    lines += [f"  {line.render()}" for line in report.transcript.lines] or ["  (empty)"]
    return scrub("\n".join(lines) + "\n", hide)


def write_report(
    report: TestReport, path: Path, *, hide: Iterable[str] = (), now: float | None = None
) -> None:
    """Write the report to ``path`` (UTF-8); OSError if it cannot be written."""
    path.write_text(render_report(report, hide=hide, now=now), encoding="utf-8")


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Blank every secret, as typed and as it would appear base64-encoded in AUTH."""
    for secret in secrets:
        if not secret:
            continue
        for form in _forms(secret):
            text = text.replace(form, REDACTED)
    return text


def _forms(secret: str) -> list[str]:
    raw = secret.encode("utf-8")
    forms = {secret, b64encode(raw).decode("ascii")}
    # Inside a longer base64 run (AUTH PLAIN's "\0user\0password") the encoding depends on
    # the secret's offset modulo 3; keep the characters that come from the secret alone.
    for offset in range(3):
        mixed = (3 - offset) % 3  # secret bytes sharing the first group with what precedes
        groups = (len(raw) - mixed) // 3
        if groups > 0:
            encoded = b64encode(b"\0" * offset + raw).decode("ascii")
            start = 4 if offset else 0
            forms.add(encoded[start : start + groups * 4])
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def _trust(report: TestReport) -> str:
    account = report.account
    if account.pin_sha256:
        return f"pinned certificate SHA-256 {account.pin_sha256}"
    if account.ca_file:
        return f"system CAs plus {account.ca_file}"
    return "system CAs"


def _diagnosis(report: TestReport) -> list[str]:
    error = report.error
    if error is None:
        return ["Result: the server accepted the login and the sender address."]
    lines = [
        f"Problem:    {error.message}",
        f"What to do: {error.hint}",
        f"Error code: {error.code} (exit code {int(error.exit_code)})",
    ]
    if error.reply is not None:
        lines.append(f"Server reply: {error.reply}")
    if error.fix is not None:
        changes = (f"{k}={v}" for k, v in error.fix.to_json().items() if k != "warning")
        lines.append(f"Offered fix: {', '.join(changes)}")
    certificate = error.details.get("certificate")
    if certificate:
        lines.append("Certificate presented:")
        lines += [f"  {key}: {value}" for key, value in certificate.items()]
    return lines
