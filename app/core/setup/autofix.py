"""Second looks after a failed test: probe the other ports and modes, show the certificate.

When the diagnosis says the port and mode do not match, or the port looks
blocked, the alternatives on the same host are probed in parallel (short
timeouts) and the first that works becomes a ``fix`` the wizard can apply in
one click and the CLI prints as a suggestion.
"""

from __future__ import annotations

from app.core.accounts.model import Account, Security
from app.core.errors import (
    AuthNotOffered,
    CertificateUntrusted,
    ConnectionRefused,
    ConnectTimeout,
    PlaintextAuthRefused,
    RelayError,
    StartTlsMissing,
    TlsModeMismatch,
)
from app.core.setup.fixes import ServerFix
from app.core.setup.probe import Prober, ProbeResult, Target
from app.core.setup.trust import certificate_details, fetch_certificate
from app.core.smtp.rules import preset_of

STANDARD = ((465, Security.TLS), (587, Security.STARTTLS), (25, Security.STARTTLS))
_PORT_PROBLEMS = (TlsModeMismatch, ConnectTimeout, ConnectionRefused, StartTlsMissing)
_NEEDS_ENCRYPTION = (AuthNotOffered, PlaintextAuthRefused)


def alternatives(account: Account) -> list[Target]:
    """Ports and modes to try on the account's host, most likely first; never the current one."""
    options: list[tuple[int, Security]] = []
    if account.security is Security.TLS:
        options.append((account.port, Security.STARTTLS))
    else:
        options.append((account.port, Security.TLS))
    preset = preset_of(account)
    if preset is not None and preset.host == account.host:
        options.append((preset.port, preset.security))
        options += [(option.port, option.security) for option in preset.alternatives]
    options += STANDARD
    if account.security is Security.NONE:
        options.append((account.port, Security.STARTTLS))
    seen = {(account.port, account.security)}
    targets = []
    for port, security in options:
        if (port, security) not in seen and security is not Security.NONE:
            seen.add((port, security))
            targets.append(Target(account.host, port, security))
    return targets


def find_fix(account: Account, prober: Prober) -> ServerFix | None:
    """The first alternative that works, preferring a verified certificate."""
    results = prober.probe_all(alternatives(account))
    usable = [r for r in results if r.answered and (r.auth_offered or not account.uses_auth)]
    best: ProbeResult | None = next((r for r in usable if r.verified), None)
    if best is None and usable:
        best = usable[0]
    if best is None:
        return None
    return ServerFix(best.target.port, best.target.security, best.verified, best.auth_offered)


def wants_fix(error: RelayError, account: Account) -> bool:
    """Would probing other ports and modes help with this error?"""
    if isinstance(error, _PORT_PROBLEMS):
        return True
    return isinstance(error, _NEEDS_ENCRYPTION) and account.security is Security.NONE


def improve(error: RelayError, account: Account, prober: Prober | None = None) -> RelayError:
    """Add a tested fix (or the certificate to trust) to ``error``; returns the same error."""
    prober = prober or Prober(timeout=4.0, cafile=account.ca_file, pin_sha256=account.pin_sha256)
    if wants_fix(error, account):
        fix = find_fix(account, prober)
        if fix is not None:
            error.fix = fix
            error.hint = f"{error.hint} Relaydesk checked: {fix.describe()} works.".strip()
    elif isinstance(error, CertificateUntrusted) and "expected_sha256" not in error.details:
        # A pin mismatch fails hard: offering the new certificate would undo the pin.
        try:
            certificate = fetch_certificate(account, timeout=prober.timeout, connect=prober.connect)
        except (RelayError, ValueError):
            return error  # the certificate cannot be shown; the diagnosis stands as it is
        certificate_details(error, certificate)
    return error
