"""Thunderbird's provider database (ISPDB): the sending facts of about 160 providers.

A snapshot ships as ``app/resources/ispdb.json`` (made by ``scripts/import-ispdb``
from the upstream XML files; licence and source note in ``app/resources/ispdb/``).
``parse_provider`` reads one clientConfig document into the same plain form, so
the import script and the online lookup share one reading of the format.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml import ElementTree as SafeTree

from app.core.accounts.model import Security
from app.core.resources import resource
from app.core.setup.presets import Link

ONLINE_URL = "https://autoconfig.thunderbird.net/v1.1/{domain}"
PLACEHOLDERS = ("%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%")
_HOST = re.compile(r"(?:[a-z0-9-]+|%EMAILDOMAIN%)(?:\.(?:[a-z0-9-]+|%EMAILDOMAIN%))*")
SOCKET_TYPES = {"SSL": "tls", "STARTTLS": "starttls", "plain": "none"}
# Scopes a sending app has no use for: asking for them would only widen what a token can do.
_UNNEEDED_SCOPE_WORDS = ("contacts", "calendar", "carddav", "caldav")
_READING_SCOPE_WORDS = ("imap", "pop")


@dataclass(frozen=True)
class Server:
    """One ``outgoingServer type="smtp"``; username still a %EMAIL…% template."""

    host: str
    port: int
    security: Security
    username: str | None
    auth: tuple[str, ...]  # ISPDB words: password-cleartext, OAuth2, none, …


@dataclass(frozen=True)
class OAuth2Facts:
    """The ``<oAuth2>`` block, scopes narrowed to sending."""

    issuer: str | None
    scopes: tuple[str, ...]
    auth_url: str
    token_url: str


@dataclass(frozen=True)
class Provider:
    """One ISPDB provider file."""

    id: str
    name: str
    domains: tuple[str, ...]
    servers: tuple[Server, ...]  # the file's order
    links: tuple[Link, ...] = ()
    oauth2: OAuth2Facts | None = None


# -- reading the upstream XML ------------------------------------------------------


def email_provider(document: bytes) -> tuple[Element, Element]:
    """A clientConfig document's root and its ``emailProvider`` (read with defusedxml);
    ValueError if it is not one. The database import and domain autoconfig share it."""
    try:
        root: Element = SafeTree.fromstring(document)
    except (ParseError, DefusedXmlException) as exc:
        raise ValueError(f"not a clientConfig document: {exc}") from exc
    provider = root.find("emailProvider") if root.tag == "clientConfig" else None
    if provider is None:
        raise ValueError("not a clientConfig document")
    return root, provider


def parse_provider(document: bytes) -> dict[str, Any]:
    """One clientConfig document as plain JSON-ready data; ValueError if it is not one."""
    root, provider = email_provider(document)
    servers = [_server(s) for s in provider.findall("outgoingServer") if s.get("type") == "smtp"]
    return {
        "id": (provider.get("id") or "").strip().lower(),
        "name": _text(provider, "displayName") or _text(provider, "displayShortName"),
        "domains": [d.lower() for d in (_clean(e.text) for e in provider.findall("domain")) if d],
        "smtp": [server for server in servers if server is not None],
        "links": _links(provider),
        "oauth2": _oauth2(root.find(".//oAuth2")),
    }


def _server(element: Element) -> list[Any] | None:
    host, port = _host(_text(element, "hostname")), _text(element, "port")
    security = SOCKET_TYPES.get(_text(element, "socketType"))
    if not _HOST.fullmatch(host) or not port.isdigit() or not 0 < int(port) < 65536:
        return None  # not a server a mail program could reach: skipped, like Thunderbird does
    if security is None:
        return None
    auth = [_clean(a.text) for a in element.findall("authentication") if _clean(a.text)]
    return [host, int(port), security, _text(element, "username") or None, auth]


def _host(name: str) -> str:
    """Lower case, placeholders kept as written: ``mail.%EMAILDOMAIN%``."""
    lowered = name.lower()
    for placeholder in PLACEHOLDERS:
        lowered = lowered.replace(placeholder.lower(), placeholder)
    return lowered


def _links(provider: Element) -> list[list[str]]:
    links = []
    for enable in provider.findall("enable"):
        url = (enable.get("visiturl") or "").strip()
        if url.startswith(("https://", "http://")):
            links.append([url, _english(enable, "instruction"), "enable"])
    for doc in provider.findall("documentation"):
        url = (doc.get("url") or "").strip()
        if url.startswith(("https://", "http://")):
            links.append([url, _english(doc, "descr"), "docs"])
    return links


def _oauth2(element: Element | None) -> dict[str, Any] | None:
    if element is None:
        return None
    auth_url, token_url = _text(element, "authURL"), _text(element, "tokenURL")
    if not auth_url.startswith("https://") or not token_url.startswith("https://"):
        return None
    issuer = _text(element, "issuer")
    return {
        "issuer": issuer or None,
        "scopes": sending_scopes(_text(element, "scope").split()),
        "auth_url": auth_url,
        "token_url": token_url,
    }


def sending_scopes(scopes: list[str]) -> list[str]:
    """The scopes a sender needs: no contacts or calendars, no IMAP/POP unless nothing else."""
    wanted = [s for s in scopes if not any(w in s.lower() for w in _UNNEEDED_SCOPE_WORDS)]
    sending = [s for s in wanted if not any(w in s.lower() for w in _READING_SCOPE_WORDS)]
    # offline_access, openid and profile alone do not grant mail: keep a reading scope then.
    if any(s not in ("offline_access", "openid", "profile") for s in sending):
        return sending
    return wanted


def _english(parent: Element, tag: str) -> str:
    texts = [(e.get("lang"), _clean(e.text)) for e in parent.findall(tag)]
    for lang, text in texts:
        if lang in (None, "en") and text:
            return text
    return next((text for _, text in texts if text), "")


def _text(parent: Element, tag: str) -> str:
    return _clean(parent.findtext(tag))


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# -- the shipped snapshot ----------------------------------------------------------


@functools.cache
def load(path: Path | Traversable | None = None) -> tuple[Provider, ...]:
    """Every provider of the shipped snapshot (or of ``path``); ValueError if it is damaged."""
    source = path if path is not None else resource("ispdb.json")
    data = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f'{source}: expected an object with "version": 1')
    return tuple(provider_from_data(entry) for entry in data["providers"])


def provider_from_data(entry: dict[str, Any]) -> Provider:
    """A ``Provider`` from the plain form ``parse_provider`` gives."""
    oauth2 = entry.get("oauth2")
    return Provider(
        id=entry["id"],
        name=entry["name"] or entry["id"],
        domains=tuple(entry["domains"]),
        servers=tuple(
            Server(host, port, Security(security), username, tuple(auth))
            for host, port, security, username, auth in entry["smtp"]
        ),
        links=tuple(Link(url, text, kind) for url, text, kind in entry.get("links", [])),
        oauth2=OAuth2Facts(
            oauth2["issuer"], tuple(oauth2["scopes"]), oauth2["auth_url"], oauth2["token_url"]
        )
        if oauth2
        else None,
    )


def domain_count(providers: tuple[Provider, ...] | None = None) -> int:
    """How many domains the snapshot names (a few are MX host domains of hosted mail)."""
    return len({d for p in (providers or load()) for d in p.domains})
