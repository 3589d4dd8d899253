"""connections: 100 merge messages over 1 and 4 connections, peers in the same run.

The same latency proxy (+5 ms each way, a 10 ms round trip) stands in front of
a PIPELINING+CHUNKING and a PIPELINING-only server. Relaydesk queues a merge
run (not timed) and sends it with the multi-connection runner (timed: every
state change committed to SQLite). Nodemailer's pool and msmtp send the same
number of ~1.5 KB messages. wall = elapsed / (messages x RTT). The server and the
proxy run in a process of their own (bench/server_proc.py).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery.attempts import SendOptions
from app.core.delivery.merge import batch
from app.core.delivery.merge.plan import MergeRun, rows_of
from app.core.delivery.merge.send import send_batch
from app.core.delivery.merge.template import MergeTemplate
from app.core.paths import Paths
from app.core.store import Store
from bench import peers
from bench.bulk import TEXT, _message

REPO = Path(__file__).resolve().parents[1]

COUNT = 100
DELAY = 0.005
SERVERS = {"PIPELINING+CHUNKING": ("PIPELINING", "CHUNKING"), "PIPELINING only": ("PIPELINING",)}
TARGETS = {
    ("PIPELINING+CHUNKING", 4): 0.35,
    ("PIPELINING only", 4): 0.6,
    ("PIPELINING+CHUNKING", 1): 1.2,
    ("PIPELINING only", 1): 2.2,
}


def _relaydesk(port: int, home: Path, connections: int) -> float:
    paths = Paths(config=home, data=home, state=home)
    with Store.open(paths) as store:
        account = Account(
            name="b", email="a@example.com", host="127.0.0.1", port=port, security=Security.NONE
        )
        accounts.add_account(store, account)
        template = MergeTemplate.compose(subject="bulk {{n}}", text=TEXT)
        rows = [{"email": f"r{n}@example.com", "n": str(n)} for n in range(COUNT)]
        run = MergeRun(template, rows_of(rows), ("email", "n"), account)
        queued = batch.queue(store, run, name="bench", face="cli")
        started = time.monotonic()
        report = send_batch(
            store,
            queued.batch_id,
            lambda _: None,
            SendOptions(check_quota=False),
            open_store=lambda: Store.open(paths),
            count=connections,
        )
        elapsed = time.monotonic() - started
        assert report.sent == COUNT and report.error is None, report
    return elapsed


@contextlib.contextmanager
def _server(extensions: tuple[str, ...]) -> Iterator[int]:
    """The server and its proxy in their own process; yields the proxy's port."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.server_proc", ",".join(extensions), str(DELAY)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        yield int(child.stdout.readline())
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def run() -> list[str]:
    lines = [
        f"{COUNT} messages of ~1.5 KB, +{DELAY * 1000:.0f} ms each way; "
        "wall = elapsed / (n x RTT), lower is better",
        f"{'server offers':22} {'sender':40} {'wall':>6} {'ms/msg':>7}  target",
    ]
    node = peers.Nodemailer()
    msmtp = peers.msmtp_problem()
    try:
        with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
            for label, extensions in SERVERS.items():
                with _server(extensions) as port:
                    lines += _measure(label, port, Path(tmp), node, msmtp)
    finally:
        node.close()
    lines.append(
        "targets (Relaydesk): 4 connections <= 0.35 (PIPELINING+CHUNKING), <= 0.6 (PIPELINING "
        "only); 1 connection <= 1.2 / <= 2.2"
    )
    return lines


def _measure(
    label: str, port: int, tmp: Path, node: peers.Nodemailer, msmtp: str | None
) -> list[str]:
    lines = []
    rtt = 2 * DELAY

    def row(sender: str, elapsed: float, target: float | None = None) -> str:
        wall = elapsed / (COUNT * rtt)
        verdict = "" if target is None else f"<= {target}: {'met' if wall <= target else 'MISSED'}"
        return f"{label:22} {sender:40} {wall:6.2f} {elapsed / COUNT * 1000:7.1f}  {verdict}"

    for connections in (1, 4):
        home = tmp / f"{label}-{connections}".replace(" ", "-").replace("+", "-")
        elapsed = _relaydesk(port, home, connections)
        lines.append(
            row(
                f"Relaydesk merge, {connections} connection(s)",
                elapsed,
                TARGETS[(label, connections)],
            )
        )
    for connections in (1, 4):
        name = f"Nodemailer {node.version} pool of {connections}"
        if node.problem:
            lines.append(f"{label:22} {name:40} {node.problem}")
            continue
        lines.append(row(name, node.send(port, COUNT, connections)))
    if msmtp:
        lines.append(f"{label:22} {'msmtp':40} {msmtp}")
    else:
        messages = [_message(n) for n in range(COUNT)]
        lines.append(row("msmtp (one process per message)", peers.send_msmtp(port, messages)))
    return lines
