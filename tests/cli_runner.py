"""Run the real `relaydesk` entry point in a subprocess, as a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """``cli("account", "list", "--json")`` → Run; env carries RELAYDESK_HOME and the keyring."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def __call__(self, *args: str, stdin: str | bytes | None = None, timeout: float = 60) -> Run:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        completed = subprocess.run(
            [sys.executable, "-m", "app", *args],
            input=data if data is not None else b"",
            capture_output=True,
            env=self.env,
            cwd=REPO,
            timeout=timeout,
            check=False,
        )
        return Run(
            completed.returncode,
            completed.stdout.decode("utf-8", "replace"),
            completed.stderr.decode("utf-8", "replace"),
        )


def cli_env(base: dict[str, str] | None, home: Path) -> dict[str, str]:
    env = dict(base if base is not None else os.environ)
    env["RELAYDESK_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    return env
