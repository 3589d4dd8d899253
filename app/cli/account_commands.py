"""`relaydesk account …`: add, list, test, remove, password, default."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.cli import setup_commands
from app.cli.account_setup import (
    FACE,
    account_dict,
    add_options,
    cmd_add,
    cmd_edit,
    cmd_login,
    describe,
)
from app.cli.output import Output
from app.cli.passwords import password_source, prompt_password, read_password_stdin
from app.core.accounts import changes as account_changes
from app.core.accounts import model as accounts
from app.core.accounts import secrets
from app.core.accounts.model import PasswordMode
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.delivery import ratelimit
from app.core.errors import UsageError
from app.core.setup.checks import remember_limits, run_test
from app.core.smtp.transcript import Transcript
from app.core.store import Store


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `account` command and its subcommands."""
    account = commands.add_parser(
        "account",
        help="set up, list, test and remove SMTP accounts",
        description="Manage SMTP accounts. Passwords are kept in the system keyring only.",
    )
    sub = account.add_subparsers(dest="account_command", required=True, metavar="COMMAND")

    add = sub.add_parser(
        "add",
        help="add an account",
        description="Add an account from a provider preset (--preset) or explicit server "
        "settings (--host/--port/--security). Without either, the preset is chosen from the "
        "address's domain. Without --username (and a preset that implies one) the account "
        "sends without authentication, e.g. through a local relay.",
    )
    add.add_argument("name", help="a short name for the account, e.g. work")
    add_options(add)
    add.set_defaults(handler=cmd_add)

    edit = sub.add_parser(
        "edit",
        help="change an account (the options of add)",
        description="Change an account's settings. Takes the options of `account add`; only "
        "the options given change. Switching between password and sign-in keeps the "
        "account's history and queued messages.",
    )
    edit.add_argument("name", help="the account to change")
    add_options(edit)
    for action in edit._actions:
        if action.option_strings and action.dest != "help":
            action.default = argparse.SUPPRESS  # only what was given changes
            action.required = False
    edit.set_defaults(handler=cmd_edit)

    login = sub.add_parser(
        "login",
        help="sign in again (OAuth2 accounts)",
        description="Sign in with the provider again, e.g. after the sign-in was revoked. "
        "Messages waiting for the sign-in are sent afterwards.",
    )
    login.add_argument("name")
    login.add_argument(
        "--oauth2-device", action="store_true", help="sign in with a code on another device"
    )
    login.add_argument("--json", action="store_true", help="print JSON")
    login.set_defaults(handler=cmd_login)

    _register_other(sub)


def _register_other(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = sub.add_parser("list", help="list accounts")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_list)

    test = sub.add_parser(
        "test",
        help="check that an account can log in and send",
        description="Connect, start TLS, authenticate and check that the server accepts the "
        "account's address as sender. No mail is sent.",
    )
    test.add_argument("name")
    test.add_argument(
        "--transcript",
        action="store_true",
        help="also print the SMTP conversation (passwords redacted)",
    )
    test.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of the keyring",
    )
    test.add_argument(
        "--report",
        metavar="FILE",
        type=Path,
        help="write a text report for your administrator (no password in it)",
    )
    test.add_argument(
        "--apply-fix",
        action="store_true",
        help="if the test finds a port and mode that work, change the account to use them",
    )
    test.add_argument("--json", action="store_true", help="print JSON")
    test.set_defaults(handler=cmd_test)

    remove = sub.add_parser("remove", help="remove an account and its stored password")
    remove.add_argument("name")
    remove.add_argument("--json", action="store_true", help="print JSON")
    remove.set_defaults(handler=cmd_remove)

    password = sub.add_parser("password", help="store a new password in the keyring")
    password.add_argument("name")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password.add_argument("--json", action="store_true", help="print JSON")
    password.set_defaults(handler=cmd_password)

    default = sub.add_parser("default", help="make an account the default")
    default.add_argument("name")
    default.add_argument("--json", action="store_true", help="print JSON")
    default.set_defaults(handler=cmd_default)

    quota = sub.add_parser(
        "quota",
        help="show or set an account's sending limits",
        description="Limits on messages sent per minute, hour and day. Over the limit, "
        "messages wait in the outbox until a slot frees. The default is the provider's "
        "documented daily limit. Give 0 to remove a limit.",
    )
    quota.add_argument("name")
    quota.add_argument("--per-minute", type=int, metavar="N")
    quota.add_argument("--per-hour", type=int, metavar="N")
    quota.add_argument("--per-day", type=int, metavar="N")
    quota.add_argument("--json", action="store_true", help="print JSON")
    quota.set_defaults(handler=cmd_quota)

    presets = sub.add_parser("presets", help="list the provider presets")
    presets.add_argument("--json", action="store_true", help="print JSON")
    presets.set_defaults(handler=cmd_presets)

    setup_commands.register(sub)


def cmd_list(args: argparse.Namespace, store: Store, out: Output) -> int:
    rows = accounts.list_accounts(store)
    out.emit({"status": "ok", "accounts": [account_dict(store, a, d) for a, d in rows]})
    if not rows:
        out.say("No accounts yet. Add one: relaydesk account add NAME --email ADDRESS")
    for account, is_default in rows:
        marker = "*" if is_default else " "
        stale = account.password_mode is PasswordMode.OAUTH2 and oauth2_config.needs_signin(
            store, account.name
        )
        note = f" — must sign in again: relaydesk account login {account.name}" if stale else ""
        out.say(f"{marker} {account.name:<16} {describe(account)}{note}")
    return 0


