"""An account's OAuth2 sign-in settings: endpoints, scopes, client ID. Never a token.

They are kept in the ``account_oauth2`` table next to the account, together
with whether the account must sign in again (a refresh the provider refused).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from app.core.errors import InvalidInput
from app.core.setup.presets import SASL_MECHANISMS, OAuth2Provider, Preset
from app.core.store import Store

BROWSER_TIMEOUT = 300.0  # seconds to wait for the person to finish in the browser


@dataclass(frozen=True)
class OAuth2Settings:
    """Where and how one account signs in."""

    auth_url: str
    token_url: str
    scopes: tuple[str, ...]
    client_id: str | None = None  # None: the packaged default for the provider (clients.py)
    device_url: str | None = None
    issuer: str | None = None
    tenant: str | None = None
    mechanisms: tuple[str, ...] = SASL_MECHANISMS
    provider: str | None = None  # preset id, for the packaged client ID and messages
    use_device: bool = False  # sign in with the device flow (no browser on this machine)
    has_client_secret: bool = False  # a client secret is in the keyring
    extra: dict[str, str] = field(default_factory=dict)  # extra authorize parameters

    def validate(self) -> None:
        """Raise InvalidInput when the endpoints cannot work."""
        for name, url in (
            ("authorization", self.auth_url),
            ("token", self.token_url),
            ("device", self.device_url),
        ):
            if url is not None and not _usable_url(url):
                raise InvalidInput(
                    f"The OAuth2 {name} URL “{url}” is not an https:// address.",
                    hint="Give the provider's published endpoint, e.g. "
                    "https://login.example.com/oauth2/token.",
                )
        if not self.scopes:
            raise InvalidInput(
                "No OAuth2 scope was given.",
                hint="Give the scope that allows sending mail, e.g. --oauth2-scope "
                "https://outlook.office.com/SMTP.Send",
            )
        if self.use_device and not self.device_url:
            raise InvalidInput(
                "The device sign-in was asked for, but the provider has no device endpoint.",
                hint="Give it with --oauth2-device-url, or sign in with a browser.",
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> OAuth2Settings:
        data: dict[str, Any] = json.loads(text)
        data["scopes"] = tuple(data.get("scopes", ()))
        data["mechanisms"] = tuple(data.get("mechanisms", SASL_MECHANISMS))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_changes(self, **changes: Any) -> OAuth2Settings:
        settings = replace(self, **changes)
        settings.validate()
        return settings


def _usable_url(url: str) -> bool:
    # Tokens travel to these endpoints: TLS always (RFC 6749 §3.1, §3.2).
    return url.startswith("https://") and len(url) > len("https://")


def from_preset(
    preset: Preset, *, tenant: str | None = None, client_id: str | None = None
) -> OAuth2Settings:
    """The settings a provider preset publishes, with a per-account tenant (Microsoft)."""
    block: OAuth2Provider | None = preset.oauth2
    if block is None:
        raise InvalidInput(
            f"Relaydesk knows no OAuth2 sign-in for {preset.name}.",
            hint="Give the endpoints: --oauth2-auth-url, --oauth2-token-url, --oauth2-scope "
            "(or --oauth2-issuer).",
        )
    swap = _tenant_swapper(block.tenant, tenant)
    return OAuth2Settings(
        auth_url=swap(block.auth_url),
        token_url=swap(block.token_url),
        device_url=swap(block.device_url) if block.device_url else None,
        scopes=block.scopes,
        issuer=block.issuer,
        tenant=tenant or block.tenant,
        mechanisms=block.mechanisms,
        provider=preset.id,
        client_id=client_id,
    )


def _tenant_swapper(default: str | None, wanted: str | None) -> Any:
    if not default or not wanted or wanted == default:
        return lambda url: url
    if not all(c.isalnum() or c in ".-" for c in wanted):
        raise InvalidInput(
            f"“{wanted}” is not a tenant name.",
            hint="Give the organisation's tenant ID or domain, e.g. contoso.onmicrosoft.com.",
        )
    return lambda url: url.replace(f"/{default}/", f"/{wanted}/")


# --- persistence --------------------------------------------------------------


def save(store: Store, account: str, settings: OAuth2Settings) -> None:
    """Keep the account's sign-in settings (the sign-in state is not changed)."""
    settings.validate()
    store.execute(
        "INSERT INTO account_oauth2 (account, settings, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT(account) DO UPDATE SET settings = excluded.settings,"
        " updated_at = excluded.updated_at",
        (account, settings.to_json(), time.time()),
    )


def load(store: Store, account: str) -> OAuth2Settings | None:
    """The account's sign-in settings, or None for an account that does not sign in."""
    row = store.execute(
        "SELECT settings FROM account_oauth2 WHERE account = ?", (account,)
    ).fetchone()
    return OAuth2Settings.from_json(row["settings"]) if row else None


def delete(store: Store, account: str) -> None:
    store.execute("DELETE FROM account_oauth2 WHERE account = ?", (account,))


def needs_signin(store: Store, account: str) -> bool:
    """True until the first sign-in, and again after the provider refused a refresh."""
    row = store.execute(
        "SELECT needs_signin FROM account_oauth2 WHERE account = ?", (account,)
    ).fetchone()
    return bool(row["needs_signin"]) if row else False


def mark_signed_in(store: Store, account: str) -> None:
    store.execute(
        "UPDATE account_oauth2 SET needs_signin = 0, signed_in_at = ?, updated_at = ?"
        " WHERE account = ?",
        (time.time(), time.time(), account),
    )


def mark_needs_signin(store: Store, account: str) -> None:
    store.execute(
        "UPDATE account_oauth2 SET needs_signin = 1, updated_at = ? WHERE account = ?",
        (time.time(), account),
    )
