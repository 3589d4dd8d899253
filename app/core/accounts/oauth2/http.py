"""Token requests through Authlib's httpx client, with errors turned into RelayErrors.

Authlib and httpx are imported here, lazily, so starting the CLI stays fast.
Certificates are verified against the system store (``SSL_CERT_FILE`` is
honoured, as everywhere in Relaydesk).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from app.core.accounts.oauth2 import problems
from app.core.accounts.oauth2.clients import Client
from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.errors import RelayError, ServerUnreachable

TIMEOUT = 30.0


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint returned. ``repr`` hides the tokens."""

    access_token: str
    expires_at: float
    refresh_token: str | None = None

    def __repr__(self) -> str:
        has_refresh = self.refresh_token is not None
        return f"TokenSet(expires_at={self.expires_at:.0f}, refresh={has_refresh})"


class OAuthProblem(Exception):
    """An ``error`` answer from the provider (kept apart so callers can look at the code)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


def session(settings: OAuth2Settings, client: Client, **kwargs: Any) -> Any:
    """An Authlib OAuth2Client for ``settings`` (PKCE S256; public client without a secret)."""
    from authlib.integrations.httpx_client import OAuth2Client

    return OAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        token_endpoint_auth_method="client_secret_post" if client.client_secret else "none",
        scope=" ".join(settings.scopes),
        code_challenge_method="S256",
        verify=ssl.create_default_context(),
        timeout=TIMEOUT,
        trust_env=False,  # a proxy from the environment must not see the tokens by accident
        **kwargs,
    )


@contextmanager
def provider_call(settings: OAuth2Settings) -> Iterator[None]:
    """Turn Authlib's and httpx's exceptions into OAuthProblem / ServerUnreachable."""
    import httpx
    from authlib.common.errors import AuthlibBaseError

    try:
        yield
    except AuthlibBaseError as error:  # token errors, and Authlib's own refusals (http URLs)
        raise OAuthProblem(str(error.error or "error"), str(error.description or "")) from None
    except httpx.HTTPError as error:
        host = httpx.URL(settings.token_url).host
        raise ServerUnreachable(
            f"Relaydesk could not reach the sign-in server {host} ({type(error).__name__}).",
            hint="Check the network connection; messages stay in the outbox meanwhile.",
        ) from None
    except ValueError as error:  # a token endpoint that answered something that is not JSON
        raise OAuthProblem("invalid_response", str(error)[:200]) from None


def token_set(token: dict[str, Any], previous_refresh: str | None = None) -> TokenSet:
    """A TokenSet from a token response; a refresh without a new refresh token keeps the old."""
    if not token.get("access_token"):
        raise OAuthProblem("invalid_response", "The token answer held no access token.")
    expires_in = float(token.get("expires_in") or 3600)
    return TokenSet(
        access_token=str(token["access_token"]),
        expires_at=time.time() + expires_in,
        refresh_token=str(token.get("refresh_token") or previous_refresh or "") or None,
    )


def refresh(settings: OAuth2Settings, client: Client, refresh_token: str) -> TokenSet:
    """A new access token (and maybe a rotated refresh token) for ``refresh_token``."""
    with session(settings, client) as oauth, provider_call(settings):
        token = oauth.refresh_token(settings.token_url, refresh_token=refresh_token)
    return token_set(dict(token), refresh_token)


def fail(account: str, problem: OAuthProblem) -> RelayError:
    """The user-facing error for a provider's refusal."""
    return problems.explain(account, problem.error, problem.description)


Sleep = Callable[[float], bool]  # waits; True when cancelled meanwhile
