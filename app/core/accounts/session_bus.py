"""Find the D-Bus session bus when nobody told us where it is.

MCP clients, cron and systemd services start programs with a minimal
environment (the MCP SDK passes only HOME, LOGNAME, PATH, SHELL, TERM and USER),
so ``DBUS_SESSION_BUS_ADDRESS`` is missing although the user's session bus is
running at its standard place. libdbus and sd-bus then look for the socket at
``$XDG_RUNTIME_DIR/bus``, i.e. ``/run/user/<uid>/bus``; the keyring library does
not, so we do the same lookup before the keyring is first used.
"""

from __future__ import annotations

import os
import stat
from collections.abc import MutableMapping
from pathlib import Path

ADDRESS_VARIABLE = "DBUS_SESSION_BUS_ADDRESS"


def _candidates(env: MutableMapping[str, str]) -> list[Path]:
    found = []
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime:
        found.append(Path(runtime) / "bus")
    if hasattr(os, "getuid"):
        found.append(Path("/run/user") / str(os.getuid()) / "bus")
    return found


def _is_own_socket(path: Path) -> bool:
    """A Unix socket that belongs to us (another user's bus would refuse us anyway)."""
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()


def find_session_bus(env: MutableMapping[str, str] | None = None) -> str | None:
    """Set ``DBUS_SESSION_BUS_ADDRESS`` from the standard socket when it is unset.

    Returns the address now in the environment (None when there is none). An
    address that is already set is never replaced.
    """
    env = os.environ if env is None else env
    if env.get(ADDRESS_VARIABLE):
        return env[ADDRESS_VARIABLE]
    if not hasattr(os, "getuid"):  # not a Unix with a session bus socket
        return None
    for path in _candidates(env):
        if _is_own_socket(path):
            env[ADDRESS_VARIABLE] = f"unix:path={path}"
            return env[ADDRESS_VARIABLE]
    return None
