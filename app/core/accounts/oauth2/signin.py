"""The sign-in use case shared by the CLI and the GUI worker: flow, tokens, audit, outbox.

After a successful sign-in the messages that waited for it (kept in the
outbox as ``retrying`` by a SignInRequired) are made due at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.accounts.oauth2 import tokens
from app.core.accounts.oauth2.clients import resolve_client
from app.core.accounts.oauth2.config import BROWSER_TIMEOUT, OAuth2Settings
from app.core.accounts.oauth2.http import TokenSet
from app.core.store import Store

if TYPE_CHECKING:  # the flows (webbrowser, http.server) load only when someone signs in
    from app.core.accounts.oauth2.flows import DeviceCode


@dataclass
class SignInOptions:
    """How to sign in: browser (default) or device code, and how to reach the person."""

    device: bool = False
    open_url: Callable[[str], bool] | None = None  # None: the system browser
    on_url: Callable[[str], None] | None = None
    show_code: Callable[[DeviceCode], None] | None = None
    cancel: threading.Event | None = None
    timeout: float = BROWSER_TIMEOUT


def obtain_tokens(account: str, settings: OAuth2Settings, options: SignInOptions) -> TokenSet:
    """Run the sign-in flow for ``account`` (nothing is stored yet)."""
    from app.core.accounts.oauth2 import flows

    client = resolve_client(account, settings)
    if options.device or settings.use_device:
        return flows.sign_in_device(
            account,
            settings,
            client,
            show=options.show_code or (lambda _code: None),
            cancel=options.cancel,
        )
    return flows.sign_in_browser(
        account,
        settings,
        client,
        open_url=options.open_url or flows.open_in_browser,
        on_url=options.on_url,
        cancel=options.cancel,
        timeout=options.timeout,
    )


def finish_sign_in(store: Store, account: str, tokens_: TokenSet, *, face: str) -> list[int]:
    """Keep the tokens, audit, and make waiting messages due; their outbox ids."""
    tokens.save(store, account, tokens_)
    store.audit(face=face, action="account_login", outcome="ok", account=account)
    return release_waiting(store, account)


def release_waiting(store: Store, account: str) -> list[int]:
    """Outbox items of ``account`` waiting to retry become due now."""
    with store.transaction() as db:
        ids = [
            int(row[0])
            for row in db.execute(
                "SELECT id FROM outbox WHERE account = ? AND state = 'retrying' ORDER BY id",
                (account,),
            )
        ]
        db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE account = ? AND state = 'retrying'",
            (time.time(), account),
        )
    return ids
