"""OAuth2 sign-in for SMTP (XOAUTH2, OAUTHBEARER): settings, client IDs, flows, tokens.

No Qt here; Authlib and httpx are imported only when a sign-in or refresh runs,
so `relaydesk --version` does not pay for them.
"""
