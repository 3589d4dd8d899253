"""Catalogue rows for what particular providers say, checked before the general rows.

Same templates as ``catalogue`` plus: provider (the preset's name, or the host),
email (the account's address) and app_password_url (where the preset's
provider makes app passwords).
"""

from __future__ import annotations

from app.core.errors import AuthFailed, SenderRefused
from app.core.smtp.rules import ReplyRow, at
from app.core.smtp.steps import Step

GOOGLE = frozenset({"gmail", "google-workspace"})
GOOGLE_APP_PASSWORDS = "https://myaccount.google.com/apppasswords"
M365_ENABLE = (
    "An administrator must turn on Authenticated SMTP (Microsoft 365 admin center → Users → "
    "{username} → Mail → Manage email apps{where}), or sign in with OAuth2 instead of a password."
)
SEND_AS_HINT = (
    "Send from {username}'s own address, or ask the administrator to give {username} "
    "“Send As” permission for {email}."
)
AFTER_LOGIN = at(Step.MAIL, Step.RCPT, Step.DATA, Step.FINAL_DOT)

PROVIDER_ROWS: tuple[ReplyRow, ...] = (
    ReplyRow(
        code="534",
        enhanced="5.7.9",
        providers=frozenset({"google-workspace"}),
        error=AuthFailed,
        message="Google Workspace refused the password for {username}: it needs an app password.",
        hint="Turn on 2-Step Verification, create an app password at "
        + GOOGLE_APP_PASSWORDS
        + " and use it instead of your normal password. If app passwords are missing there, "
        "your Workspace administrator has turned them off.",
    ),
    ReplyRow(
        code="534",
        enhanced="5.7.9",
        error=AuthFailed,
        message="Gmail refused the password for {username}: it needs an app password.",
        hint="Turn on 2-Step Verification, create an app password at "
        + GOOGLE_APP_PASSWORDS
        + " and use it instead of your normal password.",
    ),
    ReplyRow(
        code="535",
        enhanced="5.7.139",
        providers=frozenset({"outlook"}),
        error=AuthFailed,
        message="Outlook.com no longer accepts passwords from mail programs for {username}.",
        hint="Microsoft ended password (basic) login for Outlook.com in September 2024: sign in "
        "with Microsoft instead (relaydesk account edit {name} --oauth2, or --apply-fix).",
    ),
    ReplyRow(
        code="550",
        enhanced="5.7.30",
        error=AuthFailed,
        message="{provider} no longer accepts a password for {username} (basic authentication "
        "is switched off).",
        hint="Sign in with Microsoft instead: relaydesk account edit {name} --oauth2 "
        "(or run the test again with --apply-fix).",
    ),
    ReplyRow(
        code="535",
        enhanced="5.7.3",
        providers=frozenset({"outlook", "microsoft365"}),
        error=AuthFailed,
        message="Microsoft did not accept the login for {username}.",
        hint="If the password is right, Microsoft may have switched password login off for this "
        "mailbox: sign in with Microsoft instead (relaydesk account edit {name} --oauth2).",
    ),
    ReplyRow(
        code="535",
        enhanced="5.7.139",
        text="disabled for the mailbox",
        error=AuthFailed,
        message="Microsoft 365 has SMTP AUTH switched off for the mailbox {username}.",
        hint=M365_ENABLE.replace("{where}", " → Authenticated SMTP"),
    ),
    ReplyRow(
        code="535",
        enhanced="5.7.139",
        text="disabled for the tenant",
        error=AuthFailed,
        message="Microsoft 365 has SMTP AUTH switched off for the whole organisation "
        "(tenant), so {username} cannot log in with a password.",
        hint=M365_ENABLE.replace(
            "{where}",
            "; for the organisation: Exchange admin center → "
            "Settings → Mail flow → turn off “Turn off SMTP AUTH protocol”",
        ),
    ),
    ReplyRow(
        code="535",
        enhanced="5.7.139",
        error=AuthFailed,
        message="Microsoft 365 has SMTP AUTH switched off for {username}.",
        hint=M365_ENABLE.replace("{where}", " → Authenticated SMTP"),
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.AUTH),
        providers=GOOGLE,
        error=AuthFailed,
        message="{provider} did not accept the username {username} or its password.",
        hint="Google needs an app password here, not your Google password: turn on 2-Step "
        "Verification and create one at {app_password_url}. The username is your full address.",
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.AUTH),
        text="#AUTH005",
        error=AuthFailed,
        message="{provider} has blocked logins for {username} after too many failed attempts.",
        hint="Wait an hour before trying again, and then use an app password: {provider} "
        "refuses your normal password in mail programs. Make one at {app_password_url}.",
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.AUTH),
        preset_auth=frozenset({"app_password"}),
        error=AuthFailed,
        message="{provider} refused the login for {username}: {reply}.",
        hint="{provider} needs an app password for mail programs, not your normal password: "
        "create one at {app_password_url} and use it here. Check that the username is right.",
    ),
    ReplyRow(
        code="5xx",
        steps=AFTER_LOGIN,
        enhanced="5.7.60",
        error=SenderRefused,
        message="{provider} does not let {username} send as {email}: {reply}.",
        hint=SEND_AS_HINT,
    ),
    ReplyRow(
        code="5xx",
        steps=AFTER_LOGIN,
        text="send as",
        error=SenderRefused,
        message="{provider} does not let {username} send as {email}: {reply}.",
        hint=SEND_AS_HINT,
    ),
    ReplyRow(
        code="5xx",
        steps=AFTER_LOGIN,
        text="sendasdenied",
        error=SenderRefused,
        message="{provider} does not let {username} send as {email}: {reply}.",
        hint=SEND_AS_HINT,
    ),
    ReplyRow(
        code="5xx",
        steps=at(Step.MAIL),
        text="relay",
        error=SenderRefused,
        message="{host} will not relay mail from {email} for {username}: {reply}.",
        hint="The server only relays for addresses this login owns (and only after login): "
        "check the From address and that the account has a username and password.",
    ),
)
