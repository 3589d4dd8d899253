"""Ties the windows, the tray, the send path and the single-instance messages together.

Startup comes in two steps (issue 9): the window frame and the tray first, then, once the
window is on screen, what the first paint does not need — the send service, the pages and
the outbox runner. Modules of that second step are imported where they are first used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.core import settings
from app.core.errors import RelayError, SignInRequired
from app.core.paths import Paths
from app.core.store import Store
from app.qt import QObject, QTimer, QtWidgets, Slot
from app.ui.main_window import MainWindow
from app.ui.tray import NO_TRAY_MESSAGE, Tray
from app.ui.widgets import bring_to_front
from app.workers.base import wait_for_threads

if TYPE_CHECKING:
    from app.core.delivery.drafts import SavedDraft
    from app.core.delivery.outbox import SendResult
    from app.ui.compose.prefill import Prefill
    from app.ui.compose.quick_send import QuickSendDialog
    from app.ui.compose.sending import SendService
    from app.ui.compose.window import ComposeWindow
    from app.ui.outbox.runner import OutboxRunner

# When a shown window is never exposed (some window managers), finish starting anyway.
FINISH_AT_THE_LATEST_MS = 1000


class Controller(QObject):
    """The running application: one store on the GUI thread, one send service, the windows.

    ``paint_first``: build only the window frame now and the rest once it is on screen
    (or when something needs it); otherwise everything is ready when this returns.
    """

    # Set by finish_startup.
    service: SendService
    runner: OutboxRunner

    def __init__(
        self,
        paths: Paths | None = None,
        *,
        run_outbox: bool = True,
        on_quit: Callable[[], None] | None = None,
        paint_first: bool = False,
    ) -> None:
        super().__init__()
        self.paths = paths
        self._on_quit = on_quit or QtWidgets.QApplication.quit
        self._run_outbox = run_outbox
        self.store = Store.open(paths)
        self.window = MainWindow()
        self.window.paths = paths
        self.tray = Tray(self)
        self.quick_send: QuickSendDialog | None = None
        self.compose_windows: list[ComposeWindow] = []
        self._signin_dialogs: dict[str, QtWidgets.QDialog] = {}
        self.ready = False
        self._closed = False
        self._wire()
        if not self.tray.available:
            self.window.statusBar().showMessage(NO_TRAY_MESSAGE, 20000)
        if paint_first:
            self.window.first_exposed.connect(self.finish_startup)
        else:
            self.finish_startup()

    def _wire(self) -> None:
        w, t = self.window, self.tray
        w.close_requested.connect(self.on_window_close_requested)
        w.quit_requested.connect(self.quit)
        w.new_message_requested.connect(self.on_new_message_requested)
        w.quick_send_requested.connect(self.show_quick_send)
        w.settings_requested.connect(self.on_settings_requested)
        t.quick_send_requested.connect(self.show_quick_send)
        t.open_requested.connect(self.show_window)
        t.pause_toggled.connect(self.on_tray_pause_toggled)
        t.quit_requested.connect(self.quit)

    @Slot()
    def finish_startup(self) -> None:
        """Build the send service, the pages and the outbox runner (once; idempotent)."""
        if self.ready or self._closed:
            return
        from app.ui.compose.sending import SendService
        from app.ui.outbox.runner import OutboxRunner

        self.ready = True
        self.service = s = SendService(self.store, self.paths)
        self.window.add_pages(self.store, s)
        interval = int(settings.get(self.store, "retry_interval"))  # declared as int
        self.runner = OutboxRunner(self.store, s, interval)
        w = self.window
        w.history.send_again.connect(self.on_history_send_again)
        w.outbox.retry_requested.connect(self.on_outbox_retry_requested)
        w.outbox.edit_requested.connect(self.on_outbox_edit_requested)
        s.paused_changed.connect(self.tray.set_paused)
        s.paused_changed.connect(w.refresh_status)
        s.sent.connect(self.on_service_sent)
        s.problem.connect(self.on_service_problem)
        from app.ui.notifications import DesktopNotifications

        self.notifications = DesktopNotifications(self)
        self.notifications.clicked.connect(self.on_notification_clicked)
        if self._run_outbox:
            self.runner.start()
        self.restore_drafts()

    def restore_drafts(self) -> None:
        """Messages being written when Relaydesk last stopped (a crash, a power cut)."""
        from app.core.delivery import drafts

        kept = [saved for saved in drafts.saved(self.store) if not saved.empty]
        for saved in kept:
            self.open_compose(restored=saved)
        if kept:
            many = "messages" if len(kept) > 1 else "message"
            self.window.statusBar().showMessage(
                f"Restored {len(kept)} unsent {many} from last time.", 15000
            )

    # -- what the outside asks for ----------------------------------------------------
    def start(self, message: str = "activate") -> None:
        """First launch: show what was asked for (the window unless minimised to a tray)."""
        minimised = message == "minimised" or settings.get(self.store, "start_minimised")
        if message in ("activate", "minimised"):
            if minimised and self.tray.available:
                self.finish_startup()  # nothing to paint: the outbox runner starts now
                return
            self.window.showMinimized() if minimised else self.window.show()
        elif not self.tray.available:
            self.window.show()
        if not self.window.isVisible() or self.window.isMinimized():
            self.finish_startup()  # nothing is painted now, so nothing to wait for
        elif not self.ready:
            QTimer.singleShot(FINISH_AT_THE_LATEST_MS, self.finish_startup)
        self.handle_message(message)

    @Slot(str)
    def handle_message(self, message: str) -> None:
        """A line from a second launch: "activate", "quick-send" or a mailto: URL."""
        if message == "quick-send":
            self.show_quick_send()
        elif message.startswith("mailto:"):
            self.open_mailto(message)
        elif message != "minimised":  # autostart while already running: stay out of the way
            self.show_window()

    def open_mailto(self, url: str) -> None:
        """Compose prefilled from a mailto: link; a malformed link is explained, not opened."""
        from app.ui.compose import prefill

        try:
            draft = prefill.from_mailto(url)
        except RelayError as error:
            self.show_window()
            QtWidgets.QMessageBox.warning(
                self.window, "Cannot open this mail link", f"{error.message}\n\n{error.hint}"
            )
            return
        self.open_compose(draft)

    @Slot()
    def show_window(self) -> None:
        self.window.bring_to_front()

    @Slot()
    def show_quick_send(self) -> None:
        from app.ui.compose.quick_send import QuickSendDialog

        self.finish_startup()
        if self.quick_send is None:
            self.quick_send = QuickSendDialog(self.store, self.service)
        self.quick_send.reload_accounts()
        bring_to_front(self.quick_send)

    def open_compose(
        self,
        values: Prefill | None = None,
        replaces: int | None = None,
        restored: SavedDraft | None = None,
    ) -> ComposeWindow:
        from app.ui.compose.window import ComposeWindow

        self.finish_startup()
        self.compose_windows = [c for c in self.compose_windows if c.isVisible()]
        window = ComposeWindow(
            self.store, self.service, values, replaces=replaces, restored=restored
        )
        self.compose_windows.append(window)
        window.show()
        return window

    # -- slots -----------------------------------------------------------------------
    @Slot()
    def on_new_message_requested(self) -> None:
        self.open_compose()

    @Slot(bool)
    def on_tray_pause_toggled(self, paused: bool) -> None:
        self.finish_startup()
        self.service.set_paused(paused)

    @Slot(int)
    def on_history_send_again(self, entry_id: int) -> None:
        from app.ui.compose import prefill

        values = prefill.from_history(self.store, entry_id)
        if values is not None:
            self.open_compose(values)

    @Slot(int, str)
    def on_outbox_retry_requested(self, item_id: int, account: str) -> None:
        try:
            self.service.send_item(item_id, account, self.window)
        except RelayError as error:
            self.window.statusBar().showMessage(f"{error.message} {error.hint}", 10000)

    @Slot(int)
    def on_outbox_edit_requested(self, item_id: int) -> None:
        from app.ui.compose import prefill

        try:
            values = prefill.from_outbox(self.store, item_id)
        except RelayError as error:
            self.window.statusBar().showMessage(error.message, 10000)
            return
        self.open_compose(values, replaces=item_id)

    @Slot()
    def on_settings_requested(self) -> None:
        self.finish_startup()
        from app.ui.settings.dialog import SettingsDialog

        dialog = SettingsDialog(self.store, self.window)
        if dialog.exec():
            self.window.accounts.reload()
            self.window.compose.reload_accounts()

    @Slot()
    def on_window_close_requested(self) -> None:
        if self.tray.available and settings.get(self.store, "close_to_tray"):
            self.window.hide()
        else:
            self.quit()  # asks first when messages would stay unsent

    @Slot(object)
    def on_service_sent(self, result: SendResult) -> None:
        from app.core.wording import sent_line

        text = sent_line(result.accepted, result.refused)
        self._notify("Message sent", text, problem=False, target=f"history:{result.item_id}")

    @Slot(object, object)
    def on_service_problem(self, result: SendResult | None, error: RelayError) -> None:
        title = (
            "Message not sent"
            if result is None or result.state.value == "failed"
            else "Message waiting in the outbox"
        )
        target = f"outbox:{result.item_id}" if result is not None else "outbox:"
        self._notify(title, f"{error.message} {error.hint}", problem=True, target=target)
        account = error.details.get("account")
        if isinstance(error, SignInRequired) and isinstance(account, str):
            self.offer_sign_in(account)

    def offer_sign_in(self, account: str) -> None:
        """The sign-in is gone: offer "Sign in with …" at once (the message waits)."""
        from app.core.accounts.oauth2 import config as oauth2_config
        from app.ui.wizard.oauth_signin import SignInAgainDialog

        settings = oauth2_config.load(self.store, account)
        open_dialogs = self._signin_dialogs
        if settings is None or (account in open_dialogs and open_dialogs[account].isVisible()):
            return
        dialog = SignInAgainDialog(account, settings, self.window, paths=self.paths)
        dialog.accepted.connect(self.on_signed_in_again)
        open_dialogs[account] = dialog
        dialog.show()

    @Slot()
    def on_signed_in_again(self) -> None:
        if self.ready:
            self.window.accounts.reload()
        if self._run_outbox and self.ready:
            self.runner.run_due()  # the messages that waited for the sign-in

    def _notify(self, title: str, text: str, *, problem: bool, target: str = "") -> None:
        """The desktop's notification service first (no tray needed), else the tray's
        bubble; the status bar always says it too, for whoever is looking at the window."""
        self.window.statusBar().showMessage(f"{title}: {text}", 10000)
        if not settings.get(self.store, "notifications"):
            return
        if not self.notifications.notify(title, text, problem=problem, target=target):
            self.tray.notify(title, text, problem=problem)

    @Slot(str)
    def on_notification_clicked(self, target: str) -> None:
        """Open what the notification was about: the sent message, or the one waiting."""
        page, _, number = target.partition(":")
        self.show_window()
        if page == "history":
            self.window.show_page(1)
            if number:
                self.window.history.select_outbox_item(int(number))
        elif page == "outbox":
            self.window.show_page(2)
            if number:
                self.window.outbox.select_item(int(number))

    # -- leaving ---------------------------------------------------------------------
    def confirm_quit(self) -> bool:
        """Ask about unsent drafts and pending messages; True when nothing stops the quit."""
        if not self.ready:
            return True  # no page, no compose window: nothing can have been typed
        from app.ui.compose.window import confirm_discard
        from app.ui.quit_prompt import QuitChoice, ask_about_pending

        forms = [self.window.compose] + [c.form for c in self.compose_windows if c.isVisible()]
        if not all(confirm_discard(self.window, form) for form in forms if form.has_content()):
            return False
        choice = ask_about_pending(self.window, self.store, tray=self.tray.available)
        if choice is QuitChoice.BACKGROUND and not self._enable_background():
            return False
        if choice is QuitChoice.KEEP_RUNNING:
            self.keep_running()
            return False
        if choice in (QuitChoice.QUIT, QuitChoice.BACKGROUND):
            for form in forms:
                form.close_down(keep=False)  # nothing to restore: the person chose to quit
            return True
        return False

    def _enable_background(self) -> bool:
        """Turn background delivery on; False (after saying why) when it could not be."""
        from app.core.delivery import background

        try:
            background.enable()
        except RelayError as error:
            QtWidgets.QMessageBox.warning(
                self.window, "Background delivery", f"{error.message}\n\n{error.hint}"
            )
            return False
        return True

    def keep_running(self) -> None:
        """Stay alive to send: in the tray when there is one, else as a minimised window."""
        if self.tray.available:
            self.window.hide()
            self.tray.notify("Relaydesk keeps sending", "Quit from the tray menu when done.")
        else:
            self.window.showMinimized()

    @Slot()
    def quit(self) -> None:
        if not self.confirm_quit():
            return
        self.shutdown()
        self._on_quit()

    def shutdown(self) -> None:
        """Stop sends before their final dot (they stay queued), wait for threads, close."""
        if self._closed:
            return
        self._closed = True
        self.window.stop_timers()
        if self.ready:
            forms = [self.window.compose] + [c.form for c in self.compose_windows]
            for form in forms:
                form.close_down(keep=True)  # a logout or shutdown: offered again next time
            self.runner.stop()
            self.service.shutdown()
            self.notifications.shutdown()
            self.window.accounts.shutdown()
        wait_for_threads()
        self.tray.hide()
        for window in [*self.compose_windows, self.quick_send, self.window]:
            if window is not None:
                window.hide()
        self.store.close()
