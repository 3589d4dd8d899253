"""bulk: 100 small messages through a latency proxy; round trips per message."""

from __future__ import annotations

import smtplib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import trustme

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery.attempts import SendOptions, queue_draft, run_due
from app.core.delivery.message import Draft
from app.core.paths import Paths
from app.core.smtp.session import SmtpSession
from app.core.store import Store
from tests.support import smtp_servers
from tests.support.fast_server import fast_controller, latency_proxy

COUNT = 100
DELAY = 0.005  # each way: a 10 ms round trip
TEXT = "\n".join(["Relaydesk bulk benchmark: a line of text for the message body."] * 21)
SERVERS = {
    "PIPELINING+CHUNKING": ("PIPELINING", "CHUNKING"),
    "PIPELINING only": ("PIPELINING",),
    "neither": (),
}


def run() -> list[str]:
    lines = [
        f"{COUNT} messages of ~1.5 KB, one connection, +{DELAY * 1000:.0f} ms each way "
        "(RTT/msg = client waits counted by the proxy; wall = elapsed / (n x RTT))",
        f"{'server offers':22} {'sender':30} {'RTT/msg':>8} {'wall':>6} {'ms/msg':>7}",
    ]
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
        ca = trustme.CA()
        for label, extensions in SERVERS.items():
            smtp_servers._Controller = fast_controller(extensions)  # type: ignore[misc]
            server = smtp_servers.start_server(mode="plain", users=None, ca=ca, tmp_path=Path(tmp))
            try:
                with latency_proxy((server.host, server.port), DELAY) as proxy:
                    for sender, send in SENDERS.items():
                        proxy.reset_stats()
                        elapsed = send(proxy.port, Path(tmp) / f"{label}-{sender}")
                        turns = proxy.stats.turns / COUNT
                        wall = elapsed / (COUNT * 2 * DELAY)
                        lines.append(
                            f"{label:22} {sender:30} {turns:8.2f} {wall:6.2f} "
                            f"{elapsed / COUNT * 1000:7.1f}"
                        )
            finally:
                server.stop()
    lines.append("targets: Relaydesk <= 1.2 (PIPELINING+CHUNKING), <= 2.2 (PIPELINING only)")
    return lines


def _message(n: int) -> bytes:
    return (
        (
            f"From: a@example.com\nTo: b@example.com\nSubject: bulk {n}\n"
            f"Message-ID: <bulk-{n}@example.com>\n\n{TEXT}\n"
        )
        .replace("\n", "\r\n")
        .encode()
    )


def send_stdlib(port: int, _: Path) -> float:
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as client:
        for n in range(COUNT):
            client.sendmail("a@example.com", ["b@example.com"], _message(n))
    return time.monotonic() - started


def send_session(port: int, _: Path) -> float:
    started = time.monotonic()
    account = Account(
        name="b", email="a@example.com", host="127.0.0.1", port=port, security=Security.NONE
    )
    with SmtpSession(account) as session:
        session.open()
        for n in range(COUNT):
            if n:
                session.reset()
            session.send("a@example.com", ["b@example.com"], _message(n))
    return time.monotonic() - started


def send_outbox(port: int, home: Path) -> float:
    """Queued first (not timed), then one ``run_due``: every step committed to SQLite."""
    paths = Paths(config=home / "config", data=home / "data", state=home / "state")
    with Store.open(paths) as store:
        account = Account(
            name="b", email="a@example.com", host="127.0.0.1", port=port, security=Security.NONE
        )
        accounts.add_account(store, account)
        for n in range(COUNT):
            queue_draft(
                store,
                account,
                Draft(to=("b@example.com",), subject=f"bulk {n}", text=TEXT),
                face="cli",
            )
        started = time.monotonic()
        results = run_due(store, lambda _: None, SendOptions(check_quota=False))
        elapsed = time.monotonic() - started
        assert len(results) == COUNT and all(r.error is None for r in results), results[:1]
    return elapsed


SENDERS: dict[str, Callable[[int, Path], float]] = {
    "stdlib smtplib (reused conn)": send_stdlib,
    "Relaydesk SmtpSession": send_session,
    "Relaydesk outbox run_due": send_outbox,
}
