"""Peer senders for the connections benchmark: Nodemailer (npm) and msmtp (Debian).

Nodemailer is installed with npm into a temporary folder by the benchmark
itself; where npm or msmtp is missing, or the install fails, the peer is
skipped with a line saying why.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

NODE_SCRIPT = r"""
const nodemailer = require("nodemailer");
const [port, count, connections] = process.argv.slice(2).map(Number);
const text = "Relaydesk bulk benchmark: a line of text for the message body.\n".repeat(21);
const transport = nodemailer.createTransport({
  host: "127.0.0.1", port, secure: false, ignoreTLS: true, pool: true,
  maxConnections: connections, maxMessages: Infinity,
});
const started = process.hrtime.bigint();
const sends = [];
for (let n = 0; n < count; n++) {
  sends.push(transport.sendMail({
    from: "a@example.com", to: "b@example.com", subject: "bulk " + n, text,
    messageId: "<node-" + n + "@example.com>",
  }));
}
Promise.all(sends).then(() => {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(ms.toFixed(1));
  transport.close();
}).catch((error) => { console.error(String(error)); process.exit(1); });
"""


class Nodemailer:
    """Nodemailer in a temporary npm folder; ``problem`` says why it cannot run."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.version = ""
        self._tmp = tempfile.TemporaryDirectory(prefix="relaydesk-bench-node-")
        self.folder = Path(self._tmp.name)
        npm, node = shutil.which("npm"), shutil.which("node")
        if npm is None or node is None:
            self.problem = "skipped: npm/node not installed (apt-get install nodejs npm)"
            return
        install = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "nodemailer"],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if install.returncode != 0:
            self.problem = f"skipped: npm install nodemailer failed ({install.stderr.strip()[:80]})"
            return
        package = self.folder / "node_modules" / "nodemailer" / "package.json"
        self.version = package.read_text().split('"version": "')[1].split('"')[0]
        (self.folder / "send.js").write_text(NODE_SCRIPT)
        self._node = node

    def send(self, port: int, count: int, connections: int) -> float:
        """Seconds from the first sendMail to the last reply (node start-up excluded)."""
        done = subprocess.run(
            [self._node, "send.js", str(port), str(count), str(connections)],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return float(done.stdout.strip()) / 1000

    def close(self) -> None:
        self._tmp.cleanup()


def msmtp_problem() -> str | None:
    if shutil.which("msmtp") is None:
        return "skipped: msmtp not installed (apt-get install msmtp)"
    return None


def send_msmtp(port: int, messages: list[bytes]) -> float:
    """One msmtp process per message, as cron or a script uses it; total seconds."""
    started = time.monotonic()
    for data in messages:
        subprocess.run(
            [
                "msmtp",
                "--host=127.0.0.1",
                f"--port={port}",
                "--auth=off",
                "--tls=off",
                "--from=a@example.com",
                "b@example.com",
            ],
            input=data,
            capture_output=True,
            timeout=60,
            check=True,
        )
    return time.monotonic() - started
