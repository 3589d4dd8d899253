"""Trusting one server's certificate by pinning its SHA-256 fingerprint, with consent.

Fetching a certificate uses a separate, short, unverified connection that only
looks at the certificate: nothing is logged in and nothing is sent over it.
"""

from __future__ import annotations

import smtplib
import ssl

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.errors import CertificateUntrusted, ConfigError, ProtocolError, RelayError
from app.core.setup.certificate import CertificateInfo, parse_certificate
from app.core.setup.fixes import TrustFix
from app.core.setup.probe import (
    Connector,
    NotSmtp,
    Target,
    direct_connect,
    open_smtp,
    unverified_context,
)
from app.core.smtp.diagnose import classify
from app.core.smtp.policy import normalized_pin
from app.core.smtp.steps import Step
from app.core.store import Store


def fetch_certificate(
    account: Account, *, timeout: float = 5.0, connect: Connector = direct_connect
) -> CertificateInfo:
    """The certificate the account's server presents, not verified (so it can be shown)."""
    if account.security is Security.NONE:
        raise ConfigError(
            f"Account “{account.name}” does not use TLS, so there is no certificate to trust.",
            hint="Use security STARTTLS or TLS first.",
        )
    target = Target(account.host, account.port, account.security)
    try:
        sock = connect(account.host, account.port, timeout)
        sock.settimeout(timeout)
        client, tls_sock = open_smtp(sock, target, unverified_context())
        try:
            der = tls_sock.getpeercert(binary_form=True) if tls_sock is not None else None
        finally:
            client.close()
    except NotSmtp as exc:
        raise ProtocolError(
            f"{account.host}:{account.port} did not let Relaydesk see its certificate: {exc}.",
            hint="Check the port and security setting of the account.",
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        step = Step.TLS if isinstance(exc, ssl.SSLError) else Step.CONNECT
        raise classify(step, exc, account) from exc
    if not der:
        raise ProtocolError(f"{account.host} presented no certificate.", hint="Check the port.")
    return parse_certificate(der)


def check_fingerprint(given: str, certificate: CertificateInfo) -> None:
    """Raise unless ``given`` is exactly the fingerprint the server presents."""
    if normalized_pin(given) != certificate.sha256:
        raise CertificateUntrusted(
            "The server presents a different certificate than the fingerprint you gave: "
            f"expected SHA-256 {normalized_pin(given)}, got {certificate.sha256}.",
            hint="Nothing was pinned. Compare the fingerprint with your administrator's; if "
            "they differ, the connection may be intercepted.",
            details={"expected_sha256": normalized_pin(given), "actual_sha256": certificate.sha256},
        )


def pin_certificate(store: Store, account: Account, certificate: CertificateInfo) -> Account:
    """Trust exactly this certificate for the account (the caller has the user's consent)."""
    pinned = account.with_changes(pin_sha256=certificate.sha256)
    accounts.update_account(store, pinned)
    return pinned


def certificate_details(error: RelayError, certificate: CertificateInfo) -> None:
    """Add the certificate and a "trust it" fix to an untrusted-certificate error."""
    error.details["certificate"] = certificate.to_dict()
    error.fix = TrustFix(certificate)
    error.hint = (
        f"{error.hint} Only if you know this is your own server's certificate (SHA-256 "
        f"{certificate.fingerprint}), trust it for this account."
    ).strip()
