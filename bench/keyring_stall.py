"""ui_stall rows for saving an account while the Secret Service answers slowly.

A real Secret Service (gnome-keyring on a private D-Bus, as in the tests) sits behind a
backend that waits ``DELAY`` seconds before each write — what a person sees when GNOME
asks them to unlock the keyring, or when the daemon is busy. Installed only here.
Relaydesk saves through ``AccountWorker`` on the worker base; the peer is the old way,
``changes.create_account`` called in a slot on the GUI thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import SecretService as SecretServiceBackend

from app.core.accounts import changes
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.paths import Paths
from app.core.store import Store
from app.qt import QTimer
from app.workers import account_worker
from app.workers.base import WorkerPool
from bench.gui import wait_until
from tests.support.secret_service import start_secret_service

DELAY = 2.0
TIMEOUT = 30.0
Measure = Callable[[str, Callable[[], str], list[str]], None]


class SlowKeyring(KeyringBackend):
    """The real Secret Service, answering each write after ``DELAY`` seconds."""

    priority = 1  # type: ignore[assignment]  # chosen by set_keyring, never by priority

    def __init__(self, inner: KeyringBackend) -> None:
        super().__init__()
        self._inner = inner

    def get_password(self, service: str, username: str) -> str | None:
        return self._inner.get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(DELAY)
        self._inner.set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._inner.delete_password(service, username)


@contextmanager
def slow_secret_service() -> Iterator[None]:
    """A private Secret Service behind ``SlowKeyring`` for the duration, then the old one."""
    service = start_secret_service()
    saved = {name: os.environ.get(name) for name in service.env}
    os.environ.update(service.env)
    previous = keyring.get_keyring()
    keyring.set_keyring(SlowKeyring(SecretServiceBackend.Keyring()))
    try:
        yield
    finally:
        keyring.set_keyring(previous)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        service.stop()


def _account(name: str) -> Account:
    return Account(
        name=name,
        email="a@example.com",
        host="127.0.0.1",
        port=2525,
        security=Security.STARTTLS,
        username="a@example.com",
        password_mode=PasswordMode.KEYRING,
    )


def save_in_gui(paths: Paths, pool: WorkerPool, name: str) -> str:
    """Relaydesk: the wizard's path, an AccountWorker on the worker base."""
    outcome: list[str] = []
    request = account_worker.AccountSave(
        account=_account(name), secret=changes.Secrets(password="bench-secret")
    )
    worker = account_worker.AccountWorker(account_worker.save(request), paths=paths)
    # These run on the worker's thread; appending to a list is all they do.
    worker.succeeded.connect(lambda account: outcome.append(f"saved {account.name}"))
    worker.failed.connect(lambda error: outcome.append(f"failed: {error.message}"))
    pool.start(worker, name="bench-save")
    assert wait_until(lambda: bool(outcome) and not pool.busy, TIMEOUT), "save did not end"
    return outcome[0]


def save_on_gui_thread(store: Store, name: str) -> str:
    """The old way: create_account (keyring write) straight from a slot on the GUI thread."""
    outcome: list[str] = []

    def on_timer_timeout() -> None:
        try:
            changes.create_account(
                store, _account(name), face="bench", secret=changes.Secrets(password="x")
            )
            outcome.append(f"saved {name}")
        except Exception as error:  # noqa: BLE001 - the peer only reports how it ended
            outcome.append(f"failed: {getattr(error, 'message', error)}")

    QTimer.singleShot(0, on_timer_timeout)
    assert wait_until(lambda: bool(outcome), TIMEOUT), "save did not end"
    return outcome[0]


def measure(paths: Paths, store: Store, probe: Measure, lines: list[str]) -> None:
    """Add the two rows: Relaydesk's save and the GUI-thread peer, same slow keyring."""
    pool = WorkerPool()
    with slow_secret_service():
        probe(
            f"Relaydesk save account, keyring {DELAY:.0f} s",
            lambda: save_in_gui(paths, pool, "saved-on-worker"),
            lines,
        )
        probe(
            f"peer: save in a slot, keyring {DELAY:.0f} s",
            lambda: save_on_gui_thread(store, "saved-in-slot"),
            lines,
        )
    pool.shutdown()
