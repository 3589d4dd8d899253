"""Desktop integration files and autostart: fast checks, no package build."""

from __future__ import annotations

import configparser
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as ElementTree
import pytest

from app import __version__
from app.core import autostart

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "io.github.relaydesk.Relaydesk"
DESKTOP = ROOT / "app" / "resources" / f"{APP_ID}.desktop"
METAINFO = ROOT / "app" / "resources" / f"{APP_ID}.metainfo.xml"


def _desktop_entry(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(path, encoding="utf-8")
    return parser


def test_desktop_file_opens_mailto_links_and_offers_quick_send() -> None:
    entry = _desktop_entry(DESKTOP)
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application"
    assert main["Exec"] == "relaydesk %u"  # %u: the mailto: URL is handed to relaydesk
    assert "x-scheme-handler/mailto" in main["MimeType"].split(";")
    assert main["Icon"] == APP_ID
    assert {"Network", "Email"} <= set(main["Categories"].split(";"))
    assert main["Keywords"].endswith(";") and "smtp" in main["Keywords"].split(";")
    assert main["StartupWMClass"] == "relaydesk"
    assert "QuickSend" in main["Actions"].split(";")
    assert entry["Desktop Action QuickSend"]["Exec"] == "relaydesk --quick-send"
    assert entry["Desktop Action QuickSend"]["Name"]


def _metainfo() -> Element:
    return ElementTree.parse(METAINFO).getroot()


def test_metainfo_describes_the_app_and_its_launcher() -> None:
    root = _metainfo()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("name") == "Relaydesk"
    assert root.findtext("summary")
    assert root.find("description/p") is not None
    assert root.findtext("developer/name") or root.findtext("developer_name")
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert root.findtext("provides/binary") == "relaydesk"
    assert root.findtext("url[@type='homepage']", "").startswith("https://")
    assert root.find("content_rating") is not None
    images = [image.text or "" for image in root.iter("image")]
    assert len(images) >= 2
    assert all(i.startswith("https://") and "/docs/screenshots/" in i for i in images)


def test_metainfo_newest_release_is_the_app_version() -> None:
    releases = _metainfo().findall("releases/release")
    assert releases, "metainfo has no <release>"
    assert releases[0].get("version") == __version__
    assert releases[0].get("date")


def test_app_icon_is_an_svg() -> None:
    icon = ROOT / "app" / "resources" / "icons" / "relaydesk.svg"
    root = ElementTree.parse(icon).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox")


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_autostart_entry_is_written_and_removed(config_home: Path) -> None:
    path = config_home / "autostart" / f"{APP_ID}.desktop"
    assert not autostart.is_enabled()

    assert autostart.enable() == path
    assert autostart.is_enabled()
    entry = _desktop_entry(path)["Desktop Entry"]
    assert entry["Exec"] == "relaydesk --minimised"
    assert entry["Type"] == "Application"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind

    autostart.enable()  # idempotent
    assert autostart.disable() is True
    assert not path.exists()
    assert autostart.disable() is False


def test_autostart_set_enabled_follows_the_setting(config_home: Path) -> None:
    autostart.set_enabled(True)
    assert autostart.is_enabled()
    autostart.set_enabled(False)
    assert not autostart.is_enabled()


def test_autostart_without_xdg_config_home_uses_dot_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert autostart.entry_path() == tmp_path / ".config" / "autostart" / f"{APP_ID}.desktop"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/path")  # invalid per the spec: ignored
    assert autostart.autostart_dir() == tmp_path / ".config" / "autostart"


def test_autostart_reports_an_unwritable_dir(config_home: Path) -> None:
    from app.core.errors import StorageError

    # A file where the folder should be: unwritable even for root.
    config_home.write_text("not a folder", encoding="utf-8")
    with pytest.raises(StorageError) as caught:
        autostart.enable()
    assert str(config_home) in caught.value.hint
