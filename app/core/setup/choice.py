"""What the person chose, turned into an account's server settings: one rule for every face.

A provider preset (curated, or from Thunderbird's database), an autodetection candidate
or settings typed by hand become the host, port, TLS mode and login name; the provider
says whether it signs in with OAuth2, and whether only that way; the person's choice and
the keyring say where the password is kept; and one plain-words line says where the
settings came from. The CLI fills an ``Account`` from a ``ServerChoice``, the windows fill
their fields from it: none of them holds these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.accounts.model import DEFAULT_PORTS, PasswordMode, Security
from app.core.errors import UsageError
from app.core.setup.detection import LABELS, Candidate, preset_candidates
from app.core.setup.presets import Link, Preset
from app.core.setup.providers import catalogue, find_preset, preset_for_address

TYPED_SOURCE = "Settings: entered by you."


class SignIn(StrEnum):
    """Whether the provider signs in on its own page (OAuth2) instead of taking a password."""

    NONE = "none"  # passwords only, or Relaydesk knows no sign-in endpoints for it
    OFFERED = "offered"  # sign-in or an (app) password: Gmail, Microsoft 365, Yahoo
    REQUIRED = "required"  # no password is accepted at all: Outlook.com


def sign_in_for(preset: Preset | None) -> SignIn:
    """How ``preset``'s provider lets a mail program sign in."""
    if preset is None or preset.is_custom or preset.oauth2 is None:
        return SignIn.NONE
    return SignIn.REQUIRED if preset.auth == "oauth2" else SignIn.OFFERED


@dataclass(frozen=True)
class Typed:
    """Server settings the person gave explicitly (CLI options); None: not given."""

    host: str | None = None
    port: int | None = None
    security: Security | None = None
    username: str | None = None

    @property
    def server(self) -> bool:
        return bool(self.host or self.port or self.security)


@dataclass(frozen=True)
class ServerChoice:
    """An account's server settings and where they came from, ready to fill in."""

    host: str
    port: int
    security: Security
    username: str | None  # None: no login, or one the person must type (username_needed)
    source: str  # "Settings: Gmail (known provider, built into Relaydesk)."
    preset: Preset | None = None  # the provider the settings belong to, if known
    sign_in: SignIn = SignIn.NONE
    username_needed: bool = False  # the provider needs a login Relaydesk cannot guess
    note: str = ""  # the provider's advice (app passwords, switching access on)
    links: tuple[Link, ...] = ()  # its pages, most useful first
    guessed: bool = False  # a server that answered a probe: to be checked by the person

    def username_problem(self, hint: str) -> UsageError:
        """The one clear error when the login name is missing; ``hint`` says where to type it."""
        name = self.preset.name if self.preset is not None else "This server"
        notes = self.preset.notes if self.preset is not None else ""
        return UsageError(
            f"{name} needs a username that Relaydesk cannot guess.",
            hint=f"{hint} {notes}".strip(),
        )

    def uses_sign_in(self, asked: bool | None) -> bool:
        """Sign in with OAuth2? ``asked``: True/False when the person chose, None otherwise."""
        if asked is not None:
            return asked
        return self.sign_in is SignIn.REQUIRED


def from_preset(preset: Preset, email: str) -> ServerChoice:
    """The published settings of ``preset`` for ``email`` (custom: none, entered by hand)."""
    found = catalogue().get(preset.id)
    if found is not None and found.origin == "ispdb" and preset.host is not None:
        # Said, and filled in, the way the lookup that finds it in the database does.
        return from_candidate(preset_candidates(preset, email, "ispdb", preset.notes)[0], email)
    username = preset.username_for(email)
    return ServerChoice(
        host=preset.host_for(email) or "",
        port=preset.port,
        security=preset.security,
        username=username,
        source=TYPED_SOURCE
        if preset.is_custom
        else f"Settings: {preset.name_for(email)} (known provider, built into Relaydesk).",
        preset=None if preset.is_custom else preset,
        sign_in=sign_in_for(preset),
        username_needed=username is None and not preset.is_custom,
        note=preset.notes,
        links=preset.guidance(),
    )


def from_candidate(candidate: Candidate, email: str) -> ServerChoice:
    """The settings an autodetection answer found for ``email``, and where it found them."""
    found = catalogue().get(candidate.preset) if candidate.preset else None
    preset = found.preset if found is not None else None
    who = f"{candidate.provider} — " if candidate.provider else ""
    label = LABELS.get(candidate.source, candidate.source)
    # A lookup that names no login (autoconfig, DNS, a probe, a database entry without
    # one) means the address: what nearly every provider uses, and the test will tell.
    username = candidate.username or email
    return ServerChoice(
        host=candidate.host,
        port=candidate.port,
        security=candidate.security,
        username=username,
        source=f"Settings: {who}{candidate.host}:{candidate.port} ({label}).",
        preset=preset,
        sign_in=sign_in_for(preset),
        note=candidate.note,
        links=candidate.links,
        guessed=candidate.source == "probe",
    )


def provider_for(
    email: str, preset_id: str | None, *, server_given: bool, hint: str
) -> Preset | None:
    """The provider whose settings to start from: the one named, else the address's (when
    no server was given); UsageError with ``hint`` when nothing is known for the domain."""
    if preset_id:
        return find_preset(preset_id)
    if server_given:
        return None
    preset = preset_for_address(email)
    if preset is None:
        raise UsageError(f"Relaydesk has no preset for the domain of {email}.", hint=hint)
    return preset


def with_typed(email: str, preset: Preset | None, typed: Typed) -> ServerChoice:
    """The provider's settings with what the person typed laid over them.

    A typed security mode without a port takes that mode's standard port, not the
    provider's port for its own mode.
    """
    base = from_preset(preset, email) if preset is not None and preset.host else None
    security = typed.security or (base.security if base else Security.STARTTLS)
    if typed.port:
        port = typed.port
    elif base is not None and not typed.security:
        port = base.port
    else:
        port = DEFAULT_PORTS[security]
    given = typed.username is not None
    source = TYPED_SOURCE
    if base is not None and preset is not None:
        changed = f"Settings: {preset.name_for(email)}, changed by you."
        source = changed if typed.server else base.source
    return ServerChoice(
        host=typed.host or (base.host if base else ""),
        port=port,
        security=security,
        username=typed.username if given else (base.username if base else None),
        source=source,
        preset=preset,
        sign_in=sign_in_for(preset),
        username_needed=not given and base is not None and base.username_needed,
        note=base.note if base else "",
        links=base.links if base else (),
    )


def login(
    *,
    username: str | None,
    email: str,
    sign_in: bool,
    store_wanted: bool,
    keyring_usable: bool,
) -> tuple[str | None, PasswordMode]:
    """The login name and where the password comes from.

    Signing in logs in as the address unless another name is given; no login name means no
    login at all (a local relay); a password is kept in the keyring when the person wants
    that and a keyring can keep it, and asked for each time otherwise.
    """
    if sign_in:
        return username or email, PasswordMode.OAUTH2
    if not username:
        return None, PasswordMode.NONE
    if store_wanted and keyring_usable:
        return username, PasswordMode.KEYRING
    return username, PasswordMode.ASK
