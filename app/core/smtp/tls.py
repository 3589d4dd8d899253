"""TLS for the session: the context, and what the handshake proved."""

from __future__ import annotations

import hashlib
import ssl

from app.core.accounts.model import Account
from app.core.errors import ConfigError
from app.core.smtp import policy
from app.core.smtp.transcript import Transcript


def tls_context(account: Account) -> ssl.SSLContext:
    """The system trust store (plus the account's CA file), or pin-only when pinned."""
    try:
        context = ssl.create_default_context(cafile=account.ca_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"The CA file {account.ca_file} cannot be used: {exc}.",
            hint="Give a PEM file that holds your company's CA certificate.",
        ) from exc
    if account.pin_sha256:
        # The pin replaces chain and name checks; the fingerprint is compared after the handshake.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def check_certificate(
    sock: ssl.SSLSocket, account: Account, transcript: Transcript
) -> tuple[str | None, str | None]:
    """Note the handshake; enforce the pin. Returns (TLS version, SHA-256 of the DER cert)."""
    der = sock.getpeercert(binary_form=True)
    fingerprint = hashlib.sha256(der).hexdigest() if der else None
    version = sock.version()
    words = (version or "TLS").replace("TLSv", "TLS ")
    if not account.pin_sha256:
        transcript.note(f"{words} established, certificate verified for {account.host}")
    elif fingerprint == policy.normalized_pin(account.pin_sha256):
        transcript.note(f"{words} established, certificate matches the pinned SHA-256")
    else:
        transcript.note(f"{words} established, certificate does NOT match the pinned SHA-256")
        raise policy.pin_mismatch(account, fingerprint or "(no certificate)")
    return version, fingerprint
