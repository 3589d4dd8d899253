"""The loopback redirect listener of the browser sign-in (RFC 8252 §7.3).

It listens on 127.0.0.1 on a port the OS picks, takes exactly one redirect
whose ``state`` matches, shows a page saying the window can be closed, and
closes. Waiting can time out or be cancelled from another thread.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from app.core.errors import Cancelled, SignInFailed

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Relaydesk</title></head><body style="font-family:sans-serif;margin:3em">
<h1>{title}</h1><p>{text}</p><p>You can close this window now.</p></body></html>"""


@dataclass(frozen=True)
class Redirect:
    """What the provider sent back: a code, or an error (with its description)."""

    code: str | None
    error: str | None
    description: str


class _Server(HTTPServer):
    expected_state: str
    result: Redirect | None
    arrived: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)

        def one(key: str) -> str | None:
            values = query.get(key)
            return values[0] if values else None

        if one("state") != self.server.expected_state:
            # Not our redirect (a stale tab, a forged request): refuse it and keep waiting.
            self._answer(
                400,
                "Sign-in not recognised",
                "This page does not belong to the sign-in Relaydesk is waiting for.",
            )
            return
        redirect = Redirect(one("code"), one("error"), one("error_description") or "")
        if redirect.code is None and redirect.error is None:
            redirect = Redirect(None, "invalid_request", "The redirect carried no code.")
        if redirect.error:
            self._answer(200, "Sign-in did not finish", "Relaydesk shows what happened.")
        else:
            self._answer(200, "Signed in", "Relaydesk has finished signing in.")
        self.server.result = redirect
        self.server.arrived.set()

    def _answer(self, status: int, title: str, text: str) -> None:
        body = PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request line holds the authorization code."""


class LoopbackListener:
    """``with LoopbackListener(state) as listener: … listener.wait(timeout, cancel)``."""

    def __init__(self, state: str) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.expected_state = state
        self._server.result = None
        self._server.arrived = threading.Event()
        self._server.timeout = 0.2
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="oauth2-loopback", daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> LoopbackListener:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening; the port is free again."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def wait(self, timeout: float, cancel: threading.Event | None = None) -> Redirect:
        """The redirect, or Cancelled / SignInFailed on cancel or timeout."""
        arrived = self._server.arrived
        deadline = time.monotonic() + timeout
        while not arrived.wait(0.1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("The sign-in was cancelled.", hint="Start it again when ready.")
            if time.monotonic() >= deadline:
                raise SignInFailed(
                    f"No sign-in arrived within {int(timeout)} seconds.",
                    hint="Finish the sign-in in the browser window that opened, then try "
                    "again; without a browser here, use the device sign-in (--oauth2-device).",
                )
        assert self._server.result is not None
        return self._server.result
