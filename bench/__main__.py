"""Relaydesk benchmarks: ``python -m bench NAME`` (see --help for the names, or ``all``).

Loopback only (127.0.0.0/8); every loop is bounded. Each benchmark prints its own
figures and a peer measured in the same run. ``--write`` records them in
bench/RESULTS.md. Needs the dev extras (aiosmtpd, trustme) for the test servers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench import (
    bulk,
    cli_start,
    connections,
    detect,
    history,
    memory,
    merge_scale,
    startup,
    ui_stall,
)

Bench = Callable[[], list[str]]
BENCHES: dict[str, Bench] = {
    "bulk": bulk.run,
    "connections": connections.run,
    "merge": merge_scale.run,
    "memory": memory.run,
    "ui_stall": ui_stall.run,
    "startup": startup.run,
    "history": history.run,
    "detect": detect.run,
    "cli_start": cli_start.run,
}
RESULTS = Path(__file__).with_name("RESULTS.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=[*BENCHES, "all"])
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    names = list(BENCHES) if args.name == "all" else [args.name]
    sections = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        lines = BENCHES[name]()
        for line in lines:
            print(line, flush=True)
        print(f"({time.monotonic() - started:.1f} s)\n", flush=True)
        sections.append((name, lines))
    if args.write:
        write_results(sections, " ".join(["python -m bench", *(argv or sys.argv[1:])]))
    return 0


def write_results(sections: list[tuple[str, list[str]]], command: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M")
    text = [
        "# Benchmark results",
        "",
        f"Latest run: {stamp}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}.",
        f"Command: `.venv/bin/{command.replace(' --write', '')}` (`--write` updates this file)",
        "",
    ]
    for name, lines in sections:
        text += [f"## {name}", "", "```", *lines, "```", ""]
    if RESULTS.exists() and len(sections) < len(BENCHES):
        old = RESULTS.read_text()
        kept = [s for s in old.split("\n## ")[1:] if s.split("\n", 1)[0] not in dict(sections)]
        text += ["## " + s.rstrip() + "\n" for s in kept]
    RESULTS.write_text("\n".join(text))


if __name__ == "__main__":
    sys.exit(main())
