"""Screenshots of Relaydesk as a new user meets it: ``python scripts/take_screenshots.py [OUT]``.

Run through ``scripts/screenshots`` (Xvfb at 1366x768, openbox, dunst). Everything is real:
an SMTP server with STARTTLS and sign-in (aiosmtpd), a company relay with a self-signed
certificate, the Secret Service, the desktop's notification service. Only the names are
dressed up: ``smtp.example.com`` and ``relay.corp.example`` resolve to loopback addresses in
this process, so the shots show realistic settings instead of test ports and temp paths.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAMES = {"smtp.example.com": "127.0.0.1", "relay.corp.example": "127.0.0.2"}
PORT = 587
LOGIN, PASSWORD = "ada@example.com", "correct horse battery staple"
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    return _real_getaddrinfo(NAMES.get(host, host), *args, **kwargs)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="relaydesk-shots-") as temp:
        root = Path(temp)
        os.environ["RELAYDESK_HOME"] = str(root / "home")
        return Shooter(out, root).run()


class Shooter:
    def __init__(self, out: Path, temp: Path) -> None:
        self.out, self.temp = out, temp
        self.stops: list[Callable[[], None]] = []

    # -- the world the app talks to ---------------------------------------------------
    def _servers(self) -> None:
        import trustme

        now = datetime.now(UTC).replace(microsecond=0)
        public = trustme.CA(organization_name="Example Trust Services", organization_unit_name="R3")
        bundle = self.temp / "trusted.pem"
        public.cert_pem.write_to_path(str(bundle))
        os.environ["SSL_CERT_FILE"] = str(bundle)  # the "system" store trusts this CA only
        leaf = public.issue_cert(
            "smtp.example.com",
            common_name="smtp.example.com",
            organization_unit_name="Mail",
            not_before=now - timedelta(days=30),
            not_after=now + timedelta(days=60),
        )
        self._start(leaf, "127.0.0.1", auth=True)
        company = trustme.CA(organization_name="Corp", organization_unit_name="IT Department")
        relay = company.issue_cert(
            "relay.corp.example",
            common_name="relay.corp.example",
            organization_name="Corp",
            organization_unit_name="IT Department",
            not_before=now - timedelta(days=200),
            not_after=now + timedelta(days=530),
        )
        self._start(relay, "127.0.0.2", auth=True)

    def _start(self, leaf, host: str, *, auth: bool) -> None:  # type: ignore[no-untyped-def]
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)

        def check(server, session, envelope, mechanism, data):  # type: ignore[no-untyped-def]
            ok = isinstance(data, LoginPassword) and data.password.decode() == PASSWORD
            return AuthResult(success=ok, handled=False)

        controller = Controller(
            Handler(),
            hostname=host,
            port=PORT,
            server_hostname=host,
            tls_context=context,
            require_starttls=True,
            authenticator=check if auth else None,
            auth_require_tls=True,
        )
        controller.start()
        self.stops.append(controller.stop)

    def _desktop(self) -> None:
        from tests.support.secret_service import start_secret_service

        service = start_secret_service()
        self.stops.append(service.stop)
        os.environ.update({k: v for k, v in service.env.items() if k != "HOME"})
        import keyring
        from keyring.backends import SecretService

        keyring.set_keyring(SecretService.Keyring())
        config = self.temp / "dunstrc"
        config.write_text(
            "[global]\n    origin = top-right\n    offset = 16x40\n    width = 380\n"
            '    show_indicators = no\n    format = "<b>%s</b>\\n%b"\n    padding = 10\n'
            '    font = DejaVu Sans 10\n    frame_width = 1\n    frame_color = "#8aa1c1"\n'
            '[urgency_normal]\n    background = "#f6f7f9"\n    foreground = "#1d2430"\n'
            '    timeout = 0\n[urgency_critical]\n    background = "#fff4f2"\n'
            '    foreground = "#1d2430"\n    timeout = 0\n'
        )
        dunst = subprocess.Popen(["dunst", "-config", str(config)], env=os.environ.copy())
        self.stops.append(dunst.terminate)
        time.sleep(0.5)

    # -- taking pictures ----------------------------------------------------------------
    def wait(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")
            self.app.processEvents()
            time.sleep(0.01)

    def settle(self, seconds: float = 0.4) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.app.processEvents()
            time.sleep(0.02)

    def close_notifications(self) -> None:
        subprocess.run(["dunstctl", "close-all"], env=os.environ.copy(), check=False)
        self.settle(0.3)

    def shot(self, name: str) -> None:
        """The whole 1366x768 screen, window frames and notifications included."""
        self.settle()
        screen = self.app.primaryScreen()
        path = self.out / f"{name}.png"
        screen.grabWindow(0).save(str(path))
        print(path)

    def run(self) -> int:
        from app.ui.application import make_application

        self.app = make_application()
        self.app.setStyle("Fusion")
        try:
            self._servers()
            self._desktop()
            self._scenes()
        finally:
            for stop in reversed(self.stops):
                stop()
        return 0

    def _scenes(self) -> None:
        from scripts.screenshot_scenes import Scenes

        Scenes(self).play()


class Handler:
    """Accepts mail; greylists one address (450 at RCPT) as Postfix with postgrey does."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("accounts@"):
            return "450 4.2.0 <accounts@example.net>: Recipient address rejected: Greylisted"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued as 4F2A91C03B"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
