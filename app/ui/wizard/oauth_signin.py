"""``SignInPanel``: "Sign in with Microsoft/Google/Yahoo" — a button, a waiting state with
Cancel, and the result. Self-contained: the wizard, account edit and the Accounts page
drop it in; the flow runs on a ``SignInWorker`` thread and never blocks the window.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from app.core.accounts.oauth2.config import OAuth2Settings
from app.core.accounts.oauth2.http import TokenSet
from app.core.errors import Cancelled, ClientIdMissing, RelayError
from app.core.paths import Paths
from app.qt import QtCore, QtWidgets, Signal, Slot
from app.ui.wizard.widgets import MessageLabel, field_label, success_color
from app.workers.base import WorkerPool
from app.workers.signin_worker import SignInWorker

if TYPE_CHECKING:
    from app.core.accounts.oauth2.flows import DeviceCode

_BRANDS = (("microsoftonline", "Microsoft"), ("google", "Google"), ("yahoo", "Yahoo"),
           ("aol", "AOL"))  # fmt: skip


def brand(settings: OAuth2Settings) -> str:
    """ "Microsoft", "Google", … for the button; "your provider" otherwise."""
    return next((name for sign, name in _BRANDS if sign in settings.auth_url), "your provider")


class SignInPanel(QtWidgets.QWidget):
    """Signs one account in; ``signed_in(TokenSet)`` or ``failed(RelayError)`` at the end.

    With ``save=True`` (an existing account: "Sign in again") the worker stores the
    tokens itself; otherwise the holder saves them with the new account (``tokens``).
    """

    signed_in = Signal(object)
    failed = Signal(object)
    busy_changed = Signal(bool)

    def __init__(
        self,
        parent: QtWidgets.QWidget | None = None,
        *,
        save: bool = False,
        paths: Paths | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(parent)
        self._save, self._paths, self._timeout = save, paths, timeout
        self._account = ""
        self._settings: OAuth2Settings | None = None
        self.tokens: TokenSet | None = None
        self._worker: SignInWorker | None = None
        self._signin = WorkerPool(self)  # its thread outlives a panel closed early

        self.intro = QtWidgets.QLabel()
        self.intro.setWordWrap(True)
        self.button = QtWidgets.QPushButton()
        self.button.setDefault(True)
        self.waiting = QtWidgets.QLabel()
        self.waiting.setWordWrap(True)
        self.waiting.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.waiting.setAccessibleName("Sign-in progress")
        self.cancel_button = QtWidgets.QPushButton("&Cancel sign-in")
        self.result = MessageLabel("Sign-in result")
        self.client_id = QtWidgets.QLineEdit()
        self.client_id.setPlaceholderText("Application (client) ID from your app registration")
        self.client_id.setAccessibleName("Client ID")
        self._client_row = QtWidgets.QWidget()
        row = QtWidgets.QFormLayout(self._client_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addRow(field_label("Client &ID:", self.client_id), self.client_id)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.intro)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.waiting)
        layout.addWidget(self.result)
        layout.addWidget(self._client_row)
        layout.addStretch(1)
        self._client_row.hide()
        self._set_busy(False)

        self.button.clicked.connect(self.on_button_clicked)
        self.cancel_button.clicked.connect(self.on_cancel_button_clicked)

    # -- set up -----------------------------------------------------------------------
    def configure(self, account: str, settings: OAuth2Settings, *, again: bool = False) -> None:
        """Which account signs in, and where; ``again`` for an account that signed in before."""
        self._account, self._settings = account, settings
        who = brand(settings)
        self.button.setText(f"&Sign in again with {who}" if again else f"&Sign in with {who}")
        self.intro.setText(
            f"{who[:1].upper()}{who[1:]} asks you to sign in in your web browser; Relaydesk "
            "never sees your password. After you allow Relaydesk to send mail, come back here."
        )
        if settings.client_id:
            self.client_id.setText(settings.client_id)

    def settings(self) -> OAuth2Settings | None:
        """The sign-in settings, with a client ID typed into the panel."""
        if self._settings is None:
            return None
        typed = self.client_id.text().strip()
        if typed and typed != self._settings.client_id:
            return self._settings.with_changes(client_id=typed)
        return self._settings

    # -- running ------------------------------------------------------------------------
    @Slot()
    def on_button_clicked(self) -> None:
        settings = self.settings()
        if settings is None or self._worker is not None:
            return
        self.tokens = None
        self.result.clear_problem()
        worker = SignInWorker(
            self._account, settings, save=self._save, paths=self._paths, timeout=self._timeout
        )
        worker.signed_in.connect(self._on_signed_in)
        worker.failed.connect(self._on_failed)
        worker.device_code.connect(self._on_device_code)
        worker.done.connect(self._on_done)
        self._worker = worker
        self.waiting.setText(
            "Waiting for you to finish signing in in the browser window that opened…"
        )
        self._set_busy(True)
        self._signin.start(worker, name=f"signin-{self._account}")

    @Slot()
    def on_cancel_button_clicked(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.waiting.setText("Cancelling…")

    @Slot(object)
    def _on_device_code(self, code: DeviceCode) -> None:
        link = html.escape(code.verification_uri_complete or code.verification_uri)
        self.waiting.setText(
            f"Open {html.escape(code.verification_uri)} on any device and enter the code "
            f"<b>{html.escape(code.user_code)}</b> (or open {link})."
        )

    @Slot(object)
    def _on_signed_in(self, tokens: TokenSet) -> None:
        self.tokens = tokens
        self.result.setText(
            f'<b style="color:{success_color(self)}">Signed in.</b> Relaydesk may now send mail '
            "as this account."
        )
        self.result.show()
        self.signed_in.emit(tokens)

    @Slot(object)
    def _on_failed(self, error: RelayError) -> None:
        if isinstance(error, Cancelled):
            self.result.show_problem("Sign-in cancelled.", "Sign in again when you are ready.")
        else:
            self.result.show_problem(error.message, error.hint)
        if isinstance(error, ClientIdMissing):
            self._client_row.show()
            self.client_id.setFocus()
        self.failed.emit(error)

    @Slot()
    def _on_done(self) -> None:
        self._worker = None
        self.waiting.setText("")
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.waiting.setVisible(busy)
        self.busy_changed.emit(busy)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def shutdown(self) -> None:
        """Cancel a running sign-in and wait for its thread (it ends within ~0.1 s)."""
        self._signin.shutdown()


class SignInAgainDialog(QtWidgets.QDialog):
    """ "Sign in again" for an existing account: the panel, storing the tokens itself."""

    def __init__(
        self,
        account: str,
        settings: OAuth2Settings,
        parent: QtWidgets.QWidget | None = None,
        *,
        paths: Paths | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sign in again — {account} — Relaydesk")
        self.panel = SignInPanel(self, save=True, paths=paths)
        self.panel.configure(account, settings, again=True)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        heading = QtWidgets.QLabel(
            f"<b>“{html.escape(account)}” must sign in again.</b><br>The provider no longer "
            "accepts its earlier sign-in (it may have been revoked or expired). Messages "
            "waiting in the outbox go out once you have signed in."
        )
        heading.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.panel)
        layout.addWidget(close)
        self.resize(520, 240)
        self.panel.signed_in.connect(self.accept)

    def done(self, result: int) -> None:
        self.panel.shutdown()  # a sign-in still waiting is cancelled, never left running
        super().done(result)
