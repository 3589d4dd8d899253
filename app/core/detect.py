"""Find the SMTP settings for an address, the way Thunderbird does, then guess and probe.

Order, first answer wins:
1. the curated presets and the bundled ISPDB, by the address's domain (no network);
2. the domain's own autoconfig document, DNS SRV records (RFC 8314 ``_submissions``,
   RFC 6186 ``_submission``) and its MX hosts — asked at the same time, since none
   depends on another; an MX host's domain is looked up in the presets and the ISPDB
   (registrable domain from the Public Suffix List);
3. Thunderbird's online ISPDB, only when the setting allows it (it learns the domain);
4. guessing smtp./mail./the domain and probing them in parallel.

Every network step is bounded by ``timeout`` and stops early once ``cancel`` is set.
The resolver, the HTTP fetcher and the prober are parameters, so tests run offline.
"""

from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from app.core import autoconfig, ispdb
from app.core.accounts import Security
from app.core.autofix import STANDARD
from app.core.dns_lookup import DnsResolver, Resolver, SrvRecord, ordered
from app.core.errors import Cancelled, InvalidAddress
from app.core.presets import Link, Preset
from app.core.probe import Prober, Target
from app.core.providers import Found, catalogue, preset_from_ispdb

__all__ = ["Candidate", "Detection", "DnsResolver", "Resolver", "detect"]

LABELS = {
    "preset": "known provider",
    "ispdb": "found in Thunderbird's provider database",
    "autoconfig": "found via autoconfig",
    "srv": "found via DNS SRV records",
    "mx": "found via MX",
    "online": "found via Thunderbird's online database",
    "probe": "guessed",
}
GUESSED_HOSTS = ("smtp.{domain}", "mail.{domain}", "{domain}")
SRV_SERVICES = (("_submissions._tcp", Security.TLS), ("_submission._tcp", Security.STARTTLS))


@dataclass(frozen=True)
class Candidate:
    """One way to submit mail for the address, and where Relaydesk learned it."""

    host: str
    port: int
    security: Security
    username: str | None
    source: str  # a key of LABELS
    preset: str | None = None  # preset id, when a known provider
    provider: str = ""  # provider name for people
    verified: bool | None = None  # None: not probed
    auth_offered: bool | None = None
    note: str = ""
    links: tuple[Link, ...] = ()  # the provider's pages: app password, switching access on, docs

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
            "links": [link_dict(link) for link in self.links],
        }


def link_dict(link: Link) -> dict[str, str]:
    return {"url": link.url, "text": link.text, "kind": link.kind}


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

    @property
    def links(self) -> tuple[Link, ...]:
        """The found provider's pages worth showing, most useful first."""
        return self.best.links if self.best else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.candidates else "not_found",
            "email": self.email,
            "domain": self.domain,
            "source": self.source,
            "found": self.label,
            "links": [link_dict(link) for link in self.links],
            "candidates": [candidate.to_dict() for candidate in self.candidates],
            "trail": list(self.trail),
        }


def split_address(address: str) -> tuple[str, str]:
    """(the trimmed address, its lower-case domain); InvalidAddress if it is not one."""
    email = address.strip()
    local, at, domain = email.rpartition("@")
    domain = domain.lower().rstrip(".")
    if not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise InvalidAddress(
            f"“{address}” is not an email address.", hint="Type the whole address, name@domain."
        )
    return email, domain


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
        candidates, mx_hosts = _from_network(
            email, domain, resolver or DnsResolver(), fetcher, timeout, stop, trail
        )
        if not candidates and online:
            candidates = _from_online(email, domain, mx_hosts, fetcher, timeout, stop, trail)
        elif not candidates:
            trail.append("online: not asked (turned off in the settings)")
        if not candidates:
            _check(stop)
            candidates = _from_probe(email, domain, prober or Prober(timeout=timeout), trail)
    return Detection(email, domain, tuple(candidates), tuple(trail))


def _check(stop: threading.Event) -> None:
    if stop.is_set():
        raise Cancelled("The lookup was cancelled.", hint="Start it again, or type the server.")


# -- 1. no network ---------------------------------------------------------------------


def _from_catalogue(email: str, domain: str, trail: list[str]) -> list[Candidate]:
    found = catalogue().for_domain(domain)
    if found is None or found.preset.host is None:
        trail.append("preset: no known provider for this domain")
        return []
    source = "ispdb" if found.origin == "ispdb" else "preset"
    trail.append(f"{source}: {found.preset.name}")
    return preset_candidates(found.preset, email, source, found.preset.notes)


def preset_candidates(preset: Preset, email: str, source: str, note: str) -> list[Candidate]:
    """One candidate per port and mode the provider offers, preferred first."""
    assert preset.host is not None
    username = preset.username_for(email)
    return [
        Candidate(
            preset.host,
            option.port,
            option.security,
            username,
            source,
            preset.id,
            preset.name,
            note=note,
            links=preset.guidance(),
        )
        for option in preset.options
    ]


# -- 2. the domain's own answers, asked together ----------------------------------------


