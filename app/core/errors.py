"""One exception hierarchy for everything a user can be told.

Every error carries a user-facing ``message``, a ``hint`` that says what to do,
a machine-readable ``code`` and the sysexits ``exit_code`` the CLI ends with; a
diagnosis may add the one ``fix`` it offers (``app.core.setup.fixes``).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from app.core.setup.fixes import Fix
    from app.core.smtp.reply import Reply


class ExitCode(IntEnum):
    """Exit codes from sysexits.h, as promised in the CLI contract."""

    OK = 0
    USAGE = 64
    DATAERR = 65
    NOUSER = 67
    SOFTWARE = 70
    UNAVAILABLE = 69
    IOERR = 74
    TEMPFAIL = 75
    PROTOCOL = 76
    NOPERM = 77
    CONFIG = 78


class RelayError(Exception):
    """Base of every error Relaydesk reports to a person or a script."""

    exit_code: ClassVar[ExitCode] = ExitCode.TEMPFAIL
    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        reply: Reply | None = None,
        details: dict[str, Any] | None = None,
        fix: Fix | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.reply = reply
        self.details: dict[str, Any] = dict(details or {})
        self.fix: Fix | None = fix  # the one change a diagnosis offers, if any

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of the CLI's ``--json`` output."""
        data: dict[str, Any] = {
            "code": self.code,
            "exit_code": int(self.exit_code),
            "message": self.message,
            "hint": self.hint,
        }
        if self.reply is not None:
            data["reply"] = str(self.reply)
        details = dict(self.details)
        if self.fix is not None:
            details["fix"] = self.fix.to_json()  # where scripts have always found it
        if details:
            data["details"] = details
        return data

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


# 64 -----------------------------------------------------------------------
class UsageError(RelayError):
    exit_code = ExitCode.USAGE
    code = "usage"


# 65 -----------------------------------------------------------------------
class InvalidInput(RelayError):
    exit_code = ExitCode.DATAERR
    code = "invalid_input"


class InvalidAddress(InvalidInput):
    code = "invalid_address"


class HeaderInjection(InvalidInput):
    code = "invalid_header"


class MessageTooLarge(InvalidInput):
    code = "message_too_large"


class UnreadableFile(InvalidInput):
    code = "unreadable_file"


class SmtpUtf8Unsupported(InvalidInput):
    code = "smtputf8_unsupported"


# 67 -----------------------------------------------------------------------
class RecipientRefused(RelayError):
    exit_code = ExitCode.NOUSER
    code = "recipient_refused"


# 69 -----------------------------------------------------------------------
class ServerUnreachable(RelayError):
    exit_code = ExitCode.UNAVAILABLE
    code = "unreachable"


class ConnectionRefused(ServerUnreachable):
    code = "connection_refused"


class HostNotFound(ServerUnreachable):
    code = "host_not_found"


class ConnectTimeout(ServerUnreachable):
    code = "connect_timeout"


# 70 -----------------------------------------------------------------------
class InternalError(RelayError):
    """A bug: an exception nothing expected. The guard reports it with a report file."""

    exit_code = ExitCode.SOFTWARE
    code = "internal_error"


# 75 -----------------------------------------------------------------------
class TemporaryFailure(RelayError):
    exit_code = ExitCode.TEMPFAIL
    code = "temporary_failure"


class ConnectionLost(TemporaryFailure):
    code = "connection_lost"


class PossiblySent(TemporaryFailure):
    """The connection died after the final dot: the server may have the message."""

    code = "possibly_sent"


class QuotaExceeded(TemporaryFailure):
    code = "quota_exceeded"


class StorageError(TemporaryFailure):
    """The data directory cannot be written (disk full, read-only).

    Exit 74, not 75: 75 promises the message is kept in the outbox, which a
    failed write cannot promise.
    """

    exit_code = ExitCode.IOERR
    code = "storage_error"


class Cancelled(TemporaryFailure):
    code = "cancelled"


# 76 -----------------------------------------------------------------------
class ProtocolError(RelayError):
    exit_code = ExitCode.PROTOCOL
    code = "protocol_error"


class PermanentFailure(ProtocolError):
    """A 5xx reply that is not about a recipient or the credentials."""

    code = "permanent_failure"


class TlsError(ProtocolError):
    code = "tls_failed"


class CertificateUntrusted(TlsError):
    code = "certificate_untrusted"


class StartTlsMissing(TlsError):
    code = "starttls_missing"


class TlsModeMismatch(TlsError):
    code = "tls_mode_mismatch"


class AuthNotOffered(ProtocolError):
    code = "auth_not_offered"


class PlaintextAuthRefused(ProtocolError):
    code = "plaintext_auth_refused"


class TrustDeclined(ProtocolError):
    """The person did not confirm a certificate: it stays untrusted."""

    code = "trust_declined"


# 77 -----------------------------------------------------------------------
class AuthFailed(RelayError):
    exit_code = ExitCode.NOPERM
    code = "auth_failed"


class SignInRequired(AuthFailed):
    """The OAuth2 sign-in is gone (revoked, expired, never done): the user must sign in again.

    Queued messages wait in the outbox (see ``outbox.state_after_error``).
    """

    code = "signin_required"


class SignInFailed(AuthFailed):
    """The provider refused the OAuth2 sign-in itself (declined, wrong client, scope)."""

    code = "signin_failed"


class SenderRefused(RelayError):
    """MAIL FROM refused: this login may not send as that address."""

    exit_code = ExitCode.NOPERM
    code = "sender_refused"


class PolicyViolation(RelayError):
    """The caller's policy forbids this call; nothing was queued."""

    exit_code = ExitCode.NOPERM
    code = "policy_violation"


class CallerQuotaExceeded(PolicyViolation):
    """The caller's policy quota is used up; nothing was queued (unlike QuotaExceeded)."""

    code = "quota_exceeded"


class AccountNotAllowed(PolicyViolation):
    code = "account_not_allowed"


class RecipientNotAllowed(PolicyViolation):
    code = "recipient_not_allowed"


class AttachmentNotAllowed(PolicyViolation):
    code = "attachment_not_allowed"


class AttachmentTooLarge(PolicyViolation):
    code = "attachment_too_large"


# 78 -----------------------------------------------------------------------
class ConfigError(RelayError):
    exit_code = ExitCode.CONFIG
    code = "config_error"


class NoSuchAccount(ConfigError):
    code = "no_such_account"


class AccountExists(ConfigError):
    code = "account_exists"


class KeyringUnavailable(ConfigError):
    code = "keyring_unavailable"


class PasswordMissing(ConfigError):
    code = "password_missing"


class DataUnwritable(ConfigError):
    """The data folder or database is read-only or not ours to write."""

    code = "data_unwritable"


class DatabaseCorrupt(ConfigError):
    """The database file is damaged or is not a Relaydesk database."""

    code = "database_corrupt"


class ClientIdMissing(ConfigError):
    """No OAuth2 client ID is configured for the provider (see docs/oauth2.md)."""

    code = "oauth2_client_id_missing"
