"""Where Relaydesk keeps its files (platformdirs, or RELAYDESK_HOME for everything)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "relaydesk"


@dataclass(frozen=True)
class Paths:
    """The directories Relaydesk writes to."""

    config: Path
    data: Path
    state: Path

    @property
    def database(self) -> Path:
        return self.data / "relaydesk.sqlite3"

    @property
    def spool(self) -> Path:
        return self.data / "spool"

    def ensure(self) -> None:
        """Create the directories, private to this user (0700)."""
        for directory in (self.config, self.data, self.state):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)


def default_paths() -> Paths:
    """RELAYDESK_HOME=DIR puts everything under DIR; otherwise the platform's dirs."""
    home = os.environ.get("RELAYDESK_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(config=root / "config", data=root / "data", state=root / "state")
    return Paths(
        config=Path(platformdirs.user_config_dir(APP_NAME)),
        data=Path(platformdirs.user_data_dir(APP_NAME)),
        state=Path(platformdirs.user_state_dir(APP_NAME)),
    )
