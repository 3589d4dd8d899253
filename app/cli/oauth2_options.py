"""The CLI's OAuth2 options and its sign-in conversation (URL, device code, Ctrl+C)."""

from __future__ import annotations

import argparse
import os
import threading
from typing import TYPE_CHECKING

from app.cli.output import Output
from app.core.accounts.oauth2.config import BROWSER_TIMEOUT, OAuth2Settings, from_preset
from app.core.accounts.oauth2.http import TokenSet
from app.core.accounts.oauth2.signin import SignInOptions, obtain_tokens
from app.core.errors import InvalidInput, UsageError
from app.core.setup.presets import Preset

if TYPE_CHECKING:
    from app.core.accounts.oauth2.flows import DeviceCode

_OAUTH2_DESTS = (
    "oauth2_auth_url",
    "oauth2_token_url",
    "oauth2_client_id",
    "oauth2_scope",
    "oauth2_device_url",
    "oauth2_issuer",
    "oauth2_tenant",
)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The OAuth2 sign-in options of `account add` (and so of `account edit`)."""
    group = parser.add_argument_group(
        "OAuth2 sign-in", "Sign in with the provider instead of a password (see docs/oauth2.md)."
    )
    group.add_argument(
        "--oauth2", action="store_true", help="sign in with OAuth2 instead of a password"
    )
    group.add_argument("--oauth2-auth-url", metavar="URL", help="authorization endpoint")
    group.add_argument("--oauth2-token-url", metavar="URL", help="token endpoint")
    group.add_argument(
        "--oauth2-client-id", metavar="ID", help="your own registered client (application) ID"
    )
    group.add_argument(
        "--oauth2-scope", metavar="SCOPE", action="append", help="scope to ask for (repeatable)"
    )
    group.add_argument("--oauth2-device-url", metavar="URL", help="device authorization endpoint")
    group.add_argument(
        "--oauth2-issuer", metavar="URL", help="read the endpoints from RFC 8414 metadata"
    )
    group.add_argument(
        "--oauth2-client-secret-stdin",
        action="store_true",
        help="read a client secret from standard input (only if the provider issued one)",
    )
    group.add_argument(
        "--oauth2-device",
        action="store_true",
        help="sign in with a code on another device (no browser on this machine)",
    )
    group.add_argument(
        "--oauth2-tenant", metavar="TENANT", help="Microsoft: your organisation's tenant"
    )


def asked_for_oauth2(args: argparse.Namespace) -> bool | None:
    """True when an OAuth2 option was given, False when a password one was, else None
    (the provider decides: ``choice.ServerChoice.uses_sign_in``)."""
    if getattr(args, "oauth2", False) or any(getattr(args, d, None) for d in _OAUTH2_DESTS):
        return True
    if getattr(args, "password_stdin", False) or getattr(args, "ask_password", False):
        return False
    return None


def settings_from_args(
    args: argparse.Namespace, preset: Preset | None, base: OAuth2Settings | None = None
) -> OAuth2Settings:
    """The account's sign-in settings: explicit endpoints, issuer metadata, or the preset's."""
    client_id = getattr(args, "oauth2_client_id", None)
    tenant = getattr(args, "oauth2_tenant", None)
    if getattr(args, "oauth2_issuer", None):
        from app.core.accounts.oauth2 import flows

        meta = flows.discover(args.oauth2_issuer)
        settings = OAuth2Settings(
            auth_url=meta["authorization_endpoint"],
            token_url=meta.get("token_endpoint", ""),
            device_url=meta.get("device_authorization_endpoint"),
            scopes=tuple(getattr(args, "oauth2_scope", None) or ()),
            issuer=args.oauth2_issuer,
        )
    elif getattr(args, "oauth2_auth_url", None) or getattr(args, "oauth2_token_url", None):
        auth_url = getattr(args, "oauth2_auth_url", None)
        token_url = getattr(args, "oauth2_token_url", None)
        if not (auth_url and token_url):
            raise UsageError(
                "OAuth2 needs both --oauth2-auth-url and --oauth2-token-url.",
                hint="Or give --oauth2-issuer URL to read them from the provider's metadata.",
            )
        settings = OAuth2Settings(
            auth_url=auth_url,
            token_url=token_url,
            scopes=tuple(getattr(args, "oauth2_scope", None) or ()),
        )
    elif base is not None:
        settings = base
    elif preset is not None and preset.oauth2 is not None:
        settings = from_preset(preset, tenant=tenant)
    else:
        raise UsageError(
            "Relaydesk knows no OAuth2 endpoints for this server.",
            hint="Give --oauth2-issuer URL, or --oauth2-auth-url, --oauth2-token-url and "
            "--oauth2-scope.",
        )
    return _with_overrides(args, settings, client_id, tenant)


def _with_overrides(
    args: argparse.Namespace, settings: OAuth2Settings, client_id: str | None, tenant: str | None
) -> OAuth2Settings:
    changes: dict[str, object] = {}
    if client_id:
        changes["client_id"] = client_id
    if getattr(args, "oauth2_scope", None):
        changes["scopes"] = tuple(args.oauth2_scope)
    if getattr(args, "oauth2_device_url", None):
        changes["device_url"] = args.oauth2_device_url
    if getattr(args, "oauth2_device", False):
        changes["use_device"] = True
    if getattr(args, "oauth2_client_secret_stdin", False):
        changes["has_client_secret"] = True
    if tenant and settings.tenant and tenant != settings.tenant:
        changes |= _retenant(settings, tenant)
    if not settings.token_url:
        raise InvalidInput("The provider's metadata names no token endpoint.")
    return settings.with_changes(**changes)


def _retenant(settings: OAuth2Settings, tenant: str) -> dict[str, object]:
    old = f"/{settings.tenant}/"
    new = f"/{tenant}/"
    return {
        "auth_url": settings.auth_url.replace(old, new),
        "token_url": settings.token_url.replace(old, new),
        "device_url": settings.device_url.replace(old, new) if settings.device_url else None,
        "tenant": tenant,
    }


def sign_in(account: str, settings: OAuth2Settings, out: Output) -> TokenSet:
    """Run the sign-in in the terminal: browser (or device code); Ctrl+C cancels."""
    cancel = threading.Event()

    def on_url(url: str) -> None:
        out.note("Opening your browser to sign in. If it does not open, visit:")
        out.note(f"  {url}")

    def show_code(code: DeviceCode) -> None:
        out.note(f"To sign in, open {code.verification_uri} and enter the code {code.user_code}")
        if code.verification_uri_complete:
            out.note(f"  or open {code.verification_uri_complete}")
        out.note("Waiting for the sign-in… (Ctrl+C cancels)")

    # How long to wait for the browser; an environment knob for slow or scripted sign-ins.
    timeout = float(os.environ.get("RELAYDESK_OAUTH2_TIMEOUT", BROWSER_TIMEOUT))
    options = SignInOptions(on_url=on_url, show_code=show_code, cancel=cancel, timeout=timeout)
    try:
        return obtain_tokens(account, settings, options)
    except KeyboardInterrupt:
        cancel.set()
        raise
