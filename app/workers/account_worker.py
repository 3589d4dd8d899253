"""Account changes off the GUI thread: save a new account, save an edit, remove one.

Each change writes the keyring (a password, OAuth2 tokens, a client secret), and on
GNOME the first keyring access may wait for an "unlock keyring" prompt, or for 25 s
on a Secret Service that does not answer. ``AccountWorker`` runs one core use case
(``app.core.accounts.changes``) on its own thread with its own store connection and
speaks only through signals; ``AccountChanges`` runs it for a window, which shows that
it is busy meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from app.core.accounts import changes
from app.core.accounts.model import Account, PasswordMode
from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.accounts.oauth2.http import TokenSet
from app.core.accounts.oauth2.signin import finish_sign_in
from app.core.errors import RelayError
from app.core.paths import Paths
from app.core.store import Store
from app.qt import QObject, Signal, Slot
from app.workers.base import Worker, WorkerPool

FACE = "gui"
Job = Callable[[Store], object]


@dataclass(frozen=True)
class AccountSave:
    """What a window collected to store one account; secrets stay in memory only."""

    account: Account
    original: Account | None = None  # None: a new account
    secret: changes.Secrets = field(default_factory=changes.Secrets)
    oauth2: OAuth2Settings | None = None
    tokens: TokenSet | None = None  # a sign-in made in the window, kept with the account
    detail: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show a password or token in a log or a test failure
        return f"AccountSave({self.account.name!r}, new={self.original is None})"


def _save(request: AccountSave, store: Store) -> Account:
    if request.original is None:
        account = changes.create_account(
            store,
            request.account,
            face=FACE,
            secret=request.secret,
            oauth2=request.oauth2,
            detail=request.detail,
        )
    else:
        account = changes.update_account(
            store,
            request.original,
            request.account,
            face=FACE,
            secret=request.secret,
            oauth2=request.oauth2,
            detail=request.detail,
        )
    if request.tokens is not None and account.password_mode is PasswordMode.OAUTH2:
        finish_sign_in(store, account.name, request.tokens, face=FACE)
    return account


def _remove(name: str, store: Store) -> tuple[Account, bool]:
    return changes.remove_account(store, name, face=FACE)


def save(request: AccountSave) -> Job:
    """The job that stores ``request`` (a new account, or an edit of ``original``)."""
    return partial(_save, request)


def remove(name: str) -> Job:
    """The job that removes account ``name``, its password and its tokens."""
    return partial(_remove, name)


class AccountWorker(Worker):
    """Runs one account change; ``succeeded(result)`` or ``failed(RelayError)``, then ``done``.

    The result is the use case's own: the stored ``Account`` for a save, ``(Account, a
    secret was removed)`` for a removal.
    """

    succeeded = Signal(object)
    failed = Signal(object)  # app.core.errors.RelayError, with what to do in its hint

    def __init__(self, job: Job, *, paths: Paths | None = None) -> None:
        super().__init__()
        self._job = job
        self._paths = paths

    def work(self) -> None:
        try:
            with Store.open(self._paths) as store:  # this thread's own connection
                result = self._job(store)
        except RelayError as error:
            self.failed.emit(error)
            return
        except Exception as error:  # noqa: BLE001 - a bug: say so rather than leave the window waiting
            self.failed.emit(
                RelayError(
                    f"The account change did not complete ({type(error).__name__}).",
                    hint="Try again; if it happens again, run `relaydesk account list` "
                    "in a terminal to see what was stored.",
                )
            )
            return
        self.succeeded.emit(result)


class AccountChanges(QObject):
    """A window's account changes, one at a time, each on an ``AccountWorker``.

    ``succeeded(result)`` or ``failed(RelayError)`` comes once per change, after its thread
    has ended, so the window may close (or start the next change) in its slot.
    """

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None, *, paths: Paths | None = None) -> None:
        super().__init__(parent)
        self._paths = paths
        self._pool = WorkerPool(self)
        self._outcome: tuple[bool, object] | None = None

    @property
    def busy(self) -> bool:
        """True from ``start`` until the answer has been given."""
        return self._pool.busy

    def start(self, job: Job, name: str) -> None:
        """Run ``job`` (see ``save`` and ``remove``) unless a change is running already."""
        if self.busy:
            return
        worker = AccountWorker(job, paths=self._paths)
        worker.succeeded.connect(self.on_worker_succeeded)
        worker.failed.connect(self.on_worker_failed)
        worker.done.connect(self.on_worker_done)
        self._outcome = None
        self._pool.start(worker, name=name)

    def shutdown(self, wait_ms: int | None = None) -> None:
        """Stop listening; a keyring call that still blocks ends on its own thread."""
        self._pool.shutdown(wait_ms)

    @Slot(object)
    def on_worker_succeeded(self, result: object) -> None:
        if self._pool.is_current(self.sender()):
            self._outcome = (True, result)

    @Slot(object)
    def on_worker_failed(self, error: RelayError) -> None:
        if self._pool.is_current(self.sender()):
            self._outcome = (False, error)

    @Slot()
    def on_worker_done(self) -> None:
        worker = self.sender()
        if not self._pool.is_current(worker) or not isinstance(worker, Worker):
            return
        self._pool.release(worker)
        outcome, self._outcome = self._outcome, None
        if outcome is None:  # work() always answers; this only guards against a bug
            outcome = (False, RelayError("The account change ended without an answer."))
        ok, value = outcome
        (self.succeeded if ok else self.failed).emit(value)
