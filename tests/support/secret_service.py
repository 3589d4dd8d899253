"""A real, private Secret Service for tests: its own D-Bus session bus and gnome-keyring."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

SECRETS_NAME = "org.freedesktop.secrets"
KEYRING_PASSWORD = "relaydesk-test-login"
START_TIMEOUT = 10.0

# A session bus with no service directories: nothing can be D-Bus-activated behind our back,
# so a gnome-keyring we did not start (and could not stop) never appears.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

ENV_DIRS = {
    "HOME": "home",
    "XDG_DATA_HOME": "data",
    "XDG_CONFIG_HOME": "config",
    "XDG_CACHE_HOME": "cache",
    "XDG_RUNTIME_DIR": "run",
}


def make_user_dirs(root: Path) -> dict[str, str]:
    """Create HOME and XDG_* dirs (0700) under root and return them as env variables."""
    env = {}
    for name, sub in ENV_DIRS.items():
        path = root / sub
        path.mkdir(mode=0o700, exist_ok=True)
        env[name] = str(path)
    return env


@dataclass
class SecretService:
    root: Path
    env: dict[str, str]  # HOME, XDG_*, DBUS_SESSION_BUS_ADDRESS to apply to a process
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        """Stop gnome-keyring, then the bus (newest first), reap them and remove the dir."""
        while self._processes:
            process = self._processes.pop()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_for_name(env: dict[str, str], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with open_dbus_connection(env["DBUS_SESSION_BUS_ADDRESS"]) as connection:
        while time.monotonic() < deadline:
            reply = connection.send_and_get_reply(message_bus.NameHasOwner(SECRETS_NAME))
            if reply.body[0]:
                return
            if process.poll() is not None:
                raise RuntimeError(f"gnome-keyring-daemon exited with {process.returncode}")
            time.sleep(0.01)
    raise TimeoutError(f"{SECRETS_NAME} did not appear within {START_TIMEOUT} s")


def start_secret_service(
    bus_socket: Path | None = None, *, bus_in_runtime_dir: bool = False
) -> SecretService:
    """Start dbus-daemon and an unlocked gnome-keyring (secrets component) in a fresh home.

    The root is a short directory under /tmp because D-Bus and gnome-keyring sockets live
    there and Unix socket paths are limited to 108 bytes. Logs go to root/*.log. The bus
    listens on ``bus_socket`` when given (e.g. /run/user/<uid>/bus, where a desktop
    login has it), in its own $XDG_RUNTIME_DIR/bus with ``bus_in_runtime_dir``, else on
    root/bus.
    """
    root = Path(tempfile.mkdtemp(prefix="rd-ss-"))
    service = SecretService(root=root, env=make_user_dirs(root))
    try:
        if bus_in_runtime_dir:
            bus_socket = Path(service.env["XDG_RUNTIME_DIR"]) / "bus"
        _start_processes(service, bus_socket or root / "bus")
    except BaseException:
        service.stop()
        raise
    return service


def _start_processes(service: SecretService, bus_socket: Path) -> None:
    root = service.root
    config = root / "bus.conf"
    config.write_text(_BUS_CONFIG.format(socket=bus_socket))
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env = base_env | service.env

    with open(root / "dbus.log", "wb") as log:
        bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
        )
    service._processes.append(bus)
    assert bus.stdout is not None
    with bus.stdout:
        address = bus.stdout.readline().decode().strip()
    if not address:
        raise RuntimeError(f"dbus-daemon printed no address; see {root / 'dbus.log'}")
    service.env["DBUS_SESSION_BUS_ADDRESS"] = address
    env["DBUS_SESSION_BUS_ADDRESS"] = address

    # --foreground keeps the daemon our child so teardown can stop and reap it.
    with open(root / "gnome-keyring.log", "wb") as log:
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            env=env,
        )
    service._processes.append(keyring_daemon)
    assert keyring_daemon.stdin is not None
    with keyring_daemon.stdin:
        with contextlib.suppress(BrokenPipeError):
            keyring_daemon.stdin.write(KEYRING_PASSWORD.encode())
    _wait_for_name(env, keyring_daemon)


def no_keyring_env(root: Path) -> dict[str, str]:
    """Env variables for a session with no usable keyring (bus address points nowhere)."""
    env = make_user_dirs(root)
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={root / 'no-such-bus'}"
    return env
