"""Every provider Relaydesk knows: the curated presets laid over Thunderbird's ISPDB.

The curated file (``providers.json``) wins on everything it states; a provider
of the ISPDB that shares a domain (or an MX domain) with a curated preset lends
it its other domains, ports, OAuth2 endpoints and pages. Every other ISPDB
provider becomes a preset of its own, id = the ISPDB file's id ("web.de").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from app.core.accounts.model import Security
from app.core.setup import ispdb
from app.core.setup.presets import (
    CUSTOM_ID,
    Link,
    OAuth2Provider,
    PortOption,
    Preset,
    get_preset,
    load_presets,
    secure_first,
)

ISPDB_NOTE = "Settings from Thunderbird's provider database."
PLAIN_ONLY_NOTE = (
    "Thunderbird's provider database lists this server only without encryption, so "
    "Relaydesk asks it for STARTTLS first. If the test says STARTTLS is missing, use no "
    "encryption only on a network you trust."
)


@dataclass(frozen=True)
class Found:
    """A preset and where its facts came from: "curated", "ispdb" or "curated+ispdb"."""

    preset: Preset
    origin: str


class Catalogue:
    """Lookups by domain, MX host and id over the merged providers."""

    def __init__(self, curated: tuple[Preset, ...], database: tuple[ispdb.Provider, ...]) -> None:
        self.curated = curated
        self.database = database
        self._by_domain: dict[str, Found] = {}
        self._by_id: dict[str, Found] = {}
        self._mx_suffixes: dict[str, Found] = {}
        lent = _lend(curated, database)
        for preset in curated:
            found = _merge(preset, lent.get(preset.id, []))
            self._add(found)
            for suffix in preset.mx_suffixes:
                self._mx_suffixes[suffix] = found
        borrowed = {provider.id for providers in lent.values() for provider in providers}
        for provider in database:
            if provider.id not in borrowed and provider.id not in self._by_id:
                self._add(Found(preset_from_ispdb(provider), "ispdb"))

    def _add(self, found: Found) -> None:
        self._by_id.setdefault(found.preset.id, found)
        for domain in found.preset.domains:
            self._by_domain.setdefault(domain, found)  # curated presets were added first

    def for_domain(self, domain: str) -> Found | None:
        """The provider that hosts mail for exactly this domain."""
        return self._by_domain.get(domain.strip().rstrip(".").lower())

    def for_mx(self, mx_host: str, registrable: str | None) -> Found | None:
        """The provider behind an MX host: its parent domains from the longest down to the
        registrable one (``registrable``, from the Public Suffix List), curated MX suffixes
        before database domains at each level — so ``*.olc.protection.outlook.com`` (consumer
        Outlook) and ``*.mail.protection.outlook.com`` (Microsoft 365) stay apart."""
        host = mx_host.strip().rstrip(".").lower()
        labels = host.split(".")
        for start in range(len(labels)):
            name = ".".join(labels[start:])
            found = self._mx_suffixes.get(name) or self._by_domain.get(name)
            if found is not None and found.preset.host is not None:
                return found
            if name == registrable or start == len(labels) - 2:
                break  # no further than the registrable domain (never "co.uk" or "de")
        return None

    def get(self, preset_id: str) -> Found | None:
        """A curated preset or a database provider by id."""
        return self._by_id.get(preset_id)


@functools.cache
def catalogue() -> Catalogue:
    """The shipped catalogue (loaded once)."""
    return Catalogue(load_presets(), ispdb.load())


def preset_for_address(email: str) -> Preset | None:
    """The provider for the address's domain, curated or from the database."""
    found = catalogue().for_domain(email.strip().rpartition("@")[2])
    return found.preset if found is not None else None


def find_preset(preset_id: str) -> Preset:
    """A curated preset or a database provider ("web.de") by id; ConfigError otherwise."""
    found = catalogue().get(preset_id.strip().lower())
    if found is None:
        return get_preset(preset_id)  # its error lists the curated ids
    return found.preset


# -- merging -------------------------------------------------------------------------


