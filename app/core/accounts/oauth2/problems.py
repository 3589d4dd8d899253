"""What an OAuth2 error from the provider means, in plain words (a small catalogue).

Rows match the RFC 6749 ``error`` code, or a Microsoft ``AADSTS`` number in
the description; the first matching row wins, so specific rows come first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.errors import RelayError, SignInFailed, SignInRequired

_AADSTS = re.compile(r"\bAADSTS(\d+)\b")


def signin_hint(account: str) -> str:
    """Exactly how to sign in again; the hint of every SignInRequired."""
    return f"relaydesk account login {account}"


@dataclass(frozen=True)
class ProblemRow:
    """One explanation: matched on the error code or an AADSTS number."""

    message: str
    hint: str
    error: str | None = None
    aadsts: tuple[str, ...] = ()
    required: bool = False  # the sign-in is gone: SignInRequired, messages wait

    def matches(self, error: str, aadsts: str | None) -> bool:
        if self.aadsts:
            return aadsts in self.aadsts
        return self.error == error


ROWS: tuple[ProblemRow, ...] = (
    ProblemRow(
        aadsts=("65001", "90094", "90095"),
        message="Your organisation's administrator must approve Relaydesk before you can "
        "sign in (admin consent required).",
        hint="Ask your Microsoft 365 administrator to grant consent for the app, or enter your "
        "organisation's own client ID with --oauth2-client-id.",
    ),
    ProblemRow(
        aadsts=("53003", "53000", "50105", "500011", "700016", "50020"),
        message="Your organisation does not let this app sign in (blocked by tenant policy "
        "or not registered there).",
        hint="Ask your administrator to allow the app for your tenant, or use the tenant's own "
        "app registration (--oauth2-client-id, --oauth2-tenant).",
    ),
    ProblemRow(
        aadsts=("50126", "50034"),
        message="Microsoft did not accept the user name or password at sign-in.",
        hint="Sign in again and check the address you choose in the browser.",
    ),
    ProblemRow(
        error="access_denied",
        message="The sign-in was declined, so Relaydesk did not get permission to send mail.",
        hint="Sign in again and choose “Accept” (or “Allow”) on the provider's page.",
    ),
    ProblemRow(
        error="invalid_client",
        message="The provider does not know the client ID Relaydesk signed in with, or it is "
        "not registered for this tenant.",
        hint="Check the client ID (--oauth2-client-id) and, for Microsoft, that the app "
        "allows public client flows and accounts of your tenant.",
    ),
    ProblemRow(
        error="unauthorized_client",
        message="The client ID is not allowed to use this kind of sign-in.",
        hint="Allow public client flows (and the device flow, if used) in the app "
        "registration, or sign in with a browser.",
    ),
    ProblemRow(
        error="invalid_scope",
        message="The provider refused the permission Relaydesk asked for (the scope).",
        hint="Check the scope (--oauth2-scope); for Microsoft it is "
        "https://outlook.office.com/SMTP.Send, for Google https://mail.google.com/.",
    ),
    ProblemRow(
        error="expired_token",
        message="The code on the device sign-in expired before it was entered.",
        hint="Start the sign-in again and enter the new code sooner.",
    ),
    ProblemRow(
        error="invalid_grant",
        required=True,
        message="The sign-in is no longer valid (revoked, expired, or the password changed).",
        hint="",
    ),
)


def explain(account: str, error: str, description: str = "") -> RelayError:
    """The user-facing error for the OAuth2 ``error`` code the provider returned."""
    found = _AADSTS.search(description)
    aadsts = found.group(1) if found else None
    details = {"oauth_error": error, "account": account, **({"aadsts": aadsts} if aadsts else {})}
    for row in ROWS:
        if row.matches(error, aadsts):
            kind = SignInRequired if row.required else SignInFailed
            hint = signin_hint(account) if row.required else row.hint
            return kind(row.message, hint=hint, details=details)
    short = description.splitlines()[0][:200] if description else error
    return SignInFailed(
        f"The provider refused the sign-in: {short}.",
        hint="Try again; if it keeps failing, check the client ID, scope and endpoints.",
        details=details,
    )
