"""OAuth2 sign-in on a background thread: browser + loopback wait, or device code.

``SignInWorker`` runs the core flow (``app.core.accounts.oauth2.signin``) and speaks only
through signals; ``cancel`` (any thread) sets the flow's cancel event, so the
loopback listener closes within a fraction of a second.
"""

from __future__ import annotations

import threading

from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.accounts.oauth2.signin import SignInOptions, finish_sign_in, obtain_tokens
from app.core.errors import RelayError
from app.core.paths import Paths
from app.core.store import Store
from app.qt import Signal
from app.workers.base import Worker


class SignInWorker(Worker):
    """Signs ``account`` in; with ``save`` the tokens are stored and waiting mail released."""

    device_code = Signal(object)  # oauth2.flows.DeviceCode, for the person to enter
    signed_in = Signal(object)  # app.core.accounts.oauth2.http.TokenSet (memory only)
    failed = Signal(object)  # app.core.errors.RelayError (Cancelled when cancelled)

    def __init__(
        self,
        account: str,
        settings: OAuth2Settings,
        *,
        save: bool = False,
        paths: Paths | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self._account = account
        self._settings = settings
        self._save = save
        self._paths = paths
        self._cancel = threading.Event()
        self._timeout = timeout

    def cancel(self) -> None:
        self._cancel.set()

    def work(self) -> None:
        options = SignInOptions(show_code=self.device_code.emit, cancel=self._cancel)
        if self._timeout is not None:
            options.timeout = self._timeout
        try:
            tokens = obtain_tokens(self._account, self._settings, options)
            if self._save:
                with Store.open(self._paths) as store:  # this thread's own connection
                    finish_sign_in(store, self._account, tokens, face="gui")
        except RelayError as error:
            self.failed.emit(error)
            return
        except Exception as error:  # noqa: BLE001 - a bug: say so rather than leave the panel waiting
            self.failed.emit(RelayError(f"Internal error while signing in: {error!r}"))
            return
        self.signed_in.emit(tokens)
