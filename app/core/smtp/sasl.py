"""SASL exchanges as pure values: PLAIN, LOGIN, and OAuth2 bearer tokens (RFC 7628).

An exchange is a generator: it yields each command line to send, is sent the
server's reply to it, and returns the final reply. The transport runs it; the
transcript redacts every line after ``AUTH`` until the exchange ends.

For OAuth2 (XOAUTH2 and OAUTHBEARER) a server that refuses the token answers
``334 <base64 JSON error>`` first; the client must answer that challenge (an
empty line for XOAUTH2, ``^A`` for OAUTHBEARER) and then reads the final ``535``.
Not answering hangs both sides.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Generator
from typing import Any

from app.core.smtp.reply import Reply

XOAUTH2 = "XOAUTH2"
OAUTHBEARER = "OAUTHBEARER"
BEARER_MECHANISMS = (OAUTHBEARER, XOAUTH2)

Exchange = Generator[str, Reply, Reply]  # yields command lines, returns the final reply


def password_exchange(mechanism: str, username: str, password: str) -> Exchange:
    """AUTH PLAIN (with an initial response) or LOGIN, credentials in UTF-8."""
    if mechanism == "PLAIN":
        reply = yield "AUTH PLAIN " + _b64(f"\0{username}\0{password}")
        if reply.code == 334:  # the initial response was not taken: give up cleanly
            reply = yield "*"
        return reply
    reply = yield "AUTH LOGIN"
    for secret in (username, password):
        if reply.code == 334:
            reply = yield _b64(secret)
    return reply


def bearer_exchange(
    mechanism: str, response: str
) -> Generator[str, Reply, tuple[Reply, dict[str, Any]]]:
    """AUTH XOAUTH2/OAUTHBEARER; a 334 error challenge is answered, never left hanging.

    Returns the final reply and the decoded JSON error of the challenge ({} if none).
    """
    reply = yield f"AUTH {mechanism} {response}"
    challenge: dict[str, Any] = {}
    if reply.code == 334:
        challenge = decode_error_challenge(reply.text)
        reply = yield abort_response(mechanism)
    return reply, challenge


def _b64(raw: str) -> str:
    # UTF-8 ourselves: smtplib.login() encodes ASCII only (CPython issue 73936).
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def xoauth2_response(user: str, token: str) -> str:
    """The base64 initial response of ``AUTH XOAUTH2``."""
    return _b64(f"user={user}\x01auth=Bearer {token}\x01\x01")


def oauthbearer_response(user: str, token: str, host: str, port: int) -> str:
    """The base64 initial response of ``AUTH OAUTHBEARER`` (GS2 header with the authzid)."""
    # RFC 7628 §3.1: "," and "=" in the authzid are escaped as =2C and =3D.
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    return _b64(f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")


def initial_response(mechanism: str, user: str, token: str, host: str, port: int) -> str:
    """The initial response for ``mechanism`` (one of BEARER_MECHANISMS)."""
    if mechanism == OAUTHBEARER:
        return oauthbearer_response(user, token, host, port)
    return xoauth2_response(user, token)


def abort_response(mechanism: str) -> str:
    """What answers the 334 error challenge, so the server sends its final reply."""
    return "AQ==" if mechanism == OAUTHBEARER else ""  # base64 of ^A; or an empty line


def decode_error_challenge(text: str) -> dict[str, Any]:
    """The JSON error inside a 334 challenge; {} when it is not one."""
    try:
        decoded = base64.b64decode(text.strip(), validate=True)
        data = json.loads(decoded.decode("utf-8"))
    except (binascii.Error, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def choose(offered: tuple[str, ...], supported: tuple[str, ...]) -> str | None:
    """The mechanism to use: the provider's preferred one among those the server offers."""
    offered_upper = {m.upper() for m in offered}
    return next((m for m in supported if m in offered_upper), None)
