"""Errors the session raises on its own rules, before anything secret or large is sent."""

from __future__ import annotations

import ipaddress
from typing import Any

from app.core.accounts.model import Account, Security
from app.core.errors import (
    AuthFailed,
    AuthNotOffered,
    Cancelled,
    CertificateUntrusted,
    InvalidAddress,
    MessageTooLarge,
    PasswordMissing,
    PlaintextAuthRefused,
    SmtpUtf8Unsupported,
    StartTlsMissing,
)
from app.core.sizes import megabytes
from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step


def starttls_missing(account: Account) -> StartTlsMissing:
    return StartTlsMissing(
        f"{account.host} does not offer STARTTLS, so the connection cannot be encrypted. "
        "No password was sent. Someone may be intercepting the connection and hiding STARTTLS.",
        hint="Try port 465 with security TLS. Only if this is a trusted local relay, use "
        "security none.",
        details={"step": Step.EHLO.value},
    )


def plaintext_auth_refused(account: Account, *, starttls_offered: bool) -> PlaintextAuthRefused:
    if starttls_offered:
        hint = "The server offers STARTTLS: use security STARTTLS so the password is encrypted."
    else:
        hint = (
            "Use an encrypted connection (STARTTLS on 587 or TLS on 465), or explicitly allow "
            "sending the password without encryption for this account."
        )
    return PlaintextAuthRefused(
        f"The connection to {account.host} is not encrypted, so the password was not sent.",
        hint=hint,
        details={"step": Step.AUTH.value},
    )


def auth_not_offered(
    account: Account, mechanisms: tuple[str, ...], *, encrypted: bool
) -> AuthNotOffered:
    if mechanisms:
        message = (
            f"{account.host} offers no password login Relaydesk can use "
            f"(it offers {', '.join(mechanisms)})."
        )
    else:
        message = f"{account.host} does not offer a login on this connection."
    if encrypted:
        hint = (
            "Check with the provider which login it supports, or remove the username "
            "for a relay that needs none."
        )
    else:
        hint = "Servers often offer login only after encryption: use security STARTTLS or TLS."
    return AuthNotOffered(message, hint=hint, details={"step": Step.AUTH.value})


def password_missing(account: Account) -> PasswordMissing:
    return PasswordMissing(
        f"No password was given for {account.username} on {account.host}.",
        hint="Store the password in the keyring, or enter it when asked.",
    )


def smtputf8_unsupported(account: Account) -> SmtpUtf8Unsupported:
    return SmtpUtf8Unsupported(
        f"{account.host} cannot take addresses with non-ASCII characters (no SMTPUTF8).",
        hint="Use an ASCII form of the address if the recipient has one, or another account.",
        details={"step": Step.MAIL.value},
    )


def message_too_large(account: Account, size: int, limit: int) -> MessageTooLarge:
    return MessageTooLarge(
        f"The message is {megabytes(size)} but {account.host} takes at most {megabytes(limit)}.",
        hint="Send smaller attachments, or share large files as a link.",
        details={"step": Step.MAIL.value, "size": size, "limit": limit},
    )


def pin_mismatch(account: Account, actual: str) -> CertificateUntrusted:
    expected = normalized_pin(account.pin_sha256 or "")
    return CertificateUntrusted(
        f"The certificate of {account.host} does not match the pinned fingerprint: "
        f"expected SHA-256 {expected}, got {actual}.",
        hint="If the server's certificate was renewed, pin the new fingerprint. If you did not "
        "expect a change, stop: the connection may be intercepted.",
        details={"step": Step.TLS.value, "expected_sha256": expected, "actual_sha256": actual},
    )


def bad_address(address: str) -> InvalidAddress:
    return InvalidAddress(
        f"{address!r} cannot be used as an envelope address.",
        hint="An envelope address is one line without <, > or spaces.",
    )


def needs_smtputf8(address: str) -> InvalidAddress:
    return InvalidAddress(
        f"{address} has non-ASCII characters, which needs SMTPUTF8.",
        hint="Send with SMTPUTF8 (the message builder decides this from the addresses).",
    )


def cancelled(step: Step) -> Cancelled:
    return Cancelled(
        "Sending was cancelled; the message was not sent.",
        hint="It can be sent again later.",
        details={"step": step.value},
    )


def normalized_pin(pin: str) -> str:
    """A pin as lower-case hex without colons or spaces."""
    return pin.replace(":", "").replace(" ", "").lower()


def _is_loopback(host: str) -> bool:
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def plaintext_auth_warning(account: Account) -> str | None:
    """What to tell the person when the password may cross the network unencrypted."""
    if not account.allow_plaintext_auth or not account.uses_auth:
        return None
    if account.security is not Security.NONE or _is_loopback(account.host):
        return None
    return (
        f"Warning: “{account.name}” may send its password to {account.host} WITHOUT "
        "encryption; anyone on the network path can read it. Relaydesk still uses STARTTLS "
        "whenever the server offers it. Prefer --security starttls or tls."
    )


def bearer_not_offered(account: Account, mechanisms: tuple[str, ...]) -> AuthNotOffered:
    """The server offers no OAuth2 login (XOAUTH2/OAUTHBEARER) for a signed-in account."""
    offered = f" (it offers {', '.join(mechanisms)})" if mechanisms else ""
    return AuthNotOffered(
        f"{account.host} does not offer OAuth2 sign-in (XOAUTH2 or OAUTHBEARER){offered}.",
        hint="Check the server name and port for this provider, or log in with a password "
        f"instead: relaydesk account edit {account.name} --password-stdin",
        details={"step": Step.AUTH.value, "offered": list(mechanisms)},
    )


def token_rejected(account: Account, reply: Reply, challenge: dict[str, Any]) -> AuthFailed:
    """The SMTP server refused a freshly renewed OAuth2 token."""
    status = challenge.get("status")
    return AuthFailed(
        f"{account.host} refused the sign-in token for {account.username} ({reply}).",
        hint=f"Sign in again: relaydesk account login {account.name}. If that does not help, "
        "the mailbox may not be allowed to send with SMTP AUTH (Microsoft 365: turn on "
        "Authenticated SMTP for it), or the sign-in lacks the mail scope.",
        reply=reply,
        details={"step": Step.AUTH.value, **({"token_status": str(status)} if status else {})},
    )
