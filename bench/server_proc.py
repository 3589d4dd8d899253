"""A test SMTP server behind the latency proxy, in a process of its own.

``python -m bench.server_proc EXT,EXT DELAY`` prints the proxy's port and the
number of messages received so far on each line of stdin it reads, and stops
when stdin closes. In its own process the server and the proxy do not share a
Python interpreter lock with the sender being measured (Nodemailer and msmtp
never did).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import trustme

from tests.support import smtp_servers
from tests.support.fast_server import fast_controller, latency_proxy


def main() -> int:
    extensions = tuple(e for e in sys.argv[1].split(",") if e)
    delay = float(sys.argv[2])
    smtp_servers._Controller = fast_controller(extensions)  # type: ignore[misc]
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-server-") as tmp:
        server = smtp_servers.start_server(
            mode="plain", users=None, ca=trustme.CA(), tmp_path=Path(tmp)
        )
        try:
            with latency_proxy((server.host, server.port), delay) as proxy:
                print(proxy.port, flush=True)
                for _ in sys.stdin:
                    print(len(server.messages), flush=True)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
