"""`relaydesk` without a command: start the window, or hand the request to the running one."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app.core.errors import RelayError
from app.core.paths import default_paths
from app.qt import QtWidgets
from app.ui import crash_handler
from app.ui.gui_gc import GuiThreadCollector
from app.ui.icons import app_icon
from app.ui.single_instance import SingleInstance


def message_for(argv: Sequence[str]) -> str:
    """What this launch asks for: "activate", "minimised", "quick-send" or a mailto: URL."""
    for arg in argv:
        if arg.startswith("--quick-send"):
            return "quick-send"
        if arg.lower().startswith("mailto:"):
            return arg
        if arg == "--minimised":
            return "minimised"  # the autostart entry: start in the tray, don't pop up
    return "activate"


def make_application() -> QtWidgets.QApplication:
    """The QApplication with Relaydesk's name and icon (reused if one exists)."""
    app = QtWidgets.QApplication.instance()
    if not isinstance(app, QtWidgets.QApplication):
        app = QtWidgets.QApplication([sys.argv[0] if sys.argv else "relaydesk"])
    app.setApplicationName("relaydesk")
    app.setApplicationDisplayName("Relaydesk")
    app.setOrganizationName("Relaydesk")
    app.setDesktopFileName("io.github.relaydesk.Relaydesk")  # matches resources/*.desktop
    app.setWindowIcon(app_icon())
    return app


def run_gui(argv: Sequence[str]) -> int:
    """Run the desktop app until it quits; returns the process exit code."""
    from app.ui.controller import Controller  # imports the window frame: only when needed

    message = message_for(argv)
    app = make_application()
    paths = default_paths()
    instance = SingleInstance(paths.state)
    if not instance.claim():
        if instance.send(message):
            return 0
        print(
            "relaydesk: another Relaydesk is running but does not answer; "
            f"if it crashed, remove {paths.state / 'relaydesk.lock'} and try again.",
            file=sys.stderr,
        )
        return 75
    try:
        controller = Controller(paths, paint_first=True)
    except RelayError as error:
        instance.release()
        print(f"relaydesk: {error.message} {error.hint}", file=sys.stderr)
        return int(error.exit_code)
    crash_handler.install(lambda: QtWidgets.QApplication.activeWindow())
    collector = GuiThreadCollector(app)
    collector.start()
    instance.message_received.connect(controller.handle_message)
    app.setQuitOnLastWindowClosed(False)  # the controller decides when to quit
    app.aboutToQuit.connect(controller.shutdown)
    controller.start(message)
    try:
        return app.exec()
    finally:
        controller.shutdown()
        collector.stop()
        instance.release()