def _from_network(
    email: str,
    domain: str,
    resolver: Resolver,
    fetcher: autoconfig.Fetcher,
    timeout: float,
    stop: threading.Event,
    trail: list[str],
) -> tuple[list[Candidate], list[str]]:
    """Autoconfig, SRV and MX at once; the first of them (in that order) that knows wins."""
    urls = autoconfig.autoconfig_urls(email, domain)
    pool = ThreadPoolExecutor(len(urls) + 3, thread_name_prefix="relaydesk-detect")
    documents = [pool.submit(fetcher, url, timeout) for url in urls]
    mx = pool.submit(resolver.mx, domain, timeout)
    srv = {name: pool.submit(resolver.srv, f"{name}.{domain}", timeout) for name, _ in SRV_SERVICES}
    pool.shutdown(wait=False)  # a step past its time ends on its own; nobody waits for it
    _wait([*documents, mx, *srv.values()], timeout + 0.5, stop)

    url, entries = _first_document(email, urls, [_answer(f, None) for f in documents])
    mx_hosts: list[str] = _answer(mx, [])
    # All three are read (each leaves a line in the trail); the first that knows wins.
    found = [
        _autoconfig_candidates(url, entries, trail),
        _srv_candidates(email, domain, {n: _answer(f, []) for n, f in srv.items()}, trail),
        _mx_candidates(email, mx_hosts, trail),
    ]
    return next((candidates for candidates in found if candidates), []), mx_hosts


def _answer(future: Future[Any], empty: Any) -> Any:
    """What a finished step found; ``empty`` if it is still running or failed."""
    return future.result() if future.done() and future.exception() is None else empty


def _wait(futures: list[Future[Any]], limit: float, stop: threading.Event) -> None:
    """Until all are done or ``limit`` seconds pass; Cancelled as soon as ``stop`` is set."""
    deadline = time.monotonic() + limit
    pending = set(futures)
    while pending and time.monotonic() < deadline:
        _check(stop)
        pending = wait(pending, timeout=min(0.05, max(0.0, deadline - time.monotonic()))).not_done
    _check(stop)


def _first_document(
    email: str, urls: list[str], bodies: list[bytes | None]
) -> tuple[str, list[autoconfig.SmtpEntry]]:
    """The first location, in the order Thunderbird asks them, with usable SMTP servers."""
    for url, body in zip(urls, bodies, strict=True):
        try:
            entries = autoconfig.parse_client_config(body, email) if body else []
        except ValueError:
            continue  # not a usable document; the next location may be
        if entries:
            return url, entries
    return "", []


def _autoconfig_candidates(
    url: str, entries: list[autoconfig.SmtpEntry], trail: list[str]
) -> list[Candidate]:
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


def _srv_candidates(
    email: str, domain: str, answers: dict[str, list[SrvRecord]], trail: list[str]
) -> list[Candidate]:
    candidates = []
    for service, security in SRV_SERVICES:
        records = answers[service]
        if records and all(record.no_service for record in records):
            trail.append(f"srv: {service} says the domain offers no such service")
        for record in ordered(records):
            note = f"Published by the domain in DNS ({service} → {record.target})."
            if not (record.target == domain or record.target.endswith(f".{domain}")):
                # Plain DNS answers can be forged: a server elsewhere deserves a look.
                note += f" It is outside {domain}: make sure it is your provider's server."
            candidates.append(
                Candidate(record.target, record.port, security, email, "srv", note=note)
            )
    if not candidates:
        trail.append("srv: no submission records")
    else:
        trail.append(f"srv: {candidates[0].host} port {candidates[0].port}")
    return candidates


def _mx_candidates(email: str, hosts: list[str], trail: list[str]) -> list[Candidate]:
    for host in hosts:
        found = catalogue().for_mx(host, registrable_domain(host))
        if found is not None:
            trail.append(f"mx: {host} → {found.preset.name}")
            note = f"MX {host} belongs to {found.preset.name}."
            return preset_candidates(found.preset, email, "mx", f"{note} {_notes(found)}".strip())
    trail.append(f"mx: {', '.join(hosts)} (no known provider)" if hosts else "mx: no MX records")
    return []


def _notes(found: Found) -> str:
    return "" if found.preset.notes.startswith("Settings from") else found.preset.notes


@functools.cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList  # ~0.1 s to load: only when an MX needs it

    return PublicSuffixList()


def registrable_domain(host: str) -> str | None:
    """``mx1.mail.example.co.uk`` → ``example.co.uk`` (Public Suffix List); None if none."""
    name: str | None = _suffix_list().privatesuffix(host.strip().rstrip(".").lower())
    return name


# -- 3. Thunderbird's online ISPDB ------------------------------------------------------


def _from_online(
    email: str,
    domain: str,
    mx_hosts: list[str],
    fetcher: autoconfig.Fetcher,
    timeout: float,
    stop: threading.Event,
    trail: list[str],
) -> list[Candidate]:
    names = [domain] + [d for d in map(registrable_domain, mx_hosts[:1]) if d and d != domain]
    for name in names:
        _check(stop)
        url = ispdb.ONLINE_URL.format(domain=name)
        body = fetcher(url, timeout)
        try:
            entry = ispdb.parse_provider(body or b"")
        except ValueError:
            continue
        if not entry["smtp"]:
            continue
        preset = preset_from_ispdb(ispdb.provider_from_data({**entry, "id": entry["id"] or name}))
        trail.append(f"online: {url}")
        note = f"From Thunderbird's online database ({url})."
        # Not a shipped preset: no id to store with the account.
        return [replace(c, preset=None) for c in preset_candidates(preset, email, "online", note)]
    trail.append("online: Thunderbird's database does not know this domain")
    return []


# -- 4. guess and probe -----------------------------------------------------------------


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
