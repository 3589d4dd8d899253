"""The steps of an SMTP session, shared by the session and the diagnosis."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """What the session is doing; reported before each step starts."""

    CONNECT = "connect"
    TLS = "tls"
    EHLO = "ehlo"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    FINAL_DOT = "final_dot"
    DONE = "done"


class GreetingTimeout(TimeoutError):
    """The server accepted the connection but never sent its 220 greeting."""
