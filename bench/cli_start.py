"""cli_start: how long `relaydesk --version`, `--help` and `sendmail` take, with same-run peers.

Peers: `python -c pass` (the same interpreter: the floor any Python CLI pays) for
--version and --help; msmtp (Debian package msmtp) handing the same message to the
same loopback server for sendmail. Each figure is the median of fresh processes, runs
alternating between the contenders after one warm-up each. Wall time on a shared
machine depends on its load, so the CPU time the process used (user + system, from
getrusage) is printed beside it.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parent.parent
RUNS = 15
SCRIPT = Path(sys.executable).with_name("relaydesk")
MESSAGE = b"From: alice@example.com\nTo: bob@example.com\nSubject: bench\n\nhello\n"


class _Sink:
    """Accepts every message; counts them so the bench can check each one arrived."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def _timed(argv: list[str], env: dict[str, str], stdin: bytes = b"") -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, input=stdin, env=env, capture_output=True, check=True, timeout=60)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


Times = dict[str, list[tuple[float, float]]]


def _race(contenders: dict[str, tuple[list[str], bytes]], env: dict[str, str]) -> Times:
    times: Times = {label: [] for label in contenders}
    for argv, stdin in contenders.values():
        _timed(argv, env, stdin)  # warm-up: page cache, .pyc files
    for _ in range(RUNS):
        for label, (argv, stdin) in contenders.items():
            times[label].append(_timed(argv, env, stdin))
    return times


def _lines(times: Times, peer: str) -> list[str]:
    """Median wall and CPU time per contender, and the difference to the peer."""
    base_wall = statistics.median(wall for wall, _ in times[peer])
    base_cpu = statistics.median(cpu for _, cpu in times[peer])
    lines = [f"{'':40} {'wall':>9} {'vs peer':>9} {'cpu':>9} {'vs peer':>9}"]
    for label, values in times.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        if label == peer:
            lines.append(f"{label:40} {wall * 1000:6.1f} ms {'':9} {cpu * 1000:6.1f} ms")
            continue
        lines.append(
            f"{label:40} {wall * 1000:6.1f} ms {(wall - base_wall) * 1000:+6.1f} ms "
            f"{cpu * 1000:6.1f} ms {(cpu - base_cpu) * 1000:+6.1f} ms"
        )
    return lines


def run() -> list[str]:
    lines = [
        f"fresh process; median of {RUNS} runs (one warm-up each, alternating); wall time, and"
        " CPU time (user+system), which a busy machine disturbs less",
        f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
    ]
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
        env = {**os.environ, "RELAYDESK_HOME": str(Path(tmp) / "home")}
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        starts = _race(
            {
                "python -c pass (peer)": ([sys.executable, "-c", "pass"], b""),
                "relaydesk --version": ([str(SCRIPT), "--version"], b""),
                "relaydesk --help": ([str(SCRIPT), "--help"], b""),
            },
            env,
        )
        lines += _lines(starts, "python -c pass (peer)")
        lines.append("target: --version and --help within 60 ms of python -c pass")
        lines.append("")
        lines += _sendmail(env)
    return lines


def _sendmail(env: dict[str, str]) -> list[str]:
    sink = _Sink()
    with socket.socket() as probe:  # aiosmtpd needs a fixed port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    controller = Controller(sink, hostname="127.0.0.1", port=int(port))
    controller.start()
    try:
        add = [str(SCRIPT), "account", "add", "bench", "--email", "alice@example.com"]
        add += ["--host", "127.0.0.1", "--port", port, "--security", "none"]
        subprocess.run(add, env=env, capture_output=True, check=True, timeout=60)
        contenders = {"relaydesk sendmail bob@example.com": ([str(SCRIPT), "sendmail", "-i",
                      "bob@example.com"], MESSAGE)}  # fmt: skip
        msmtp = shutil.which("msmtp")
        if msmtp:
            peer = [msmtp, "-C", "/dev/null", "--host=127.0.0.1", f"--port={port}", "--tls=off"]
            peer += ["--auth=off", "--from=alice@example.com", "bob@example.com"]
            contenders = {"msmtp (peer)": (peer, MESSAGE), **contenders}
        times = _race(contenders, env)
        expected = (RUNS + 1) * len(contenders)
        if sink.count != expected:
            raise RuntimeError(f"the server got {sink.count} messages, expected {expected}")
    finally:
        controller.stop()
    lines = [f"one message to a loopback SMTP server (no TLS, no AUTH), port {port}"]
    if not msmtp:
        lines.append("msmtp is not installed (Debian package msmtp): its peer row is skipped")
        return lines + _lines(times, next(iter(times)))
    lines += _lines(times, "msmtp (peer)")
    lines.append("target: relaydesk sendmail within 150 ms of msmtp")
    return lines
