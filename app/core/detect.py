"""Find the SMTP settings for an address: presets, MX, autoconfig, then guess and probe.

Each step has a short timeout and the first confident answer wins. The DNS
resolver, the HTTP fetcher and the prober (with its host→address connector)
are parameters, so tests run offline against local servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import dns.exception
import dns.resolver

from app.core import autoconfig
from app.core.accounts import Security
from app.core.autofix import STANDARD
from app.core.errors import InvalidAddress
from app.core.presets import Preset, preset_for_email, preset_for_mx
from app.core.probe import Prober, Target

LABELS = {
    "preset": "known provider",
    "mx": "found via MX",
    "autoconfig": "found via autoconfig",
    "probe": "guessed",
}
GUESSED_HOSTS = ("smtp.{domain}", "mail.{domain}", "{domain}")


class Resolver(Protocol):
    """Answers "which hosts receive mail for this domain?", best first."""

    def mx(self, domain: str, timeout: float) -> list[str]: ...


class DnsResolver:
    """The system's DNS, through dnspython."""

    def mx(self, domain: str, timeout: float) -> list[str]:
        try:
            answer = dns.resolver.resolve(domain, "MX", lifetime=timeout, search=False)
        except dns.exception.DNSException:
            return []
        records = sorted(answer, key=lambda record: record.preference)
        hosts = [record.exchange.to_text(omit_final_dot=True).lower() for record in records]
        return [host for host in hosts if host not in ("", ".")]  # "." is a null MX


@dataclass(frozen=True)
class Candidate:
    """One way to submit mail for the address, and where Relaydesk learned it."""

    host: str
    port: int
    security: Security
    username: str | None
    source: str  # preset | mx | autoconfig | probe
    preset: str | None = None  # preset id, when a known provider
    provider: str = ""  # provider name for people
    verified: bool | None = None  # None: not probed
    auth_offered: bool | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security.value,
            "username": self.username,
            "source": self.source,
            "found": LABELS[self.source],
            "preset": self.preset,
            "provider": self.provider,
            "verified": self.verified,
            "auth_offered": self.auth_offered,
            "note": self.note,
        }


@dataclass(frozen=True)
class Detection:
    """The answer: candidates best first (empty when nothing was found), and how."""

    email: str
    domain: str
    candidates: tuple[Candidate, ...]
    trail: tuple[str, ...] = field(default=())  # what each step tried, for people

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def source(self) -> str | None:
        return self.best.source if self.best else None

    @property
    def label(self) -> str:
        """ "found via MX", "guessed", … for the wizard."""
        return LABELS[self.best.source] if self.best else "not found"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.candidates else "not_found",
            "email": self.email,
            "domain": self.domain,
            "source": self.source,
            "found": self.label,
            "candidates": [candidate.to_dict() for candidate in self.candidates],
            "trail": list(self.trail),
        }


def detect(
    address: str,
    *,
    resolver: Resolver | None = None,
    fetcher: autoconfig.Fetcher = autoconfig.fetch_url,
    prober: Prober | None = None,
    timeout: float = 5.0,
) -> Detection:
    """Find where and how ``address`` submits mail."""
    email = address.strip()
    local, at, domain = email.rpartition("@")
    domain = domain.lower().rstrip(".")
    if not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise InvalidAddress(
            f"“{address}” is not an email address.", hint="Type the whole address, name@domain."
        )
    trail: list[str] = []
    candidates = (
        _from_preset(email, trail)
        or _from_mx(email, domain, resolver or DnsResolver(), timeout, trail)
        or _from_autoconfig(email, domain, fetcher, timeout, trail)
        or _from_probe(email, domain, prober or Prober(timeout=timeout), trail)
    )
    return Detection(email, domain, tuple(candidates), tuple(trail))


def _preset_candidates(preset: Preset, email: str, source: str, note: str) -> list[Candidate]:
    assert preset.host is not None
    options = [(preset.port, preset.security)]
    options += [
        (o.port, o.security)
        for o in preset.alternatives
        if o.port != preset.port or o.security is not preset.security
    ]
    username = preset.username_for(email)
    return [
        Candidate(preset.host, port, security, username, source, preset.id, preset.name, note=note)
        for port, security in options
    ]


def _from_preset(email: str, trail: list[str]) -> list[Candidate]:
    preset = preset_for_email(email)
    if preset is None or preset.host is None:
        trail.append("preset: no provider preset for this domain")
        return []
    trail.append(f"preset: {preset.name}")
    return _preset_candidates(preset, email, "preset", preset.notes)


def _from_mx(
    email: str, domain: str, resolver: Resolver, timeout: float, trail: list[str]
) -> list[Candidate]:
    hosts = resolver.mx(domain, timeout)
    for host in hosts:
        preset = preset_for_mx(host)
        if preset is not None and preset.host is not None:
            trail.append(f"mx: {host} → {preset.name}")
            return _preset_candidates(preset, email, "mx", f"MX {host} belongs to {preset.name}.")
    trail.append(f"mx: {', '.join(hosts)} (no known provider)" if hosts else "mx: no MX records")
    return []


def _from_autoconfig(
    email: str, domain: str, fetcher: autoconfig.Fetcher, timeout: float, trail: list[str]
) -> list[Candidate]:
    url, entries = autoconfig.lookup(email, domain, fetcher, timeout)
    if not entries:
        trail.append("autoconfig: no document with SMTP servers")
        return []
    trail.append(f"autoconfig: {url}")
    note = f"From {url.split('?')[0]}."
    if url.startswith("http://"):
        note += " It came over plain HTTP, so check it before you trust it."
    return [
        Candidate(e.host, e.port, e.security, e.username, "autoconfig", note=note) for e in entries
    ]


def _from_probe(email: str, domain: str, prober: Prober, trail: list[str]) -> list[Candidate]:
    targets = [
        Target(name.format(domain=domain), port, security)
        for name in GUESSED_HOSTS
        for port, security in STANDARD
    ]
    results = sorted((r for r in prober.probe_all(targets) if r.answered), key=lambda r: r.rank)
    trail.append(f"probe: {len(results)} of {len(targets)} guesses answered")
    return [
        Candidate(
            r.target.host,
            r.target.port,
            r.target.security,
            email,
            "probe",
            verified=r.verified,
            auth_offered=r.auth_offered,
            note=r.problem,
        )
        for r in results
    ]
