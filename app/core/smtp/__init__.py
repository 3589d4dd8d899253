"""SMTP: the session, its redacted transcript and the diagnosis of failures."""
