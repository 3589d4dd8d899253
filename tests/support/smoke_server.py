"""Test servers for scripts/package-check: an SMTP server and a Secret Service to run against.

    .venv/bin/python -m tests.support.smoke_server DIR

Starts a STARTTLS aiosmtpd server (trustme CA) and a private Secret Service, writes
``DIR/servers.env`` (shell assignments: SMTP_PORT, CA_FILE and the HOME/XDG/D-Bus variables
a process needs to use that Secret Service), then waits. On SIGTERM or SIGINT it writes
``DIR/received.json`` (every message the server accepted) and stops everything.
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import trustme

from tests.support.secret_service import start_secret_service
from tests.support.smtp_servers import Received, RunningServer, start_server


def _summary(message: Received) -> dict[str, object]:
    parsed = message_from_bytes(message.data, policy=default_policy)
    return {
        "mail_from": message.mail_from,
        "rcpt_tos": message.rcpt_tos,
        "authenticated_as": message.authenticated_as,
        "subject": str(parsed["subject"] or ""),
        "from": str(parsed["from"] or ""),
    }


def _write_env(path: Path, server: RunningServer, env: dict[str, str]) -> None:
    values = {"SMTP_HOST": server.host, "SMTP_PORT": str(server.port)}
    values["CA_FILE"] = str(server.ca_file)
    values |= {f"SS_{name}": value for name, value in env.items()}
    lines = [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n")
    temporary.replace(path)  # the script polls for the file: never let it see half of it


def main(directory: str) -> int:
    """Run the servers until signalled; see the module docstring."""
    root = Path(directory)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service = start_secret_service()
    try:
        server = start_server(mode="starttls", ca=trustme.CA(), tmp_path=root)
        try:
            _write_env(root / "servers.env", server, service.env)
            stop.wait()
            received = [_summary(message) for message in server.messages]
            (root / "received.json").write_text(json.dumps(received, indent=2))
        finally:
            server.stop()
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        raise SystemExit(64)
    raise SystemExit(main(sys.argv[1]))
