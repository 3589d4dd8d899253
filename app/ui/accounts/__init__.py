"""The Accounts page and its dialogs (certificate, signature, password prompt)."""
