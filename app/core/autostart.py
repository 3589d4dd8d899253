"""Start at login: the XDG autostart entry (``$XDG_CONFIG_HOME/autostart``).

The desktop session starts every ``.desktop`` file in that directory at login. Relaydesk
writes its own entry there when the person ticks "start in tray at login" and removes it
when they untick it; the packaged ``.desktop`` file is never touched.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.core.errors import StorageError

APP_ID = "io.github.relaydesk.Relaydesk"
ENTRY_NAME = f"{APP_ID}.desktop"
COMMAND = "relaydesk --minimised"

_ENTRY = f"""[Desktop Entry]
Type=Application
Name=Relaydesk
Comment=Send mail through your own SMTP account
Exec={COMMAND}
Icon={APP_ID}
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
"""


def autostart_dir() -> Path:
    """``$XDG_CONFIG_HOME/autostart``, or ``~/.config/autostart`` (XDG Base Directory)."""
    config = os.environ.get("XDG_CONFIG_HOME", "")
    # The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"
    return base / "autostart"


def entry_path() -> Path:
    """Where Relaydesk's autostart entry lives."""
    return autostart_dir() / ENTRY_NAME


def is_enabled() -> bool:
    """True when Relaydesk's autostart entry exists."""
    return entry_path().is_file()


def enable() -> Path:
    """Write the autostart entry (start minimised to the tray at login); returns its path."""
    path = entry_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{ENTRY_NAME}.tmp")
        temporary.write_text(_ENTRY, encoding="utf-8")
        temporary.replace(path)  # a half-written entry would confuse the session
    except OSError as error:
        raise StorageError(
            f"Could not turn on start at login: {error.strerror or error}.",
            hint=f"Check that {path.parent} is writable.",
        ) from error
    return path


def disable() -> bool:
    """Remove the autostart entry; returns whether there was one."""
    path = entry_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StorageError(
            f"Could not turn off start at login: {error.strerror or error}.",
            hint=f"Remove {path} by hand.",
        ) from error
    return True


def set_enabled(enabled: bool) -> None:
    """Write or remove the entry to match the setting."""
    if enabled:
        enable()
    else:
        disable()
