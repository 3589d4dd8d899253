"""The fixes a diagnosis can offer, as typed values every face shows and applies the same way.

An error carries at most one (``RelayError.fix``): other server settings that
answered when probed, signing in with the provider instead of a password, or
trusting the certificate the server presents. Each knows its plain-words label,
what it changes, the ``details.fix`` object of the ``--json`` output, and how it
changes an account (``apply_to``). How a face gets the person's consent (a
fingerprint typed, a dialog) or runs the sign-in stays with the face.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from app.core.accounts.model import Account, PasswordMode, Security
from app.core.setup.certificate import CertificateInfo

PIN_WARNING = (
    "Trust this certificate only if you know it is your own server's, for example because "
    "your administrator gave you the same fingerprint. Relaydesk will then accept this exact "
    "certificate and no other for this account."
)
MODE_WORDS = {Security.TLS: "TLS", Security.STARTTLS: "STARTTLS", Security.NONE: "no encryption"}
# Who the sign-in page belongs to, by preset: the name on the provider's own button.
_BRANDS = {
    "outlook": "Microsoft",
    "microsoft365": "Microsoft",
    "gmail": "Google",
    "google-workspace": "Google",
    "yahoo": "Yahoo",
    "aol": "AOL",
}


@dataclass(frozen=True)
class ServerFix:
    """Another port and security mode on the same host, which answered when probed."""

    port: int
    security: Security
    verified: bool  # its certificate is trusted for the host
    auth_offered: bool
    needs_consent: ClassVar[bool] = False

    @property
    def label(self) -> str:
        return f"Use port {self.port} with {MODE_WORDS[self.security]}"

    def describe(self) -> str:
        """``port 465 with security TLS`` and what the probe proved."""
        trust = "its certificate is verified" if self.verified else "its certificate is not trusted"
        mode = "none" if self.security is Security.NONE else MODE_WORDS[self.security]
        return f"port {self.port} with security {mode} ({trust})"

    def apply_to(self, account: Account) -> Account:
        return account.with_changes(port=self.port, security=self.security)

    def to_json(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "security": self.security.value,
            "verified": self.verified,
            "auth_offered": self.auth_offered,
        }


@dataclass(frozen=True)
class SignInFix:
    """The provider refuses passwords here: sign in on its own page (OAuth2) instead."""

    preset: str | None
    needs_consent: ClassVar[bool] = False

    @property
    def provider(self) -> str:
        """``Microsoft``, ``Google``, …: whose sign-in page opens."""
        return _BRANDS.get(self.preset or "", "the provider")

    @property
    def label(self) -> str:
        return f"Sign in with {self.provider} instead"

    def describe(self) -> str:
        return f"sign in with {self.provider} instead of a password"

    def apply_to(self, account: Account) -> Account:
        """The account signing in (the face then runs the sign-in itself)."""
        return account.with_changes(password_mode=PasswordMode.OAUTH2)

    def to_json(self) -> dict[str, Any]:
        return {"signin": "oauth2", "preset": self.preset}


@dataclass(frozen=True)
class TrustFix:
    """Trust (pin) exactly the certificate the server presents — only with the person's consent."""

    certificate: CertificateInfo
    warning: str = PIN_WARNING
    needs_consent: ClassVar[bool] = True  # a fingerprint compared, or a dialog confirmed

    @property
    def pin_sha256(self) -> str:
        return self.certificate.sha256

    @property
    def label(self) -> str:
        return "Review and trust this certificate"

    def describe(self) -> str:
        return f"trust the certificate with SHA-256 {self.certificate.fingerprint}"

    def apply_to(self, account: Account) -> Account:
        return account.with_changes(pin_sha256=self.pin_sha256)

    def to_json(self) -> dict[str, Any]:
        return {"pin_sha256": self.pin_sha256, "warning": self.warning}


Fix = ServerFix | SignInFix | TrustFix
