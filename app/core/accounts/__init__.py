"""Accounts: settings, keyring secrets, OAuth2 sign-in, credentials, use cases."""
