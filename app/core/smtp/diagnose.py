"""Turn a failed step (an exception or a server reply) into an error a person understands.

Pure: the words live in ``catalogue``; this module picks the first matching row
and fills in the facts.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

from app.core.accounts.model import Account, PasswordMode
from app.core.errors import RelayError
from app.core.setup.fixes import SignInFix
from app.core.setup.presets import Preset
from app.core.setup.providers import catalogue
from app.core.smtp.catalogue import DOING, EXCEPTION_ROWS, REPLY_ROWS, VERIFY_WORDS
from app.core.smtp.provider_rows import PROVIDER_ROWS
from app.core.smtp.reply import Reply
from app.core.smtp.rules import Row, preset_of
from app.core.smtp.steps import Step

_REPLY_ROWS = PROVIDER_ROWS + REPLY_ROWS


def classify(step: Step, failure: BaseException | Reply, account: Account) -> RelayError:
    """Explain what went wrong at ``step`` and what to do about it."""
    if isinstance(failure, smtplib.SMTPResponseException) and failure.smtp_code > 0:
        failure = Reply.from_smtplib(failure.smtp_code, failure.smtp_error)
    facts = _facts(step, failure, account)
    details: dict[str, Any] = {"step": step.value}
    row: Row
    if isinstance(failure, Reply):
        row = next(r for r in _REPLY_ROWS if r.matches(step, failure, account))
        details.update(code=failure.code, enhanced=failure.enhanced)
        reply: Reply | None = failure
    else:
        row = next(r for r in EXCEPTION_ROWS if r.matches(step, failure, account))
        details["exception"] = type(failure).__name__
        reply = None
    signin = reply is not None and signin_would_help(reply, account)
    return row.error(
        row.message.format_map(facts),
        hint=row.hint.format_map(facts),
        reply=reply,
        details=details,
        fix=SignInFix(account.preset) if signin else None,
    )


# Microsoft's answers once password (basic) SMTP AUTH is off: sign in with OAuth2 instead.
BASIC_AUTH_OFF = ("5.7.139", "5.7.3", "5.7.30")


def signin_would_help(reply: Reply, account: Account) -> bool:
    """A password login refused in a way that OAuth2 sign-in with this provider fixes."""
    preset = preset_of(account)
    return (
        account.password_mode is not PasswordMode.OAUTH2
        and reply.code in (535, 550)
        and (reply.enhanced or "") in BASIC_AUTH_OFF
        and preset is not None
        and preset.oauth2 is not None
    )


def _facts(step: Step, failure: BaseException | Reply, account: Account) -> dict[str, str]:
    preset = preset_of(account)
    facts = {
        "name": account.name,
        "host": account.host,
        "email": account.email,
        "provider": preset.name if preset and not preset.is_custom else account.host,
        "app_password_url": (preset.app_password_url if preset else None)
        or "the provider's account security page",
        "port": str(account.port),
        "username": account.username or "(no username)",
        "doing": DOING[step],
        "reply": "",
        "server_text": "",
        "error": "",
        "verify": "",
        "access": _access_words(account, preset),
    }
    if isinstance(failure, Reply):
        facts.update(reply=str(failure), server_text=failure.text)
    else:
        facts["error"] = _describe(failure)
    if isinstance(failure, ssl.SSLCertVerificationError):
        facts["verify"] = _verify_words(failure, account.host)
    return facts


def _access_words(account: Account, preset: Preset | None) -> str:
    """The provider's own "allow mail programs first" step, where its data names one."""
    if preset is None:  # an account typed by hand: the database may still know its server
        found = catalogue().for_domain(account.email.rpartition("@")[2])
        preset = found.preset if found is not None else None
    if preset is None or preset.host_for(account.email) != account.host:
        return ""
    enable = next((link for link in preset.guidance() if link.kind == "enable"), None)
    if enable is None:
        return ""
    return f" {preset.name} asks you to allow mail programs once first: {enable.url}"


def _describe(failure: BaseException) -> str:
    reason = getattr(failure, "reason", None)  # set by the ssl module, not by hand-made errors
    if isinstance(failure, ssl.SSLError) and reason:
        return str(reason).replace("_", " ").lower()
    return str(failure) or type(failure).__name__


def _verify_words(failure: ssl.SSLCertVerificationError, host: str) -> str:
    said = str(failure.verify_message or failure)
    for sign, words in VERIFY_WORDS:
        if sign in said.lower():
            return words.format(host=host)
    return said
