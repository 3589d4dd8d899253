"""Background delivery: due messages go out while no Relaydesk window is open.

Where the desktop runs a systemd user manager, a oneshot service runs
``relaydesk outbox run`` and a timer starts it every minute (and shortly
after login). The run takes the outbox's sender lock, so it never sends
alongside another run, and claims items one by one like the GUI does, so it
never sends an item a window is sending. Exit 75 (something stays for a retry)
counts as success for systemd, so a retrying message does not mark the unit
failed; its next attempt simply waits for the timer after its backoff.

Without a systemd user session the fallback is the XDG autostart entry that
starts Relaydesk minimised at login (the same entry as "Start at login"), whose
outbox timer then sends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core import autostart
from app.core.errors import ConfigError, StorageError
from app.core.paths import default_paths

SERVICE = "relaydesk-sender.service"
TIMER = "relaydesk-sender.timer"
INTERVAL_SECONDS = 60
SYSTEMCTL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Status:
    """Whether background delivery is on, and how."""

    mode: str  # "systemd", "autostart" or "off"
    units: tuple[Path, ...]
    detail: str

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "mode": self.mode,
            "units": [str(p) for p in self.units],
            "detail": self.detail,
        }


def unit_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user``: where a user's own units live."""
    config = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"
    return base / "systemd" / "user"


def command() -> list[str]:
    """The command line the service runs: this same installation's ``outbox run``."""
    if getattr(sys, "frozen", False):  # a PyInstaller build: the executable is Relaydesk
        return [sys.executable, "outbox", "run"]
    return [sys.executable, "-m", "app", "outbox", "run"]


def _quote(argument: str) -> str:
    """One ExecStart word, quoted as systemd.service(5) reads it (% and $ doubled)."""
    escaped = argument.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("%", "%%").replace("$", "$$") + '"'


def service_text(argv: Sequence[str] | None = None) -> str:
    """The service unit: one outbox run, low priority, 75 counted as success."""
    exec_start = " ".join(_quote(a) for a in (argv or command()))
    home = os.environ.get("RELAYDESK_HOME")
    environment = f"Environment={_quote('RELAYDESK_HOME=' + home)}\n" if home else ""
    return (
        "[Unit]\n"
        "Description=Relaydesk background sender (sends due messages from the outbox)\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={exec_start}\n"
        f"{environment}"
        "SuccessExitStatus=75\n"
        "Nice=10\n"
    )


def timer_text() -> str:
    """The timer unit: shortly after login, then a minute after each run ends."""
    return (
        "[Unit]\n"
        "Description=Send Relaydesk's due messages every minute\n"
        "\n"
        "[Timer]\n"
        "OnStartupSec=30s\n"
        f"OnUnitInactiveSec={INTERVAL_SECONDS}s\n"
        "AccuracySec=10s\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def has_systemd_user() -> bool:
    """True when a systemd user manager answers (a desktop session with systemd)."""
    if shutil.which("systemctl") is None:
        return False
    try:
        done = subprocess.run(
            ["systemctl", "--user", "show-environment"],
            capture_output=True,
            timeout=SYSTEMCTL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _systemctl(*args: str) -> None:
    try:
        done = subprocess.run(
            ["systemctl", "--user", *args],
            capture_output=True,
            text=True,
            timeout=SYSTEMCTL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ConfigError(
            f"systemctl --user {' '.join(args)} did not run: {error}.",
            hint="Check that your session runs a systemd user manager.",
        ) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise ConfigError(
            f"systemctl --user {' '.join(args)} failed: {last}",
            hint="See `systemctl --user status relaydesk-sender.timer`.",
        )


def _paths() -> tuple[Path, Path]:
    directory = unit_dir()
    return directory / SERVICE, directory / TIMER


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as error:
        raise StorageError(
            f"Could not write {path}: {error.strerror or error}.",
            hint=f"Check that {path.parent} is writable.",
        ) from error


def install_units() -> tuple[Path, Path]:
    """Write the service and timer files (without enabling them); returns their paths."""
    service, timer = _paths()
    _write(service, service_text())
    _write(timer, timer_text())
    return service, timer


def enable(*, systemd: bool | None = None) -> Status:
    """Turn background delivery on: the systemd timer, else the autostart fallback."""
    if systemd is None:
        systemd = has_systemd_user()
    if not systemd:
        path = autostart.enable()
        _write(_fallback_marker(), "The autostart entry was turned on for background delivery.\n")
        return Status("autostart", (path,), _FALLBACK)
    install_units()
    _systemctl("daemon-reload")
    _systemctl("enable", "--now", TIMER)
    return status()


def disable() -> Status:
    """Turn background delivery off (stop and remove the units, or the autostart entry)."""
    service, timer = _paths()
    if timer.exists() or service.exists():
        if has_systemd_user():
            _systemctl("disable", "--now", TIMER)
        for path in (timer, service):
            path.unlink(missing_ok=True)
        if has_systemd_user():
            _systemctl("daemon-reload")
    elif _fallback_marker().exists():
        autostart.disable()
    _fallback_marker().unlink(missing_ok=True)
    return status()


def _fallback_marker() -> Path:
    """Says the autostart entry stands for background delivery, not only start at login."""
    return default_paths().config / "background-autostart"


_FALLBACK = (
    "No systemd user session: Relaydesk starts minimised at login and sends from there "
    "(the autostart entry)."
)


def status() -> Status:
    """Whether background delivery is on; cheap (reads files only, runs nothing)."""
    service, timer = _paths()
    wanted = unit_dir() / "timers.target.wants" / TIMER
    if timer.exists() and (wanted.exists() or wanted.is_symlink()):
        return Status(
            "systemd",
            (service, timer),
            f"The {TIMER} user unit runs `relaydesk outbox run` every minute.",
        )
    if autostart.is_enabled() and _fallback_marker().exists():
        return Status("autostart", (autostart.entry_path(),), _FALLBACK)
    return Status("off", (), "Due messages are sent only while Relaydesk is open.")
