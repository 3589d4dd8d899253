"""memory: peak RSS of a process sending one 200 MB attachment, vs idle and vs the stdlib."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import trustme

from tests.support import smtp_servers
from tests.support.fast_server import fast_controller

SIZE = 200 * 1024 * 1024
REPO = Path(__file__).resolve().parent.parent

# Each case runs in a fresh interpreter and prints its peak RSS (VmHWM, KiB).
PRELUDE = """
import json, resource, sys, time
from pathlib import Path
from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery.attempts import SendOptions, queue_draft, send_item
from app.core.delivery.message import Attachment, Draft
from app.core.paths import Paths
from app.core.store import Store
import smtplib
from email.message import EmailMessage
port, attachment, home = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
started = time.monotonic()
"""
CASES = {
    "idle (same imports, no message)": "",
    "Relaydesk (spool + BDAT from the file)": """
paths = Paths(config=home / "c", data=home / "d", state=home / "s")
with Store.open(paths) as store:
    account = Account(name="m", email="a@example.com", host="127.0.0.1", port=port,
                      security=Security.NONE)
    accounts.add_account(store, account)
    draft = Draft(to=("b@example.com",), subject="big", text="see attached",
                  attachments=(Attachment.from_path(attachment),))
    item = queue_draft(store, account, draft, face="cli")
    result = send_item(store, item, lambda _: None, SendOptions(check_quota=False))
    assert result.error is None, result.error
""",
    "stdlib (EmailMessage + send_message)": """
msg = EmailMessage()
msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "big"
msg.set_content("see attached")
msg.add_attachment(attachment.read_bytes(), maintype="application", subtype="octet-stream",
                   filename=attachment.name)
with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as client:
    client.send_message(msg)
""",
}
# VmHWM is this program's own peak; ru_maxrss also keeps the peak of the benchmark process
# that forked it (Linux carries it across exec), which hid the real idle figure.
EPILOGUE = """
status = Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
hwm = [line for line in lines if line.startswith("VmHWM:")]
peak = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kib": peak, "seconds": time.monotonic() - started}))
"""


def run() -> list[str]:
    lines = [f"one {SIZE // 2**20} MiB attachment; peak RSS of the sending process (VmHWM)"]
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
        attachment = Path(tmp) / "big.bin"
        with attachment.open("wb") as out:
            for _ in range(SIZE // 2**20):
                out.write(os.urandom(2**20))
        smtp_servers._Controller = fast_controller(("PIPELINING", "CHUNKING"))  # type: ignore[misc]
        server = smtp_servers.start_server(
            mode="plain", users=None, ca=trustme.CA(), tmp_path=Path(tmp), data_size_limit=None
        )
        try:
            results = {}
            for label, body in CASES.items():
                home = Path(tempfile.mkdtemp(dir=tmp))
                out = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        PRELUDE + body + EPILOGUE,
                        str(server.port),
                        str(attachment),
                        str(home),
                    ],
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=True,
                )
                results[label] = json.loads(out.stdout.strip().splitlines()[-1])
                server.messages.clear()
        finally:
            server.stop()
    idle = results["idle (same imports, no message)"]["peak_kib"] / 1024
    for label, result in results.items():
        peak = result["peak_kib"] / 1024
        lines.append(
            f"{label:40} peak {peak:7.1f} MiB  above idle {peak - idle:7.1f} MiB  "
            f"{result['seconds']:5.1f} s"
        )
    lines.append("target: Relaydesk <= 50 MB above idle")
    return lines
