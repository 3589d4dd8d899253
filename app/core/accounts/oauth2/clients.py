"""Which OAuth2 client (application) ID an account signs in with.

In order: the account's own setting (an organisation's own app registration),
then the packaging-time default in ``app/resources/oauth2_clients.json`` (empty
in the repository; a release build fills it in), else a plain-words error that
says how to register one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.core.accounts import secrets
from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.errors import ClientIdMissing
from app.core.resources import resource

CLIENTS_FILE = "oauth2_clients.json"
SECRET_SUFFIX = "#oauth2-client-secret"

_REGISTER = {
    "microsoft": "Register an app at https://entra.microsoft.com → App registrations → "
    "New registration (“Accounts in any organizational directory and personal Microsoft "
    "accounts”), add the platform “Mobile and desktop applications” with the redirect URI "
    "http://localhost, allow public client flows, and add the delegated permission "
    "SMTP.Send (Office 365 Exchange Online) and offline_access.",
    "google": "Create an OAuth client at https://console.cloud.google.com → APIs & Services "
    "→ Credentials → Create credentials → OAuth client ID, type “Desktop app”; its loopback "
    "redirect works without setup. Add the scope https://mail.google.com/ on the consent "
    "screen.",
    "other": "Register a public (native) client with your provider that allows a loopback "
    "redirect to http://127.0.0.1 on any port and PKCE.",
}


@dataclass(frozen=True)
class Client:
    """The client to sign in as; the secret is only for providers that issue one to apps."""

    client_id: str
    client_secret: str | None = None


def secret_key(account: str) -> str:
    """The keyring entry of an account's own client secret."""
    return account + SECRET_SUFFIX


def packaged_clients() -> dict[str, dict[str, str]]:
    """The release build's default client IDs by preset id ({} in the repository)."""
    source = resource(CLIENTS_FILE)
    if not source.is_file():
        return {}
    data = json.loads(source.read_text(encoding="utf-8"))
    clients = data.get("clients", {}) if isinstance(data, dict) else {}
    return {
        key: value
        for key, value in clients.items()
        if isinstance(value, dict)
        and isinstance(value.get("client_id"), str)
        and value["client_id"]
    }


def resolve_client(account: str, settings: OAuth2Settings) -> Client:
    """The client ID (and secret) for ``account``; ClientIdMissing says how to get one."""
    if settings.client_id:
        secret = secrets.get_secret(secret_key(account)) if settings.has_client_secret else None
        return Client(settings.client_id, secret)
    packaged = packaged_clients().get(settings.provider or "")
    if packaged is not None:
        return Client(packaged["client_id"], packaged.get("client_secret") or None)
    raise client_id_missing(account, settings)


def client_id_missing(account: str, settings: OAuth2Settings) -> ClientIdMissing:
    """The error for a provider without a configured client ID."""
    family = _family(settings)
    return ClientIdMissing(
        "Signing in needs an OAuth2 client ID for this provider, and this copy of "
        "Relaydesk has none built in.",
        hint=f"{_REGISTER[family]} Then give its client ID with --oauth2-client-id ID (to "
        f"`relaydesk account add` again, or `relaydesk account edit {account}`), or in the "
        "window in the Client ID field of the sign-in step. See docs/oauth2.md.",
    )


def _family(settings: OAuth2Settings) -> str:
    if "microsoftonline" in settings.auth_url:
        return "microsoft"
    if "google" in settings.auth_url:
        return "google"
    return "other"
