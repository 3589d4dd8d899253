"""Provider presets: known SMTP settings for common mail providers.

The data lives in ``app/resources/providers.json``; this module loads it once,
checks every entry, and answers "which provider serves this address?" by the
address's domain or by the domain's MX host.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from app.core.accounts.model import Security
from app.core.errors import ConfigError
from app.core.resources import resource

CUSTOM_ID = "custom"
AUTH_KINDS = frozenset({"password", "app_password", "oauth2", "api_key"})

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_FIELDS = frozenset(
    {
        "id",
        "name",
        "domains",
        "mx_suffixes",
        "host",
        "port",
        "security",
        "username",
        "auth",
        "app_password_url",
        "help_url",
        "daily_limit",
        "notes",
        "alternatives",
        "oauth2",
    }
)
_OPTIONAL_FIELDS = frozenset({"alternatives", "oauth2"})
_OAUTH2_FIELDS = frozenset(
    {"issuer", "auth_url", "token_url", "device_url", "scopes", "mechanisms", "tenant"}
)
SASL_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")


@dataclass(frozen=True)
class PortOption:
    """One port and TLS mode a provider accepts."""

    port: int
    security: Security


@dataclass(frozen=True)
class Link:
    """A provider page to show a person: where to make an app password, switch access on, read."""

    url: str
    text: str
    kind: str  # "app_password" | "enable" | "docs"


@dataclass(frozen=True)
class OAuth2Provider:
    """A provider's published OAuth2 endpoints for SMTP sign-in (no client ID: see oauth2)."""

    auth_url: str
    token_url: str
    scopes: tuple[str, ...]
    mechanisms: tuple[str, ...] = SASL_MECHANISMS  # SASL mechanisms, preferred first
    device_url: str | None = None  # RFC 8628 device authorization endpoint, if offered
    issuer: str | None = None  # RFC 8414 issuer, where the provider publishes metadata
    tenant: str | None = None  # Microsoft: "common", "consumers" or "organizations"


@dataclass(frozen=True)
class Preset:
    """Published SMTP settings of one provider."""

    id: str
    name: str
    domains: tuple[str, ...]
    mx_suffixes: tuple[str, ...]
    host: str | None  # None only for the "custom" preset
    port: int
    security: Security
    username: str | None  # a template with %EMAIL…% placeholders, a literal, or None
    auth: str  # one of AUTH_KINDS
    app_password_url: str | None
    help_url: str | None
    daily_limit: int | None
    notes: str
    alternatives: tuple[PortOption, ...] = ()
    oauth2: OAuth2Provider | None = None
    links: tuple[Link, ...] = ()  # from the provider database; see guidance()

    @property
    def options(self) -> tuple[PortOption, ...]:
        """Every port and mode, the preferred first."""
        return (PortOption(self.port, self.security), *self.alternatives)

    def guidance(self) -> tuple[Link, ...]:
        """Pages worth showing, most useful first: app password, switching access on, docs."""
        links = list(self.links)
        if self.help_url:
            links.insert(0, Link(self.help_url, f"{self.name}: settings for mail programs", "docs"))
        if self.app_password_url:
            links.insert(0, Link(self.app_password_url, "Create an app password", "app_password"))
        order = {"app_password": 0, "enable": 1, "docs": 2}
        docs = next((link for link in links if link.kind == "docs"), None)
        kept: dict[str, Link] = {}  # one of each URL; of the docs pages only the first
        for link in links:
            if link.kind != "docs" or link is docs:
                kept.setdefault(link.url, link)
        return tuple(sorted(kept.values(), key=lambda link: order.get(link.kind, 3)))

    @property
    def is_custom(self) -> bool:
        """True for the "enter your own server" entry."""
        return self.id == CUSTOM_ID

    def username_for(self, email: str) -> str | None:
        """The login name for ``email``; None when the user has to type it in."""
        return None if self.username is None else _expand(self.username, email)

    def host_for(self, email: str) -> str | None:
        """The server for ``email`` (a few database entries name it ``mail.%EMAILDOMAIN%``)."""
        return None if self.host is None else _expand(self.host, email)


