# Replaces PyInstaller's own hook for PySide6.QtNetwork. Relaydesk uses QtNetwork only for
# QLocalServer/QLocalSocket (single instance); SMTP and its TLS go through Python's smtplib
# and ssl. So Qt's TLS backends and network-information plugins stay out of the bundle.
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

DROP_PLUGIN_DIRS = {"tls", "networkinformation", "bearer"}


def _wanted(entry: tuple[str, str]) -> bool:
    plugin_dir = entry[1].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return plugin_dir not in DROP_PLUGIN_DIRS


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [entry for entry in binaries if _wanted(entry)]
