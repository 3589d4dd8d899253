"""What autodetection answers: candidates best first, each naming its source and pages.

Plain values, shared by the lookup steps (``detect``, ``detect_network``) and the faces.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from app.core.accounts.model import Security
from app.core.errors import Cancelled, InvalidAddress
from app.core.setup.presets import Link, Preset

LABELS = {
    "preset": "known provider",
    "ispdb": "found in Thunderbird's provider database",
    "autoconfig": "found via autoconfig",
    "srv": "found via DNS SRV records",
    "mx": "found via MX",
    "online": "found via Thunderbird's online database",
    "probe": "guessed",
}


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


def check_cancel(stop: threading.Event) -> None:
    """Cancelled once the caller has set ``stop``."""
    if stop.is_set():
        raise Cancelled("The lookup was cancelled.", hint="Start it again, or type the server.")


def preset_candidates(preset: Preset, email: str, source: str, note: str) -> list[Candidate]:
    """One candidate per port and mode the provider offers, preferred first."""
    host = preset.host_for(email)
    assert host is not None
    username = preset.username_for(email)
    return [
        Candidate(
            host,
            option.port,
            option.security,
            username,
            source,
            preset.id,
            preset.name_for(email),
            note=note,
            links=preset.guidance(),
        )
        for option in preset.options
    ]
