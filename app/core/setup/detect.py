"""Find the SMTP settings for an address, the way Thunderbird does, then guess and probe.

Order, first answer wins:
1. the curated presets and the bundled ISPDB, by the address's domain (no network);
2. the domain's own autoconfig document, DNS SRV records (RFC 8314 ``_submissions``,
   RFC 6186 ``_submission``) and its MX hosts — asked at the same time, since none
   depends on another; an MX host's domain is looked up in the presets and the ISPDB
   (registrable domain from the Public Suffix List) — see ``detect_network``;
3. Thunderbird's online ISPDB, only when the setting allows it (it learns the domain);
4. guessing smtp./mail./the domain and probing them in parallel.

Every network step is bounded by ``timeout`` and stops early once ``cancel`` is set.
The resolver, the HTTP fetcher and the prober are parameters, so tests run offline.
"""

from __future__ import annotations

import threading

from app.core.setup import autoconfig
from app.core.setup.autofix import STANDARD
from app.core.setup.detect_network import from_network, from_online
from app.core.setup.detection import (
    LABELS,
    Candidate,
    Detection,
    check_cancel,
    preset_candidates,
    split_address,
)
from app.core.setup.dns_lookup import DnsResolver, Resolver
from app.core.setup.probe import Prober, Target
from app.core.setup.providers import catalogue

__all__ = ["LABELS", "Candidate", "Detection", "DnsResolver", "Resolver", "detect"]

GUESSED_HOSTS = ("smtp.{domain}", "mail.{domain}", "{domain}")


def detect(
    address: str,
    *,
    resolver: Resolver | None = None,
    fetcher: autoconfig.Fetcher = autoconfig.fetch_url,
    prober: Prober | None = None,
    timeout: float = 5.0,
    online: bool = False,
    cancel: threading.Event | None = None,
) -> Detection:
    """Find where and how ``address`` submits mail; Cancelled once ``cancel`` is set."""
    email, domain = split_address(address)
    stop = cancel or threading.Event()
    trail: list[str] = []
    candidates = _from_catalogue(email, domain, trail)
    if not candidates:
        candidates, mx_hosts = from_network(
            email, domain, resolver or DnsResolver(), fetcher, timeout, stop, trail
        )
        if not candidates and online:
            candidates = from_online(email, domain, mx_hosts, fetcher, timeout, stop, trail)
        elif not candidates:
            trail.append("online: not asked (turned off in the settings)")
        if not candidates:
            check_cancel(stop)
            candidates = _from_probe(email, domain, prober or Prober(timeout=timeout), trail)
    return Detection(email, domain, tuple(candidates), tuple(trail))


def _from_catalogue(email: str, domain: str, trail: list[str]) -> list[Candidate]:
    found = catalogue().for_domain(domain)
    if found is None or found.preset.host is None:
        trail.append("preset: no known provider for this domain")
        return []
    source = "ispdb" if found.origin == "ispdb" else "preset"
    trail.append(f"{source}: {found.preset.name}")
    return preset_candidates(found.preset, email, source, found.preset.notes)


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
