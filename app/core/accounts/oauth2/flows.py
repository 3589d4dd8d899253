"""The two sign-in flows: browser with loopback redirect (RFC 8252), and device code (RFC 8628).

Both run on the caller's thread (a worker in the GUI, the main thread in the
CLI), can be cancelled through a ``threading.Event`` and end in a TokenSet or
a RelayError. Nothing secret is logged or put into an error.
"""

from __future__ import annotations

import secrets as random
import ssl
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass

from app.core.accounts.oauth2 import http
from app.core.accounts.oauth2.clients import Client
from app.core.accounts.oauth2.config import BROWSER_TIMEOUT, OAuth2Settings
from app.core.accounts.oauth2.http import OAuthProblem, TokenSet
from app.core.accounts.oauth2.loopback import LoopbackListener
from app.core.errors import Cancelled, InvalidInput, RelayError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True)
class DeviceCode:
    """What the user must see to finish a device sign-in elsewhere."""

    verification_uri: str
    user_code: str
    verification_uri_complete: str | None
    expires_in: float


def open_in_browser(url: str) -> bool:
    """The system browser (``$BROWSER`` is honoured by ``webbrowser``)."""
    return webbrowser.open(url, new=1)


def sign_in_browser(
    account: str,
    settings: OAuth2Settings,
    client: Client,
    *,
    open_url: Callable[[str], bool] = open_in_browser,
    on_url: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    timeout: float = BROWSER_TIMEOUT,
) -> TokenSet:
    """Authorization code + PKCE S256 through the browser and a one-shot loopback listener."""
    state = random.token_urlsafe(24)
    verifier = random.token_urlsafe(64)  # 86 characters, inside RFC 7636's 43..128
    with LoopbackListener(state) as listener:
        oauth = http.session(settings, client, redirect_uri=listener.redirect_uri)
        with oauth:
            url, _ = oauth.create_authorization_url(
                settings.auth_url, state=state, code_verifier=verifier, **settings.extra
            )
            if on_url is not None:
                on_url(url)  # for "no browser opened? open this address" (no secret in it)
            open_url(url)
            redirect = listener.wait(timeout, cancel)
            listener.close()  # the port is closed before the code is redeemed
            if redirect.error or not redirect.code:
                raise http.fail(account, OAuthProblem(redirect.error or "", redirect.description))
            try:
                with http.provider_call(settings):
                    token = oauth.fetch_token(
                        settings.token_url,
                        grant_type="authorization_code",
                        code=redirect.code,
                        code_verifier=verifier,
                        redirect_uri=listener.redirect_uri,
                    )
            except OAuthProblem as problem:
                raise http.fail(account, problem) from None
    return http.token_set(dict(token))


def sign_in_device(
    account: str,
    settings: OAuth2Settings,
    client: Client,
    *,
    show: Callable[[DeviceCode], None],
    cancel: threading.Event | None = None,
) -> TokenSet:
    """Device authorization grant: show a code, then poll honouring interval and slow_down."""
    cancel = cancel or threading.Event()
    with http.session(settings, client) as oauth:
        try:
            grant = _device_grant(oauth, settings, client)
        except OAuthProblem as problem:
            raise http.fail(account, problem) from None
        show(grant.code)
        deadline = time.monotonic() + grant.code.expires_in
        interval = grant.interval
        while True:
            if cancel.wait(interval):
                raise Cancelled("The sign-in was cancelled.", hint="Start it again when ready.")
            if time.monotonic() > deadline:
                raise http.fail(account, OAuthProblem("expired_token", ""))
            try:
                with http.provider_call(settings):
                    token = oauth.fetch_token(
                        settings.token_url, grant_type=DEVICE_GRANT, device_code=grant.device_code
                    )
                return http.token_set(dict(token))
            except OAuthProblem as problem:
                if problem.error == "authorization_pending":
                    continue
                if problem.error == "slow_down":
                    interval += 5  # RFC 8628 §3.5
                    continue
                raise http.fail(account, problem) from None


@dataclass(frozen=True)
class _Grant:
    code: DeviceCode
    device_code: str
    interval: float


def _device_grant(oauth: object, settings: OAuth2Settings, client: Client) -> _Grant:
    assert settings.device_url is not None
    data = {"client_id": client.client_id, "scope": " ".join(settings.scopes)}
    with http.provider_call(settings):
        response = oauth.request(  # type: ignore[attr-defined]
            "POST", settings.device_url, data=data, withhold_token=True
        )
        body = response.json()
    if not isinstance(body, dict):
        raise OAuthProblem("invalid_response", "The device endpoint did not answer JSON.")
    if "error" in body:
        raise OAuthProblem(str(body["error"]), str(body.get("error_description", "")))
    try:
        # Google calls it verification_url; RFC 8628 verification_uri.
        uri = str(body.get("verification_uri") or body["verification_url"])
        code = DeviceCode(
            verification_uri=uri,
            user_code=str(body["user_code"]),
            verification_uri_complete=body.get("verification_uri_complete"),
            expires_in=float(body.get("expires_in", 900)),
        )
        return _Grant(code, str(body["device_code"]), float(body.get("interval", 5)))
    except KeyError as missing:
        raise OAuthProblem("invalid_response", f"The device answer lacks {missing}.") from None


def discover(issuer: str) -> dict[str, str]:
    """RFC 8414 metadata of ``issuer`` (OpenID Connect discovery as a fallback)."""
    import httpx

    base = issuer.rstrip("/")
    host_part, _, path = base.partition("//")[2].partition("/")
    origin = base[: base.index(host_part) + len(host_part)]
    candidates = [
        f"{origin}/.well-known/oauth-authorization-server" + (f"/{path}" if path else ""),
        f"{base}/.well-known/openid-configuration",
    ]
    last: RelayError | None = None
    for url in candidates:
        try:
            with httpx.Client(verify=ssl.create_default_context(), timeout=http.TIMEOUT) as web:
                response = web.get(url)
            if response.status_code == 200:
                data = response.json()
                if isinstance(data, dict) and data.get("authorization_endpoint"):
                    if str(data.get("issuer", base)).rstrip("/") != base:
                        # RFC 8414 §3.3: metadata of another issuer must not be used.
                        last = _discovery_failed(issuer, "the metadata names another issuer")
                        continue
                    return {k: v for k, v in data.items() if isinstance(v, str)}
        except (httpx.HTTPError, ValueError) as error:
            last = _discovery_failed(issuer, type(error).__name__)
    raise last or _discovery_failed(issuer, "no metadata published")


def _discovery_failed(issuer: str, why: str) -> RelayError:
    return InvalidInput(
        f"Relaydesk could not read the OAuth2 metadata of {issuer} ({why}).",
        hint="Check the issuer URL, or give the endpoints with --oauth2-auth-url and "
        "--oauth2-token-url.",
    )