def _lend(
    curated: tuple[Preset, ...], database: tuple[ispdb.Provider, ...]
) -> dict[str, list[ispdb.Provider]]:
    """Which database providers stand behind which curated preset (a shared domain first)."""
    by_domain = {d: p.id for p in reversed(curated) for d in p.domains}
    by_mx = {s: p.id for p in reversed(curated) for s in p.mx_suffixes}
    lent: dict[str, list[ispdb.Provider]] = {}
    for provider in database:
        owner = next((by_domain[d] for d in provider.domains if d in by_domain), None)
        owner = owner or next((by_mx[d] for d in provider.domains if d in by_mx), None)
        if owner is not None and owner != CUSTOM_ID:
            lent.setdefault(owner, []).append(provider)
    return lent


def _merge(preset: Preset, providers: list[ispdb.Provider]) -> Found:
    if not providers:
        return Found(preset, "curated")
    domains = list(preset.domains)
    options = list(preset.options)
    links: list[Link] = list(preset.links)
    oauth2 = preset.oauth2
    for provider in providers:
        domains += [d for d in provider.domains if d not in domains]
        options += [
            PortOption(s.port, s.security)
            for s in provider.servers
            if s.host == preset.host and s.security is not Security.NONE
        ]
        links += [link for link in provider.links if link.url.startswith("https://")]
        if oauth2 is None:
            oauth2 = _oauth2_for(provider, provider.servers)
    first, *others = secure_first(tuple(options)) if preset.host else preset.options
    merged = replace(
        preset,
        domains=tuple(domains),
        port=first.port,
        security=first.security,
        alternatives=tuple(others),
        oauth2=oauth2,
        help_url=preset.help_url or _first_docs(links),
        links=tuple(links),
    )
    return Found(merged, "curated+ispdb")


def preset_from_ispdb(provider: ispdb.Provider) -> Preset:
    """A preset from one database provider: its first host, encrypted modes first."""
    secure = [s for s in provider.servers if s.security is not Security.NONE]
    # The file's first implicit-TLS server, else its first STARTTLS one (RFC 8314 §3.3).
    primary = min(secure, key=lambda s: s.security is not Security.TLS) if secure else None
    plain_only = primary is None
    primary = primary or provider.servers[0]
    same_host = [s for s in provider.servers if s.host == primary.host]
    options = [PortOption(s.port, s.security) for s in same_host]
    if plain_only:  # ask for STARTTLS on the listed port before ever going unencrypted
        options.insert(0, PortOption(primary.port, Security.STARTTLS))
    first, *others = secure_first(tuple(options))
    links = tuple(link for link in provider.links if link.url.startswith("https://"))
    return Preset(
        id=provider.id,
        name=provider.name,
        domains=provider.domains,
        mx_suffixes=(),
        host=primary.host,
        port=first.port,
        security=first.security,
        username=primary.username if "none" not in primary.auth else None,
        auth="oauth2" if primary.auth == ("OAuth2",) else "password",
        app_password_url=None,
        help_url=_first_docs(links),
        daily_limit=None,
        notes=PLAIN_ONLY_NOTE if plain_only else ISPDB_NOTE,
        alternatives=tuple(others),
        oauth2=_oauth2_for(provider, same_host),
        links=links,
    )


def _oauth2_for(
    provider: ispdb.Provider, servers: tuple[ispdb.Server, ...] | list[ispdb.Server]
) -> OAuth2Provider | None:
    """The provider's OAuth2 endpoints, when its SMTP server accepts OAuth2 at all."""
    facts = provider.oauth2
    if facts is None or not facts.scopes or not any("OAuth2" in s.auth for s in servers):
        return None
    issuer = facts.issuer
    if issuer and "://" not in issuer:
        issuer = f"https://{issuer}"  # the database names the issuer's host only
    return OAuth2Provider(
        auth_url=facts.auth_url, token_url=facts.token_url, scopes=facts.scopes, issuer=issuer
    )


def _first_docs(links: list[Link] | tuple[Link, ...]) -> str | None:
    return next((link.url for link in links if link.kind == "docs"), None)
