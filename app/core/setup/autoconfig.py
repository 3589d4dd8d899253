"""A domain's own autoconfig document (Thunderbird clientConfig 1.1): its SMTP servers.

Only the ``outgoingServer type="smtp"`` entries are read. The XML is parsed
with defusedxml (no entities, no external references), and at most
``MAX_BYTES`` of it.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode
from xml.etree.ElementTree import Element

from app import __version__
from app.core.accounts.model import Security
from app.core.setup.ispdb import email_provider

Fetcher = Callable[[str, float], bytes | None]
"""GET a URL within timeout seconds: the body of a 200 answer, or None."""

MAX_BYTES = 256 * 1024
_SOCKET_TYPES = {"SSL": Security.TLS, "STARTTLS": Security.STARTTLS, "plain": Security.NONE}


@dataclass(frozen=True)
class SmtpEntry:
    """One ``outgoingServer`` of a clientConfig document, placeholders expanded."""

    host: str
    port: int
    security: Security
    username: str | None
    authentication: tuple[str, ...]


def fetch_url(url: str, timeout: float) -> bytes | None:
    """The real network: the body of a 200 answer (at most MAX_BYTES), or None."""
    request = urllib.request.Request(url, headers={"User-Agent": f"Relaydesk/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            if answer.status != 200:
                return None
            body: bytes = answer.read(MAX_BYTES + 1)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return None
    return body if len(body) <= MAX_BYTES else None


def autoconfig_urls(email: str, domain: str) -> list[str]:
    """Where a domain publishes its own autoconfig document, in the order they are asked."""
    query = urlencode({"emailaddress": email})
    return [
        f"https://autoconfig.{domain}/mail/config-v1.1.xml?{query}",
        f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
        f"http://autoconfig.{domain}/mail/config-v1.1.xml?{query}",
    ]


def parse_client_config(document: bytes, email: str) -> list[SmtpEntry]:
    """The SMTP servers of a clientConfig document; ValueError if it is not one."""
    _, provider = email_provider(document)
    entries = []
    for server in provider.findall("outgoingServer"):
        if server.get("type") != "smtp":
            continue
        entry = _entry(server, email)
        if entry is not None:
            entries.append(entry)
    # Encrypted entries first; the document's own order otherwise.
    return sorted(entries, key=lambda e: e.security is Security.NONE)


def _entry(server: Element, email: str) -> SmtpEntry | None:
    host = expand(_text(server, "hostname"), email)
    port = _text(server, "port")
    security = _SOCKET_TYPES.get(_text(server, "socketType"))
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or security is None:
        return None
    username = expand(_text(server, "username"), email) or None
    methods = tuple((element.text or "").strip() for element in server.findall("authentication"))
    return SmtpEntry(host.lower(), int(port), security, username, methods)


def expand(template: str, email: str) -> str:
    """Replace %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN%."""
    local, _, domain = email.rpartition("@")
    return (
        template.replace("%EMAILADDRESS%", email)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )


def _text(parent: Element, tag: str) -> str:
    element = parent.find(tag)
    return (element.text or "").strip() if element is not None else ""
