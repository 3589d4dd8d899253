"""The README and the AppStream metainfo show screenshots that exist in docs/screenshots."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"


def test_every_shown_screenshot_is_shipped() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    metainfo = (ROOT / "app/resources/io.github.relaydesk.Relaydesk.metainfo.xml").read_text()
    named = re.findall(r"docs/screenshots/([\w.-]+\.png)", readme + metainfo)
    assert len(set(named)) >= 7
    missing = [name for name in named if not (SHOTS / name).is_file()]
    assert missing == []


def test_scripted_shots_cover_what_a_new_user_meets() -> None:
    names = {path.stem for path in SHOTS.glob("*.png")}
    for wanted in ("first-launch", "setup", "certificate-trust", "compose", "outbox-waiting",
                   "history", "settings", "notification"):  # fmt: skip
        assert any(wanted in name for name in names), wanted
