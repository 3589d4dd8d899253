"""What an account trusts beyond the system's authorities, shown and removed on request.

An account may trust one exact certificate (a SHA-256 pin, given with consent) or a
company CA (a PEM file). People review that later: what is trusted, until when, and
remove it — an audited change, like every other change to an account.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts.model import Account
from app.core.errors import UnreadableFile
from app.core.setup.certificate import CertificateInfo, parse_certificate
from app.core.store import Store

_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"


@dataclass(frozen=True)
class Trusted:
    """The extra trust of one account: a pin, a CA file (its certificates), or nothing."""

    pin_sha256: str | None
    ca_file: str | None
    ca_certificates: tuple[CertificateInfo, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.pin_sha256 or self.ca_file)


def grouped_fingerprint(sha256: str, per_line: int = 8) -> str:
    """``AB:CD:…`` in lines of ``per_line`` pairs: the form `openssl x509 -fingerprint`
    prints, broken so that no window cuts it off."""
    digits = "".join(c for c in sha256 if c.isalnum()).upper()
    pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
    lines = [":".join(pairs[i : i + per_line]) for i in range(0, len(pairs), per_line)]
    return "\n".join(lines)


def read_ca_file(path: str) -> tuple[CertificateInfo, ...]:
    """The certificates in a PEM file; UnreadableFile when it cannot be read or parsed."""
    try:
        text = Path(path).expanduser().read_text(encoding="ascii", errors="replace")
    except OSError as error:
        raise UnreadableFile(
            f"The CA file {path} cannot be read: {error.strerror or error}.",
            hint="Choose the file again in the account's settings, or remove it.",
        ) from error
    found: list[CertificateInfo] = []
    for chunk in text.split(_BEGIN)[1:]:
        body = chunk.split(_END)[0]
        try:
            found.append(parse_certificate(ssl.PEM_cert_to_DER_cert(f"{_BEGIN}{body}{_END}\n")))
        except ValueError:
            continue  # a damaged block: the others may still be shown
    if not found:
        raise UnreadableFile(
            f"The CA file {path} holds no certificate Relaydesk can read.",
            hint="It should be a PEM file (text starting with -----BEGIN CERTIFICATE-----).",
        )
    return tuple(found)


def trusted_for(account: Account) -> Trusted:
    """What ``account`` trusts besides the system store (CA file read when it can be)."""
    certificates: tuple[CertificateInfo, ...] = ()
    if account.ca_file:
        try:
            certificates = read_ca_file(account.ca_file)
        except UnreadableFile:
            certificates = ()  # shown as "cannot be read"; removing it still works
    return Trusted(account.pin_sha256, account.ca_file, certificates)


def remove_trust(store: Store, account: Account, *, face: str) -> Account:
    """Forget the account's pin and CA file; from now on only the system's authorities count."""
    before = trusted_for(account)
    changed = account.with_changes(pin_sha256=None, ca_file=None)
    accounts.update_account(store, changed)
    store.audit(
        face=face,
        action="certificate_remove",
        outcome="ok",
        account=account.name,
        detail={"pin_sha256": before.pin_sha256, "ca_file": before.ca_file},
    )
    return changed