def cmd_test(args: argparse.Namespace, store: Store, out: Output) -> int:
    account = accounts.get_account(store, args.name)
    password = password_source(store, from_stdin=args.password_stdin)(account)
    out.say(f"Testing “{account.name}”: {describe(account)}")

    def show(result: Any) -> None:
        mark = "✓" if result.ok else "✗"
        detail = f"  {result.detail}" if result.detail and result.ok else ""
        out.say(f"  {mark} {result.label:<26} {result.seconds * 1000:7.0f} ms{detail}")

    report = run_test(account, password, transcript=Transcript(), on_result=show)
    remember_limits(store, report)
    store.audit(
        face=FACE,
        action="account_test",
        outcome="ok" if report.ok else "failed",
        account=account.name,
        detail={"error": report.error.code} if report.error else None,
    )
    payload = report.to_dict()
    if args.transcript:
        payload["transcript"] = [line.render() for line in report.transcript.lines]
        out.say("\nTranscript (passwords redacted):")
        for line in report.transcript.lines:
            out.say(f"  {line.render()}")
    if args.report is not None:
        setup_commands.write_report_file(report, args.report, password, out)
    if report.error is not None:
        code = out.error(report.error, **{k: v for k, v in payload.items() if k != "error"})
        setup_commands.offer_fix(args, store, out, report.error)
        return code
    out.say("OK: the server accepted the login and the sender address.")
    out.emit(payload)
    return 0


def cmd_remove(args: argparse.Namespace, store: Store, out: Output) -> int:
    account, secret_removed = account_changes.remove_account(store, args.name, face=FACE)
    out.say(
        f"Removed account “{account.name}”"
        + (" and its password from the keyring." if secret_removed else ".")
    )
    out.emit({"status": "ok", "account": account.name, "password_removed": secret_removed})
    return 0


def cmd_password(args: argparse.Namespace, store: Store, out: Output) -> int:
    account = accounts.get_account(store, args.name)
    if account.username is None:
        raise UsageError(f"Account “{account.name}” does not log in, so it has no password.")
    secrets.ensure_keyring()
    password = read_password_stdin() if args.password_stdin else prompt_password(account)
    secrets.store_password(account.name, password)
    if account.password_mode is not PasswordMode.KEYRING:
        accounts.update_account(store, account.with_changes(password_mode=PasswordMode.KEYRING))
    store.audit(face=FACE, action="account_password", outcome="ok", account=account.name)
    out.say(f"Stored a new password for “{account.name}” in the keyring.")
    out.emit({"status": "ok", "account": account.name})
    return 0


def cmd_default(args: argparse.Namespace, store: Store, out: Output) -> int:
    accounts.set_default_account(store, args.name)
    store.audit(face=FACE, action="account_default", outcome="ok", account=args.name)
    out.say(f"“{args.name}” is now the default account.")
    out.emit({"status": "ok", "account": args.name})
    return 0


def cmd_presets(args: argparse.Namespace, store: Store, out: Output) -> int:
    from app.core.setup import ispdb
    from app.core.setup.presets import load_presets

    presets = load_presets()
    database = ispdb.load()
    known = {"providers": len(database), "domains": ispdb.domain_count(database)}
    out.emit(
        {
            "status": "ok",
            "presets": [
                {
                    "id": p.id,
                    "name": p.name,
                    "host": p.host,
                    "port": p.port,
                    "security": p.security.value,
                    "auth": p.auth,
                    "domains": list(p.domains),
                }
                for p in presets
            ],
            "database": {"name": "Thunderbird ISPDB (bundled)", **known},
        }
    )
    for p in presets:
        where = f"{p.host}:{p.port} {p.security.value}" if p.host else "enter the server yourself"
        out.say(f"{p.id:<24} {p.name:<28} {where}")
    out.say(
        f"\nThe bundled provider database (Thunderbird's ISPDB) knows {known['domains']} "
        f"domains of {known['providers']} providers; `relaydesk account detect ADDRESS` "
        "looks an address up."
    )
    return 0


def cmd_quota(args: argparse.Namespace, store: Store, out: Output) -> int:
    account = accounts.get_account(store, args.name)
    current = ratelimit.get_quota(store, account)
    changes = {
        field: value
        for field, value in (
            ("per_minute", args.per_minute),
            ("per_hour", args.per_hour),
            ("per_day", args.per_day),
        )
        if value is not None
    }
    if changes:
        merged = {**asdict(current), **{k: (v or None) for k, v in changes.items()}}
        current = ratelimit.Quota(**merged)
        ratelimit.set_quota(store, account.name, current)
        store.audit(
            face=FACE,
            action="account_quota",
            outcome="ok",
            account=account.name,
            detail=asdict(current),
        )
    limits = current.limits()
    out.emit({"status": "ok", "account": account.name, "quota": asdict(current)})
    if not limits:
        out.say(f"“{account.name}” has no sending limit.")
    for name, _, limit in limits:
        out.say(f"{limit} messages per {name}")
    return 0
