"""The network steps of autodetection: the domain's autoconfig document, DNS SRV records
(RFC 8314 ``_submissions``, RFC 6186 ``_submission``) and MX hosts asked at once, and
Thunderbird's online database. Each is bounded by ``timeout`` and stops on ``stop``.
"""

from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any

from app.core.accounts.model import Security
from app.core.setup import autoconfig, ispdb
from app.core.setup.detection import Candidate, check_cancel, preset_candidates
from app.core.setup.dns_lookup import Resolver, SrvRecord, ordered
from app.core.setup.providers import ISPDB_NOTE, Found, catalogue, preset_from_ispdb

SRV_SERVICES = (("_submissions._tcp", Security.TLS), ("_submission._tcp", Security.STARTTLS))


def from_network(
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
        check_cancel(stop)
        pending = wait(pending, timeout=min(0.05, max(0.0, deadline - time.monotonic()))).not_done
    check_cancel(stop)


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
    return "" if found.preset.notes == ISPDB_NOTE else found.preset.notes


@functools.cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList  # ~0.1 s to load: only when an MX needs it

    return PublicSuffixList()


def registrable_domain(host: str) -> str | None:
    """``mx1.mail.example.co.uk`` → ``example.co.uk`` (Public Suffix List); None if none."""
    name: str | None = _suffix_list().privatesuffix(host.strip().rstrip(".").lower())
    return name


# -- Thunderbird's online ISPDB ---------------------------------------------------------


def from_online(
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
        check_cancel(stop)
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
