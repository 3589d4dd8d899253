"""Real test infrastructure: SMTP servers with TLS and a private Secret Service."""
