"""`relaydesk account …`: add, list, test, remove, password, default."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.cli import setup_commands
from app.cli.output import Output
from app.cli.passwords import password_source, prompt_password, read_password_stdin
from app.core import accounts, connections, ratelimit, secrets
from app.core.accounts import DEFAULT_PORTS, Account, PasswordMode, Security
from app.core.addresses import validate_address
from app.core.checks import run_test
from app.core.errors import UnreadableFile, UsageError
from app.core.presets import get_preset, preset_for_email
from app.core.smtp.transcript import Transcript
from app.core.store import Store

FACE = "cli"


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
    add.add_argument("--email", required=True, help="the address mail is sent from")
    add.add_argument("--preset", help="provider preset id (see `relaydesk account presets`)")
    add.add_argument("--host", help="SMTP server host name")
    add.add_argument("--port", type=int, help="SMTP port (default: 587, 465 for tls, 25 for none)")
    add.add_argument(
        "--security",
        choices=[s.value for s in Security],
        help="starttls (port 587), tls (port 465) or none",
    )
    add.add_argument("--username", help="login name (default: from the preset)")
    add.add_argument("--from-name", default="", help="display name, e.g. 'Ada Lovelace'")
    add.add_argument("--ca-file", help="PEM file of a CA to trust for this server")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    secret.add_argument(
        "--ask-password",
        action="store_true",
        help="do not store the password; ask for it each time it is needed",
    )
    add.add_argument(
        "--allow-plaintext-auth",
        action="store_true",
        help="with --security none: send the password without encryption",
    )
    add.add_argument("--default", action="store_true", help="make this the default account")
    add.add_argument(
        "--connections",
        type=int,
        metavar="N",
        help="connections at once for runs of many messages (1-8; default 1)",
    )
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(handler=cmd_add)

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


def _account_from_args(args: argparse.Namespace) -> Account:
    email = validate_address(args.email)
    preset = get_preset(args.preset) if args.preset else None
    if preset is None and not args.host:
        preset = preset_for_email(email)
        if preset is None:
            raise UsageError(
                f"Relaydesk has no preset for the domain of {email}.",
                hint="Give the server: --host smtp.example.com --port 587 --security starttls "
                "(see `relaydesk account presets` for known providers).",
            )
    security = (
        Security(args.security)
        if args.security
        else (preset.security if preset and preset.host else Security.STARTTLS)
    )
    host = args.host or (preset.host if preset else None) or ""
    if args.port:
        port = args.port
    elif preset and preset.host and not args.security:
        port = preset.port
    else:
        port = DEFAULT_PORTS[security]
    username = args.username
    if username is None and preset is not None and preset.host:
        username = preset.username_for(email)
        if username is None:
            raise UsageError(
                f"{preset.name} needs a username that Relaydesk cannot guess.",
                hint=f"Give it with --username. {preset.notes}".strip(),
            )
    mode = PasswordMode.NONE
    if username:
        mode = PasswordMode.ASK if args.ask_password else PasswordMode.KEYRING
    ca_file = None
    if args.ca_file:
        path = Path(args.ca_file).expanduser().resolve()
        if not path.is_file():
            raise UnreadableFile(
                f"The CA file {path} does not exist.",
                hint="Give the PEM file of the certificate authority that signed the server's "
                "certificate.",
            )
        ca_file = str(path)
    account = Account(
        name=args.name,
        email=email,
        host=host,
        port=port,
        security=security,
        username=username or None,
        from_name=args.from_name,
        password_mode=mode,
        ca_file=ca_file,
        allow_plaintext_auth=args.allow_plaintext_auth,
        preset=preset.id if preset else None,
    )
    account.validate()
    return account


def cmd_add(args: argparse.Namespace, store: Store, out: Output) -> int:
    account = _account_from_args(args)
    if args.connections is not None:
        connections.check_connections(args.connections)
    if account.password_mode is PasswordMode.KEYRING:
        secrets.ensure_keyring()  # before asking for anything
        password = read_password_stdin() if args.password_stdin else prompt_password(account)
        accounts.add_account(store, account)
        try:
            secrets.store_password(account.name, password)
        except BaseException:
            accounts.remove_account(store, account.name)
            raise
    else:
        accounts.add_account(store, account)
    if args.default:
        accounts.set_default_account(store, account.name)
    if args.connections is not None:
        connections.set_connections(store, account.name, args.connections)
    store.audit(
        face=FACE,
        action="account_add",
        outcome="ok",
        account=account.name,
        detail={"host": account.host, "port": account.port, "preset": account.preset},
    )
    out.say(f"Added account “{account.name}”: {_describe(account)}.")
    out.say(f"Check it with: relaydesk account test {account.name}")
    out.emit({"status": "ok", "account": _account_dict(account, False)})
    return 0


def _describe(account: Account) -> str:
    auth = f"login {account.username}" if account.username else "no login"
    return f"{account.email} via {account.host}:{account.port} ({account.security.value}, {auth})"


def _account_dict(account: Account, is_default: bool) -> dict[str, Any]:
    return {
        "name": account.name,
        "email": account.email,
        "from_name": account.from_name,
        "host": account.host,
        "port": account.port,
        "security": account.security.value,
        "username": account.username,
        "password": account.password_mode.value,
        "ca_file": account.ca_file,
        "preset": account.preset,
        "default": is_default,
    }


def cmd_list(args: argparse.Namespace, store: Store, out: Output) -> int:
    rows = accounts.list_accounts(store)
    out.emit({"status": "ok", "accounts": [_account_dict(a, d) for a, d in rows]})
    if not rows:
        out.say("No accounts yet. Add one: relaydesk account add NAME --email ADDRESS")
    for account, is_default in rows:
        marker = "*" if is_default else " "
        out.say(f"{marker} {account.name:<16} {_describe(account)}")
    return 0


def cmd_test(args: argparse.Namespace, store: Store, out: Output) -> int:
    account = accounts.get_account(store, args.name)
    password = password_source(from_stdin=args.password_stdin)(account)
    out.say(f"Testing “{account.name}”: {_describe(account)}")

    def show(result: Any) -> None:
        mark = "✓" if result.ok else "✗"
        detail = f"  {result.detail}" if result.detail and result.ok else ""
        out.say(f"  {mark} {result.label:<26} {result.seconds * 1000:7.0f} ms{detail}")

    report = run_test(account, password, transcript=Transcript(), on_result=show)
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
    account = accounts.remove_account(store, args.name)
    secret_removed = secrets.delete_password(account.name)
    store.audit(face=FACE, action="account_remove", outcome="ok", account=account.name)
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
    from app.core.presets import load_presets

    presets = load_presets()
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
        }
    )
    for p in presets:
        where = f"{p.host}:{p.port} {p.security.value}" if p.host else "enter the server yourself"
        out.say(f"{p.id:<24} {p.name:<28} {where}")
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
