"""A real OAuth2 authorization server for the tests, over HTTPS (trustme), plus an SMTP
handler that accepts XOAUTH2/OAUTHBEARER only with a live token this server issued.

Authorization endpoint (redirects with a code, or access_denied when told to decline),
token endpoint (PKCE S256 verified; refresh with rotation; device-code polling), device
authorization endpoint, RFC 8414 metadata, revocation, short-lived access tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import trustme
from aiosmtpd.smtp import SMTP, AuthResult

from tests.support.smtp_servers import RecordingHandler

CLIENT_ID = "relaydesk-test-client"
SCOPE = "https://mail.test/send offline_access"


@dataclass
class Issued:
    access: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (user, expiry)
    refresh: dict[str, str] = field(default_factory=dict)  # live refresh token → user
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    every_secret: list[str] = field(default_factory=list)  # for "not on disk" checks


class AuthorizationServer:
    """State and behaviour; the HTTP handler below only parses and answers."""

    def __init__(self, user: str, access_ttl: float = 3600) -> None:
        self.user = user
        self.access_ttl = access_ttl
        self.decline = False  # the person clicks "No" on the consent page
        self.forge_state = False  # a redirect with someone else's state
        self.slow_down_first = False  # the first device poll is told to slow down
        self.device_polls: list[float] = []  # monotonic times of device-code polls
        self.issued = Issued()
        self.token_requests: list[str] = []  # grant types, in order
        self.lock = threading.Lock()
        self.base_url = ""

    # -- issuing -----------------------------------------------------------------
    def _secret(self) -> str:
        value = secrets.token_urlsafe(24)
        self.issued.every_secret.append(value)
        return value

    def _tokens(self, user: str) -> dict[str, Any]:
        access, refresh = self._secret(), self._secret()
        self.issued.access[access] = (user, time.time() + self.access_ttl)
        self.issued.refresh[refresh] = user
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl),
            "refresh_token": refresh,
            "scope": SCOPE,
        }

    def authorize(self, query: dict[str, str]) -> str:
        """The Location of the redirect back to the app."""
        redirect = query["redirect_uri"]
        state = "forged-state" if self.forge_state else query.get("state", "")
        if self.decline:
            return f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}"
        assert query.get("code_challenge_method") == "S256", "PKCE S256 is required"
        code = self._secret()
        self.issued.codes[code] = {
            "challenge": query["code_challenge"],
            "redirect_uri": redirect,
            "client_id": query["client_id"],
        }
        return f"{redirect}?{urlencode({'code': code, 'state': state})}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        self.token_requests.append(grant)
        with self.lock:
            if form.get("client_id") != CLIENT_ID:
                return 401, {"error": "invalid_client"}
            if grant == "authorization_code":
                return self._redeem(form)
            if grant == "refresh_token":
                user = self.issued.refresh.pop(form.get("refresh_token", ""), None)  # rotation
                if user is None:
                    return 400, {"error": "invalid_grant", "error_description": "revoked"}
                return 200, self._tokens(user)
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                return self._poll(form)
        return 400, {"error": "unsupported_grant_type"}

    def _redeem(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.issued.every_secret.append(form.get("code_verifier", ""))  # the client's secret
        code = self.issued.codes.pop(form.get("code", ""), None)
        if code is None or code["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE failed"}
        return 200, self._tokens(self.user)

    def device(self, form: dict[str, str]) -> dict[str, Any]:
        device_code, user_code = self._secret(), "WDJB-MJHT"
        self.issued.devices[device_code] = {"polls": 0}
        return {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": f"{self.base_url}/device",
            "verification_uri_complete": f"{self.base_url}/device?user_code={user_code}",
            "expires_in": 60,
            "interval": 1,
        }

    def _poll(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        device = self.issued.devices.get(form.get("device_code", ""))
        if device is None:
            return 400, {"error": "invalid_grant"}
        device["polls"] += 1
        self.device_polls.append(time.monotonic())
        if device["polls"] == 1 and self.slow_down_first:
            return 400, {"error": "slow_down"}
        if device["polls"] < 2:  # the person has not entered the code yet
            return 400, {"error": "authorization_pending"}
        del self.issued.devices[form["device_code"]]
        return 200, self._tokens(self.user)

    # -- what the SMTP server and tests ask ---------------------------------------
    def valid(self, token: str) -> bool:
        entry = self.issued.access.get(token)
        return entry is not None and entry[1] > time.time()

    def revoke_all(self) -> None:
        with self.lock:
            self.issued.access.clear()
            self.issued.refresh.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token, (user, _) in list(self.issued.access.items()):
                self.issued.access[token] = (user, time.time() - 1)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.base_url,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "device_authorization_endpoint": f"{self.base_url}/device_authorization",
            "code_challenge_methods_supported": ["S256"],
        }


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        auth = self.server.auth
        if url.path == "/authorize":
            self.send_response(302)
            self.send_header("Location", auth.authorize(query))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/.well-known/oauth-authorization-server":
            self._json(200, auth.metadata())
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        auth = self.server.auth
        path = urlsplit(self.path).path
        if path == "/token":
            self._json(*auth.token(form))
        elif path == "/device_authorization":
            self._json(200, auth.device(form))
        else:
            self._json(404, {"error": "not_found"})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    auth: AuthorizationServer
    daemon_threads = True


@dataclass
class RunningAuthServer:
    auth: AuthorizationServer
    base_url: str
    stop: Any


def start_auth_server(ca: trustme.CA, user: str, access_ttl: float = 3600) -> RunningAuthServer:
    """Serve ``AuthorizationServer`` over HTTPS on 127.0.0.1 (a trustme certificate)."""
    server = _HTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.auth = AuthorizationServer(user, access_ttl)
    base = f"https://127.0.0.1:{server.server_address[1]}"
    server.auth.base_url = base
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return RunningAuthServer(server.auth, base, stop)


class OAuthSmtpHandler(RecordingHandler):
    """An aiosmtpd handler offering XOAUTH2 and OAUTHBEARER, checked against the server.

    A bad token gets the Dovecot-style ``334 <base64 JSON>`` first, then ``535 5.7.8``
    once the client answers.
    """

    def __init__(self, auth: AuthorizationServer, mechanisms: tuple[str, ...]) -> None:
        super().__init__()
        self.auth = auth
        self.mechanisms = mechanisms
        self.accepted_tokens = 0
        self.rejected_tokens = 0

    async def _bearer(self, server: SMTP, args: list[str], mechanism: str) -> AuthResult:
        if mechanism not in self.mechanisms:
            await server.push("504 5.5.4 Unrecognized authentication type")
            return AuthResult(success=False, handled=True)
        raw = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        fields = dict(
            part.split("=", 1) for part in raw.split("\x01") if "=" in part and part[:2] != "n,"
        )
        token = fields.get("auth", "").removeprefix("Bearer ")
        if self.auth.valid(token):
            self.accepted_tokens += 1
            return AuthResult(success=True, auth_data=fields.get("user") or self.auth.user)
        self.rejected_tokens += 1
        error = (
            {"status": "invalid_token"}
            if mechanism == "OAUTHBEARER"
            else {"status": "401", "schemes": "bearer", "scope": "mail"}
        )
        await server.challenge_auth(json.dumps(error))
        return AuthResult(success=False, handled=False, message="535 5.7.8 Invalid token")

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, args, "OAUTHBEARER")


BROWSER_SCRIPT = '''#!{python}
"""A stand-in for a web browser: fetch the URL, follow the redirect to the loopback app."""
import ssl, sys, urllib.request
context = ssl.create_default_context(cafile={ca!r})
urllib.request.urlopen(sys.argv[1], context=context, timeout=20).read()
'''


def write_browser(directory: Path, ca_file: Path, python: str) -> Path:
    """A $BROWSER script (webbrowser runs it with the URL as its argument)."""
    path = directory / "test-browser"
    path.write_text(BROWSER_SCRIPT.format(python=python, ca=str(ca_file)))
    path.chmod(0o755)
    return path
