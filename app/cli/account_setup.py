"""`relaydesk account add | edit | login`: an account's settings from options, and sign-in."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import oauth2_options
from app.cli.identity_options import add_identity_options, identity_from_args, store_identity
from app.cli.output import Output
from app.cli.passwords import password_source, prompt_password, read_password_stdin
from app.core.accounts import changes as account_changes
from app.core.accounts import model as accounts
from app.core.accounts import secrets
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.accounts.oauth2.clients import secret_key
from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.accounts.oauth2.http import TokenSet
from app.core.accounts.oauth2.signin import finish_sign_in
from app.core.delivery import connections
from app.core.delivery.addresses import validate_address
from app.core.delivery.attempts import SendOptions, send_item
from app.core.errors import UnreadableFile, UsageError
from app.core.setup import choice
from app.core.setup.providers import find_preset
from app.core.smtp.policy import plaintext_auth_warning
from app.core.store import Store

FACE = "cli"


def add_options(add: argparse.ArgumentParser) -> None:
    """The options of `account add`; `account edit` takes the same ones."""
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
        help="connections at once for runs of many messages, e.g. a mail merge (1-8; default 1)",
    )
    add_identity_options(add)
    add.add_argument("--json", action="store_true", help="print JSON")
    oauth2_options.add_options(add)


def _account_from_args(args: argparse.Namespace) -> Account:
    return _choose(args)[0]


def _choose(args: argparse.Namespace) -> tuple[Account, choice.ServerChoice]:
    """The account the options describe, and the settings chosen (with where they came from)."""
    email = validate_address(args.email)
    preset = choice.provider_for(
        email,
        args.preset,
        server_given=bool(args.host),
        hint=f"Look it up with `relaydesk account detect {email}`, or give the server: "
        "--host smtp.example.com --port 587 --security starttls.",
    )
    typed = choice.Typed(
        host=args.host or None,
        port=args.port or None,
        security=Security(args.security) if args.security else None,
        username=args.username,
    )
    chosen = choice.with_typed(email, preset, typed)
    if chosen.username_needed:
        raise chosen.username_problem("Give it with --username.")
    # The CLI keeps a password in the keyring unless told to ask; without a keyring it
    # refuses when storing (secrets.ensure_keyring) rather than quietly making a
    # scheduled job's account one that prompts at send time.
    username, mode = choice.login(
        username=chosen.username,
        email=email,
        sign_in=chosen.uses_sign_in(oauth2_options.asked_for_oauth2(args)),
        store_wanted=not args.ask_password,
        keyring_usable=True,
    )
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
        host=chosen.host,
        port=chosen.port,
        security=chosen.security,
        username=username,
        from_name=args.from_name,
        password_mode=mode,
        ca_file=ca_file,
        allow_plaintext_auth=args.allow_plaintext_auth,
        preset=preset.id if preset else None,
    )
    account.validate()
    return account, chosen


def cmd_add(args: argparse.Namespace, store: Store, out: Output) -> int:
    account, chosen = _choose(args)
    if args.connections is not None:
        connections.check_connections(args.connections)  # before anything is stored
    signature, reply_to = identity_from_args(args)  # checked before anything is stored
    args.out = out
    secret, oauth2, signed_in = _collect(args, store, account, original=None)
    account_changes.create_account(
        store, account, face=FACE, secret=secret, oauth2=oauth2, make_default=args.default
    )
    if signed_in is not None:
        finish_sign_in(store, account.name, signed_in, face=FACE)
    if args.connections is not None:
        connections.set_connections(store, account.name, args.connections)
    store_identity(store, account.name, signature, reply_to)
    _warn_plaintext(account, out)
    out.say(f"Added account “{account.name}”: {describe(account)}.")
    out.say(chosen.source)
    out.say(f"Check it with: relaydesk account test {account.name}")
    out.emit({"status": "ok", "account": account_dict(store, account, False)})
    return 0


def _warn_plaintext(account: Account, out: Output) -> None:
    warning = plaintext_auth_warning(account)
    if warning:
        print(f"relaydesk: {warning}", file=out.err)


def _collect(
    args: argparse.Namespace, store: Store, account: Account, original: Account | None
) -> tuple[account_changes.Secrets, OAuth2Settings | None, TokenSet | None]:
    """Ask for what the keyring gets (password, client secret), and sign in if needed."""
    if account.password_mode is PasswordMode.OAUTH2:
        base = oauth2_config.load(store, original.name) if original else None
        preset = find_preset(account.preset) if account.preset else None
        settings = oauth2_options.settings_from_args(args, preset, base)
        client_secret = read_password_stdin() if args.oauth2_client_secret_stdin else None
        unchanged = (
            original is not None
            and original.password_mode is PasswordMode.OAUTH2
            and base == settings
            and not client_secret
        )
        if unchanged:
            return account_changes.Secrets(), settings, None
        secrets.ensure_keyring()  # the tokens will need it: refuse before signing in
        if client_secret:  # the sign-in itself needs it, so it is stored first
            secrets.store_secret(secret_key(account.name), client_secret)
        try:
            tokens_ = oauth2_options.sign_in(account.name, settings, args.out)
        except BaseException:
            if client_secret:
                secrets.delete_secret(secret_key(account.name))
            raise
        return account_changes.Secrets(), settings, tokens_
    needs_password = account.password_mode is PasswordMode.KEYRING and (
        original is None
        or original.password_mode is not PasswordMode.KEYRING
        or args.password_stdin
    )
    if not needs_password:
        return account_changes.Secrets(), None, None
    secrets.ensure_keyring()  # before asking for anything
    password = read_password_stdin() if args.password_stdin else prompt_password(account)
    return account_changes.Secrets(password=password), None, None


def cmd_edit(args: argparse.Namespace, store: Store, out: Output) -> int:
    original = accounts.get_account(store, args.name)
    signature, reply_to = identity_from_args(args)
    merged = _edit_namespace(args, original)
    account = _account_from_args(merged)
    if merged.connections is not None:
        connections.check_connections(merged.connections)
    merged.out = out
    secret, oauth2, signed_in = _collect(merged, store, account, original)
    account_changes.update_account(
        store, original, account, face=FACE, secret=secret, oauth2=oauth2
    )
    if signed_in is not None:
        finish_sign_in(store, account.name, signed_in, face=FACE)
    if getattr(args, "default", False):
        accounts.set_default_account(store, account.name)
    if merged.connections is not None:
        connections.set_connections(store, account.name, merged.connections)
    store_identity(store, account.name, signature, reply_to)
    _warn_plaintext(account, out)
    out.say(f"Changed account “{account.name}”: {describe(account)}.")
    out.emit({"status": "ok", "account": account_dict(store, account, False)})
    return 0


def _edit_namespace(args: argparse.Namespace, original: Account) -> argparse.Namespace:
    """The options of add, filled from ``original`` where `edit` was not given them."""
    given = vars(args)
    switch_to_password = "password_stdin" in given or "ask_password" in given
    base: dict[str, Any] = {
        "email": original.email,
        "preset": original.preset,
        "host": original.host,
        "port": original.port,
        "security": original.security.value,
        "username": original.username,
        "from_name": original.from_name,
        "ca_file": original.ca_file,
        "password_stdin": False,
        "ask_password": original.password_mode is PasswordMode.ASK,
        "allow_plaintext_auth": original.allow_plaintext_auth,
        "default": False,
        "connections": None,
        "json": False,
        "oauth2": original.password_mode is PasswordMode.OAUTH2 and not switch_to_password,
        "oauth2_device": False,
        "oauth2_client_secret_stdin": False,
    }
    if "preset" in given:  # the provider's settings, unless given explicitly as well
        base.update(host=None, port=None, security=None, username=None)
    elif "host" in given:
        base["preset"] = None
    if "password_stdin" in given:
        base["ask_password"] = False
    return argparse.Namespace(**(base | given))


def switch_to_signin(store: Store, name: str, out: Output) -> None:
    """`account test --apply-fix` for "basic auth is off": `account edit NAME --oauth2`."""
    cmd_edit(argparse.Namespace(name=name, oauth2=True), store, out)


def cmd_login(args: argparse.Namespace, store: Store, out: Output) -> int:
    account = accounts.get_account(store, args.name)
    settings = oauth2_config.load(store, account.name)
    if account.password_mode is not PasswordMode.OAUTH2 or settings is None:
        raise UsageError(
            f"Account “{account.name}” logs in with a password, not by signing in.",
            hint=f"To switch it to sign-in: relaydesk account edit {account.name} --oauth2",
        )
    secrets.ensure_keyring()
    if args.oauth2_device:
        settings = settings.with_changes(use_device=True)
    tokens_ = oauth2_options.sign_in(account.name, settings, out)
    waiting = finish_sign_in(store, account.name, tokens_, face=FACE)
    out.say(f"Signed in: “{account.name}” can send again.")
    results = []
    if waiting:
        out.say(f"Sending {len(waiting)} message(s) that waited for the sign-in…")
        resolver = password_source(store, from_stdin=False)
        for item_id in waiting:
            result = send_item(store, item_id, resolver, SendOptions(face=FACE))
            results.append({"id": item_id, "state": result.state.value})
            out.say(f"  #{item_id}: {result.state.value}")
    out.emit({"status": "ok", "account": account.name, "sent": results})
    return 0


def describe(account: Account) -> str:
    auth = f"login {account.username}" if account.username else "no login"
    if account.password_mode is PasswordMode.OAUTH2:
        auth = f"signs in as {account.username}"
    return f"{account.email} via {account.host}:{account.port} ({account.security.value}, {auth})"


def account_dict(store: Store, account: Account, is_default: bool) -> dict[str, Any]:
    oauth2 = account.password_mode is PasswordMode.OAUTH2
    return {
        "auth": "oauth2" if oauth2 else ("password" if account.uses_auth else "none"),
        "needs_signin": oauth2 and oauth2_config.needs_signin(store, account.name),
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
