"""Logging in on an open connection: a password (PLAIN or LOGIN) or an OAuth2 token.

What is said is in ``sasl`` (pure exchanges); this module picks the mechanism,
runs the exchange over the conversation and turns a refusal into an error.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol, TypeVar

from app.core.smtp import policy, sasl
from app.core.smtp.conversation import Conversation
from app.core.smtp.protocol import Capabilities
from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step

T = TypeVar("T")


class BearerToken(Protocol):
    """An OAuth2 access token source (``app.core.accounts.credentials.TokenCredential``)."""

    mechanisms: tuple[str, ...]

    def token(self) -> str: ...

    def renew(self) -> str: ...


def log_in(talk: Conversation, offered: Capabilities, secret: str | BearerToken) -> None:
    """AUTH with ``secret``; raises the classified error when the server refuses."""
    talk.announce(Step.AUTH)
    account, encrypted = talk.account, talk.transport().encrypted
    if not encrypted and not account.allow_plaintext_auth:
        raise policy.plaintext_auth_refused(account, starttls_offered=offered.starttls)
    if not isinstance(secret, str):
        _log_in_with_token(talk, offered, secret)
        return
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered.auth), None)
    if mechanism is None:
        raise policy.auth_not_offered(account, offered.auth, encrypted=encrypted)
    exchange = sasl.password_exchange(mechanism, account.username or "", secret)
    talk.expect(Step.AUTH, run_exchange(talk, exchange), 235)


def _log_in_with_token(talk: Conversation, offered: Capabilities, credential: BearerToken) -> None:
    """XOAUTH2/OAUTHBEARER; a refused token is renewed once and AUTH tried again."""
    mechanism = sasl.choose(offered.auth, credential.mechanisms)
    if mechanism is None:
        raise policy.bearer_not_offered(talk.account, offered.auth)
    reply, challenge = _bearer_attempt(talk, mechanism, credential.token())
    if _refuses_token(reply):
        # The token may have been revoked or expired early: a fresh one, once.
        reply, challenge = _bearer_attempt(talk, mechanism, credential.renew())
    if reply.code == 235:
        return
    if not _refuses_token(reply):
        # 421/454 (the server or its token checker is busy), 504: not about the token.
        talk.fail(Step.AUTH, reply)
    talk.abort()
    raise policy.token_rejected(talk.account, reply, challenge)


def _refuses_token(reply: Reply) -> bool:
    """A permanent refusal of this token (535, 534, ...), not of the mechanism (504)."""
    return reply.code >= 500 and reply.code != 504


def _bearer_attempt(talk: Conversation, mechanism: str, token: str) -> tuple[Reply, dict[str, Any]]:
    account = talk.account
    user = account.username or account.email
    response = sasl.initial_response(mechanism, user, token, account.host, account.port)
    return run_exchange(talk, sasl.bearer_exchange(mechanism, response))


def run_exchange(talk: Conversation, exchange: Generator[str, Reply, T]) -> T:
    """Run a SASL exchange: each line it yields goes out, each reply goes back in."""
    try:
        line = next(exchange)
        while True:
            line = exchange.send(talk.command(Step.AUTH, line))
    except StopIteration as finished:
        result: T = finished.value
        return result
