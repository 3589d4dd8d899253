"""`relaydesk account detect` and `account trust`: finding settings and pinning a certificate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.output import Output
from app.core import settings
from app.core.accounts import model as accounts
from app.core.errors import (
    RelayError,
    ServerUnreachable,
    TrustDeclined,
    UnreadableFile,
    UsageError,
)
from app.core.setup.checks import TestReport
from app.core.setup.detect import detect
from app.core.setup.fixes import PIN_WARNING, ServerFix, SignInFix, TrustFix
from app.core.setup.report import write_report
from app.core.setup.trust import check_fingerprint, fetch_certificate, pin_certificate
from app.core.store import Store

FACE = "cli"
_MODE = {"tls": "TLS", "starttls": "STARTTLS", "none": "no encryption"}
_LINK_WORDS = {"app_password": "App password", "enable": "Switch access on", "docs": "Help"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `detect` and `trust` to the `account` command."""
    finder = sub.add_parser(
        "detect",
        help="find the SMTP settings for an address",
        description="Look up the SMTP server for an address: the curated presets and the bundled "
        "provider database (Thunderbird's ISPDB), then the domain's autoconfig document, DNS SRV "
        "records and MX hosts, then (only if the detect_online_lookup setting or --online allows "
        "it) Thunderbird's online database, then guessing and probing smtp./mail./the domain "
        "on ports 465, 587 and 25. Nothing is logged in to. The output names the source.",
    )
    finder.add_argument("address")
    finder.add_argument("--timeout", type=float, default=5.0, help="seconds per step")
    finder.add_argument(
        "--online",
        action="store_true",
        help="this once, also ask Thunderbird's online database (it learns the domain)",
    )
    finder.add_argument("--json", action="store_true", help="print JSON")
    finder.set_defaults(handler=cmd_detect)

    trust = sub.add_parser(
        "trust",
        help="trust (pin) the certificate an account's server presents",
        description="Show the server's certificate and pin its SHA-256 fingerprint, for a "
        "company relay with a self-signed certificate. The fingerprint you expect is compared "
        "with the one presented: give it with --fingerprint, or type it when asked (a yes is "
        "not enough). Later, any other certificate is refused. Exit 76 when nothing was "
        "pinned.",
    )
    trust.add_argument("name")
    trust.add_argument("--fingerprint", metavar="SHA256", help="the fingerprint you expect")
    trust.add_argument(
        "--yes",
        action="store_true",
        help="for scripts: never ask (needs --fingerprint, which is then compared)",
    )
    trust.add_argument("--json", action="store_true", help="print JSON")
    trust.set_defaults(handler=cmd_trust)


def cmd_detect(args: argparse.Namespace, store: Store, out: Output) -> int:
    if not 0 < args.timeout <= 60:
        raise UsageError(
            f"--timeout {args.timeout:g} is out of range.", hint="Give seconds from 0.1 to 60."
        )
    online = args.online or bool(settings.get(store, "detect_online_lookup"))
    found = detect(args.address, timeout=args.timeout, online=online)
    if found.best is None:
        error = ServerUnreachable(
            f"Relaydesk found no SMTP server for {found.email}.",
            hint="Ask your provider for the SMTP server, port and security, and add the account "
            "with --host, --port and --security.",
            details={"trail": list(found.trail)},
        )
        return out.error(error, **{k: v for k, v in found.to_dict().items() if k != "status"})
    out.emit(found.to_dict())
    best = found.best
    out.say(f"Settings for {found.email} ({found.label}):")
    for candidate in found.candidates:
        checked = ""
        if candidate.verified is not None:
            checked = (
                ", certificate verified" if candidate.verified else ", certificate NOT trusted"
            )
        login = f", login {candidate.username}" if candidate.username else ""
        out.say(
            f"  {candidate.host} port {candidate.port} {_MODE[candidate.security.value]}"
            f"{login}{checked}"
        )
    if best.note:
        out.say(f"  {best.note}")
    for link in found.links:
        out.say(f"  {_LINK_WORDS.get(link.kind, 'More')}: {link.url}" + _link_text(link.text))
    preset = f"--preset {best.preset}" if best.preset and best.source != "probe" else ""
    where = preset or f"--host {best.host} --port {best.port} --security {best.security.value}"
    out.say(f"Add it with: relaydesk account add NAME --email {found.email} {where}")
    return 0


def _link_text(text: str) -> str:
    return f" ({text})" if text and "settings for mail programs" not in text else ""


