"""What a person needs to judge a server certificate: names, validity, fingerprint.

Pure: reads the few fields it shows from the DER bytes itself (the standard
library only describes certificates it has already verified).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_SEQUENCE, _SET, _OID, _UTCTIME, _GENTIME = 0x30, 0x31, 0x06, 0x17, 0x18
_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_SUBJECT_ALT_NAME = "2.5.29.17"


@dataclass(frozen=True)
class CertificateInfo:
    """A server certificate as shown before trusting (pinning) it."""

    sha256: str  # lower-case hex of the DER bytes, the form stored as a pin
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """The SHA-256 as people compare it: ``AB:CD:…``."""
        return ":".join(self.sha256[i : i + 2] for i in range(0, 64, 2)).upper()

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) > self.not_after

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "sha256": self.sha256,
            "fingerprint": self.fingerprint,
            "dns_names": list(self.dns_names),
            "self_signed": self.self_signed,
        }

    def describe(self) -> list[str]:
        """Lines for a terminal or a report."""
        lines = [f"Subject:     {self.subject}", f"Issuer:      {self.issuer}"]
        if self.dns_names:
            lines.append(f"Names:       {', '.join(self.dns_names)}")
        lines += [
            f"Valid from:  {self.not_before:%Y-%m-%d %H:%M} UTC",
            f"Valid until: {self.not_after:%Y-%m-%d %H:%M} UTC"
            + ("  (EXPIRED)" if self.expired() else ""),
            f"SHA-256:     {self.fingerprint}",
        ]
        return lines


def parse_certificate(der: bytes) -> CertificateInfo:
    """Read subject, issuer, validity and DNS names; ValueError if ``der`` is not a cert."""
    certificate = _children(_expect(der, 0, _SEQUENCE))
    tbs = _children(certificate[0][1])
    if tbs and tbs[0][0] == 0xA0:  # explicit version
        tbs = tbs[1:]
    if len(tbs) < 6:
        raise ValueError("not an X.509 certificate")
    validity = _children(tbs[3][1])
    extensions = next((value for tag, value in tbs[6:] if tag == 0xA3), None)
    return CertificateInfo(
        sha256=hashlib.sha256(der).hexdigest(),
        issuer=_name(tbs[2][1]),
        not_before=_time(*validity[0]),
        not_after=_time(*validity[1]),
        subject=_name(tbs[4][1]),
        dns_names=_dns_names(extensions) if extensions is not None else (),
    )


def _read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One TLV at ``offset``: (tag, value, offset after it)."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or offset + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, data[offset:end], end


def _expect(data: bytes, offset: int, tag: int) -> bytes:
    got, value, _ = _read(data, offset)
    if got != tag:
        raise ValueError(f"expected DER tag {tag:#x}, got {got:#x}")
    return value


def _children(data: bytes) -> list[tuple[int, bytes]]:
    items, offset = [], 0
    while offset < len(data):
        tag, value, offset = _read(data, offset)
        items.append((tag, value))
    return items


def _oid(value: bytes) -> str:
    if not value:
        raise ValueError("empty OID")
    parts, number = [value[0] // 40, value[0] % 40], 0
    for byte in value[1:]:
        number = (number << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(number)
            number = 0
    return ".".join(map(str, parts))


def _name(value: bytes) -> str:
    """An X.501 Name as ``CN=…, O=…`` (most specific first, as people read it)."""
    parts = []
    for _, rdn in _children(value):
        for _, attribute in _children(rdn):
            (_, oid), (_, text) = _children(attribute)[:2]
            key = _NAMES.get(_oid(oid), _oid(oid))
            parts.append(f"{key}={text.decode('utf-8', 'replace')}")
    return ", ".join(reversed(parts)) or "(empty)"


def _time(tag: int, value: bytes) -> datetime:
    text = value.decode("ascii")
    if tag == _UTCTIME:
        stamp = datetime.strptime(text, "%y%m%d%H%M%SZ")
    elif tag == _GENTIME:
        stamp = datetime.strptime(text, "%Y%m%d%H%M%SZ")
    else:
        raise ValueError("bad certificate time")
    return stamp.replace(tzinfo=UTC)


def _dns_names(explicit: bytes) -> tuple[str, ...]:
    for _, extension in _children(_expect(explicit, 0, _SEQUENCE)):
        fields = _children(extension)
        if _oid(fields[0][1]) == _SUBJECT_ALT_NAME:
            names = _children(_expect(fields[-1][1], 0, _SEQUENCE))
            return tuple(
                value.decode("ascii", "replace") if tag == 0x82 else _ip(value)
                for tag, value in names
                if tag in (0x82, 0x87)
            )
    return ()


def _ip(value: bytes) -> str:
    if len(value) == 4:
        return ".".join(str(b) for b in value)
    return ":".join(value[i : i + 2].hex() for i in range(0, len(value), 2))