def _expand(template: str, email: str) -> str:
    local, _, domain = email.strip().rpartition("@")
    if not local:  # no "@": treat the whole thing as the local part
        local, domain = domain, ""
    return (
        template.replace("%EMAILADDRESS%", email.strip())
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain.lower())
    )


@functools.cache
def load_presets(path: Path | Traversable | None = None) -> tuple[Preset, ...]:
    """All presets from ``providers.json`` (or ``path``), checked; ValueError names a bad entry."""
    source = path if path is not None else resource("providers.json")
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not valid JSON: {error}") from error
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f'{source}: expected an object with "version": 1')
    entries = data.get("providers")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f'{source}: "providers" must be a non-empty list')

    presets: list[Preset] = []
    for index, entry in enumerate(entries):
        label = _entry_label(index, entry)
        try:
            presets.append(_parse_entry(entry))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source}: provider {label}: {error}") from None
    _check_unique(source, presets)
    return tuple(presets)


def get_preset(preset_id: str) -> Preset:
    """The preset with this id; ConfigError listing the valid ids otherwise."""
    presets = load_presets()
    for preset in presets:
        if preset.id == preset_id:
            return preset
    valid = ", ".join(preset.id for preset in presets)
    raise ConfigError(
        f"There is no provider preset called {preset_id!r}.",
        hint=f"Use one of: {valid}.",
        details={"preset": preset_id, "valid": [preset.id for preset in presets]},
    )


def preset_for_email(email: str) -> Preset | None:
    """The curated preset for the address's domain, ignoring case: its own domains and those
    the bundled provider database lends it (``hotmail.co.uk`` → Outlook.com). Providers known
    only to the database: ``providers.preset_for_address``."""
    from app.core.setup.providers import catalogue  # that module builds on this one

    _, at, domain = email.strip().rpartition("@")
    found = catalogue().for_domain(domain) if at and domain.strip() else None
    if found is None or found.origin == "ispdb":
        return None
    return found.preset


# -- parsing -----------------------------------------------------------------