def cmd_trust(args: argparse.Namespace, store: Store, out: Output) -> int:
    if args.yes and not args.fingerprint:
        raise UsageError(
            "--yes needs --fingerprint: Relaydesk does not trust a certificate nobody has "
            "compared.",
            hint="Run without --yes to see the fingerprint and confirm it, or give "
            "--fingerprint with the value your administrator gave you.",
        )
    account = accounts.get_account(store, args.name)
    certificate = fetch_certificate(account)
    out.say(f"{account.host} port {account.port} presents this certificate:")
    for line in certificate.describe():
        out.say(f"  {line}")
    # A pin is only as good as the comparison behind it: always a fingerprint, never "yes".
    check_fingerprint(args.fingerprint or _fingerprint_from_person(account.name, out), certificate)
    pinned = pin_certificate(store, account, certificate)
    store.audit(
        face=FACE,
        action="account_trust",
        outcome="ok",
        account=account.name,
        detail={"sha256": certificate.sha256, "previous": account.pin_sha256},
    )
    out.say(f"“{pinned.name}” now trusts exactly this certificate.")
    payload: dict[str, Any] = {
        "status": "ok",
        "account": pinned.name,
        "pin_sha256": pinned.pin_sha256,
        "certificate": certificate.to_dict(),
    }
    out.emit(payload)
    return 0


def _fingerprint_from_person(name: str, out: Output) -> str:
    print(f"\n{PIN_WARNING}", file=out.err)
    print(
        f"To trust it for “{name}”, type or paste the SHA-256 fingerprint your administrator "
        "gave you (Enter to cancel): ",
        end="",
        file=out.err,
    )
    out.err.flush()
    line = sys.stdin.readline()
    if not line:
        raise UsageError(
            "No answer was given, so nothing was pinned.",
            hint="Answer on the terminal, or give --fingerprint SHA256 to pin without a question.",
        )
    answer = line.strip()
    if answer.lower() in ("", "n", "no", "y", "yes"):
        raise TrustDeclined(
            "Nothing was pinned: the certificate stays untrusted."
            + (" A yes is not a fingerprint." if answer.lower() in ("y", "yes") else ""),
            hint="Compare the SHA-256 shown above with the one your administrator gave you, "
            "then type that fingerprint, or run: relaydesk account trust "
            f"{name} --fingerprint SHA256",
        )
    return answer


def describe_fix(error: RelayError, account_name: str) -> str | None:
    """The CLI's "Suggested fix" line for an error that carries one."""
    fix = error.fix
    if isinstance(fix, SignInFix):
        return f"sign in with the provider instead: relaydesk account edit {account_name} --oauth2"
    if isinstance(fix, TrustFix):
        return (
            "trust this certificate, only if it is your own server's: relaydesk account trust "
            f"{account_name} --fingerprint {fix.pin_sha256}"
        )
    if isinstance(fix, ServerFix):
        return f"use {fix.describe()}."
    return None


def write_report_file(report: TestReport, path: Path, password: object, out: Output) -> None:
    """`account test --report FILE`: the core's report, with the password blanked too."""
    try:
        write_report(
            report, path, hide=[password] if isinstance(password, str) and password else []
        )
    except OSError as exc:
        raise UnreadableFile(
            f"The report could not be written to {path}: {exc.strerror}.",
            hint="Choose a folder you can write to.",
        ) from exc
    out.note(f"Report written to {path}")


def offer_fix(args: argparse.Namespace, store: Store, out: Output, error: RelayError) -> None:
    """Print the tested fix; with --apply-fix, change the account to use it (never a pin)."""
    words = describe_fix(error, args.name)
    if words is None or error.fix is None:
        return
    out.note(f"Suggested fix: {words}")
    fix = error.fix
    if not args.apply_fix or fix.needs_consent:
        return  # a pin needs the fingerprint compared: `account trust`, never --apply-fix
    if isinstance(fix, SignInFix):
        from app.cli.account_setup import switch_to_signin

        switch_to_signin(store, args.name, out)  # the sign-in itself changes the account
        return
    account = fix.apply_to(accounts.get_account(store, args.name))
    accounts.update_account(store, account)
    store.audit(
        face=FACE, action="account_fix", outcome="ok", account=account.name, detail=fix.to_json()
    )
    mode = account.security.value
    out.note(f"Applied: “{account.name}” now uses port {account.port} with {mode}. Test again.")
