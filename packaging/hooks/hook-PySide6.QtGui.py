# Replaces PyInstaller's own hook for PySide6.QtGui (hooks in the spec's hookspath win)
# so that Qt plugins Relaydesk does not need are dropped BEFORE PyInstaller follows their
# shared-library dependencies. Dropping them afterwards would still bundle what they link
# (the GTK 3 platform theme alone drags in GTK, GDK, ATK, cairo and pango, about 15 MB).
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# Plugin directory -> plugin files kept; a directory not listed is kept whole.
KEEP = {
    # xcb for X11, wayland for Wayland sessions, offscreen for headless runs and CI.
    "platforms": {"libqxcb.so", "libqwayland.so", "libqoffscreen.so"},
    # The portal theme gives native file dialogs; gtk3 would bundle a private GTK.
    "platformthemes": {"libqxdgdesktopportal.so"},
    # The SVG app icon; ICO/JPEG/GIF are common in attachments and signatures.
    "imageformats": {"libqsvg.so", "libqico.so", "libqjpeg.so", "libqgif.so"},
    # eglfs/linuxfb/evdev serve kiosk devices without a window system.
    "egldeviceintegrations": set(),
    "generic": set(),
}


def _wanted(entry: tuple[str, str]) -> bool:
    source, dest = entry
    plugin_dir = dest.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if "/plugins/" not in f"/{dest}/" or plugin_dir not in KEEP:
        return True
    return source.rsplit("/", 1)[-1] in KEEP[plugin_dir]


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [entry for entry in binaries if _wanted(entry)]