def _normalise_host(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _entry_label(index: int, entry: object) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return f"#{index} ({entry['id']!r})"
    return f"#{index}"


def _parse_entry(entry: object) -> Preset:
    if not isinstance(entry, dict):
        raise ValueError("must be a JSON object")
    missing = sorted(_FIELDS - _OPTIONAL_FIELDS - entry.keys())
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(entry.keys() - _FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")

    preset_id = _text(entry, "id")
    if not _ID.match(preset_id):
        raise ValueError(f"id {preset_id!r} must be lower-case letters, digits and '-'")
    host = _optional_text(entry, "host")
    if host is None and preset_id != CUSTOM_ID:
        raise ValueError("host is required (only the custom preset may leave it empty)")
    if host is not None and not _HOSTNAME.match(host):
        raise ValueError(f"host {host!r} is not a lower-case host name or IP address")
    auth = _text(entry, "auth")
    if auth not in AUTH_KINDS:
        raise ValueError(f"auth {auth!r} must be one of {', '.join(sorted(AUTH_KINDS))}")

    stated = (
        PortOption(_port(entry.get("port"), "port"), _security(entry.get("security"), "security")),
        *_alternatives(entry.get("alternatives", [])),
    )
    # A provider's implicit-TLS port goes first; "custom" keeps its default for company relays.
    first, *others = secure_first(stated) if host is not None else stated
    return Preset(
        id=preset_id,
        name=_text(entry, "name"),
        domains=_names(entry, "domains"),
        mx_suffixes=_names(entry, "mx_suffixes"),
        host=host,
        port=first.port,
        security=first.security,
        username=_optional_text(entry, "username"),
        auth=auth,
        app_password_url=_url(entry, "app_password_url"),
        help_url=_url(entry, "help_url"),
        daily_limit=_daily_limit(entry.get("daily_limit")),
        notes=_text(entry, "notes"),
        alternatives=tuple(others),
        oauth2=_oauth2(entry.get("oauth2")),
    )


_SECURITY_RANK = {Security.TLS: 0, Security.STARTTLS: 1, Security.NONE: 2}


def secure_first(options: tuple[PortOption, ...]) -> tuple[PortOption, ...]:
    """Implicit TLS first (RFC 8314 §3.3), then STARTTLS, unencrypted last; duplicates dropped."""
    unique = tuple(dict.fromkeys(options))
    return tuple(sorted(unique, key=lambda option: _SECURITY_RANK[option.security]))


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _optional_text(entry: dict[str, Any], key: str) -> str | None:
    return None if entry.get(key) is None else _text(entry, key)


def _url(entry: dict[str, Any], key: str) -> str | None:
    url = _optional_text(entry, key)
    if url is not None and not url.startswith("https://"):
        raise ValueError(f"{key} must be an https:// address or null")
    return url


def _names(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    values = entry.get(key)
    if not isinstance(values, list):
        raise ValueError(f"{key} must be a list")
    names = []
    for value in values:
        if not isinstance(value, str) or not _HOSTNAME.match(value) or "." not in value:
            raise ValueError(f"{key} entry {value!r} is not a lower-case domain name")
        names.append(value)
    return tuple(names)


def _port(value: object, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise ValueError(f"{key} must be a whole number from 1 to 65535, not {value!r}")
    return value


def _security(value: object, key: str) -> Security:
    choices = [member.value for member in Security]
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{key} {value!r} must be one of {', '.join(choices)}")
    return Security(value)


def _daily_limit(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"daily_limit must be a positive whole number or null, not {value!r}")
    return value


def _alternatives(values: object) -> tuple[PortOption, ...]:
    if not isinstance(values, list):
        raise ValueError("alternatives must be a list")
    options = []
    for value in values:
        if not isinstance(value, dict) or value.keys() != {"port", "security"}:
            raise ValueError(f"alternative {value!r} must be an object with port and security")
        options.append(
            PortOption(
                _port(value["port"], "alternative port"),
                _security(value["security"], "alternative security"),
            )
        )
    return tuple(options)


def _oauth2(value: object) -> OAuth2Provider | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("oauth2 must be an object")
    unknown = sorted(value.keys() - _OAUTH2_FIELDS)
    if unknown:
        raise ValueError(f"unknown oauth2 field(s): {', '.join(unknown)}")
    for key in ("auth_url", "token_url", "device_url", "issuer"):
        url = value.get(key)
        if url is not None and not (isinstance(url, str) and url.startswith("https://")):
            raise ValueError(f"oauth2.{key} must be an https:// URL")
    if not isinstance(value.get("auth_url"), str) or not isinstance(value.get("token_url"), str):
        raise ValueError("oauth2 needs auth_url and token_url")
    scopes = value.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise ValueError("oauth2.scopes must be a non-empty list of strings")
    mechanisms = value.get("mechanisms", list(SASL_MECHANISMS))
    if not isinstance(mechanisms, list) or not mechanisms or set(mechanisms) - set(SASL_MECHANISMS):
        raise ValueError(f"oauth2.mechanisms must list some of {', '.join(SASL_MECHANISMS)}")
    tenant = value.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise ValueError("oauth2.tenant must be a string")
    return OAuth2Provider(
        auth_url=value["auth_url"],
        token_url=value["token_url"],
        scopes=tuple(scopes),
        mechanisms=tuple(mechanisms),
        device_url=value.get("device_url"),
        issuer=value.get("issuer"),
        tenant=tenant,
    )


def _check_unique(source: Path | Traversable, presets: list[Preset]) -> None:
    seen_ids: set[str] = set()
    domain_owner: dict[str, str] = {}
    for preset in presets:
        if preset.id in seen_ids:
            raise ValueError(f"{source}: provider {preset.id!r} appears more than once")
        seen_ids.add(preset.id)
        for domain in preset.domains:
            owner = domain_owner.setdefault(domain, preset.id)
            if owner != preset.id:
                raise ValueError(
                    f"{source}: provider {preset.id!r}: domain {domain!r} "
                    f"is already listed by {owner!r}"
                )
    if CUSTOM_ID not in seen_ids:
        raise ValueError(f"{source}: the {CUSTOM_ID!r} provider is missing")
