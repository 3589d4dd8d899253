"""Sends queued and due retrying items in the background; respects Pause.

It lives in the GUI thread and only decides *when*: each send runs on a SendWorker.
"""

from __future__ import annotations

import time

from app.core.accounts import model as accounts
from app.core.accounts.model import PasswordMode
from app.core.accounts.oauth2 import config as oauth2_config
from app.core.delivery import outbox
from app.core.errors import RelayError
from app.core.store import Store
from app.qt import QObject, QTimer, Slot
from app.ui.compose.sending import SendService

AT_ONCE = 4  # background sends in flight; each is a thread and a connection


class OutboxRunner(QObject):
    """Wakes every ``interval`` seconds, at the next due time, and when the outbox changes."""

    def __init__(self, store: Store, service: SendService, interval: int = 30) -> None:
        super().__init__()
        self._store, self._service = store, service
        self._interval_ms = max(5, interval) * 1000
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run_due)
        # While a window sends, a background run (`relaydesk background`) stands aside.
        self._lock = outbox.SenderLock(store)
        service.outbox_changed.connect(self.on_service_outbox_changed)
        service.paused_changed.connect(self.on_service_outbox_changed)

    def start(self) -> None:
        outbox.recover(self._store)  # items a crashed run left "sending"
        self._timer.start(0)

    def stop(self) -> None:
        self._timer.stop()
        self._lock.release()

    @Slot()
    def on_service_outbox_changed(self) -> None:
        if self._timer.isActive():
            self._timer.start(min(self._timer.remainingTime(), 1000))

    @Slot()
    def run_due(self) -> None:
        """Start a send for every due item that is not already being sent."""
        if (
            not self._service.paused
            and not self._service.preparing
            and self._lock.try_acquire()  # False: a background run is sending right now
        ):
            active = self._service.active_items()
            for item_id in outbox.due_items(self._store, limit=AT_ONCE + len(active)):
                if len(active) >= AT_ONCE:
                    break  # a merge run may queue thousands: the rest go on the next wake
                if item_id not in active:
                    self._start(item_id)
                    active.add(item_id)
        self._timer.start(self._next_wake_ms())

    def _start(self, item_id: int) -> None:
        try:
            item = outbox.get_item(self._store, item_id)
            account = accounts.get_account(self._store, item.account)
        except RelayError:
            return  # discarded meanwhile, or its account is gone: the outbox view shows it
        if account.password_mode is PasswordMode.ASK and not self._service.passwords.get(
            account.name
        ):
            return  # never pop up a password dialog unasked; "Retry now" will ask
        if account.password_mode is PasswordMode.OAUTH2 and oauth2_config.needs_signin(
            self._store, account.name
        ):
            return  # waits for "Sign in again"; retrying now would only fail the same way
        self._service.send_item(item_id, account.name, quiet=True)

    def _next_wake_ms(self) -> int:
        soonest = outbox.next_due_at(self._store)  # one query, even for a big merge run
        if soonest is None:
            return self._interval_ms
        wait_ms = int((soonest - time.time()) * 1000) + 100
        return max(1000, min(self._interval_ms, wait_ms))
