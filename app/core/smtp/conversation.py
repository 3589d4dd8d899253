"""The rules every step of a session follows: announce it, honour cancel, classify failures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from app.core.accounts.model import Account
from app.core.errors import ConnectionLost, RelayError
from app.core.smtp import policy
from app.core.smtp.client import SmtpClient
from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step
from app.core.smtp.transcript import Transcript


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait. Greeting and EHLO are short so a wrong TLS mode shows fast."""

    connect: float = 10.0
    greeting: float = 10.0
    command: float = 60.0
    final_reply: float = 600.0


class Conversation:
    """A connection that can be cancelled from another thread and turns failures into errors."""

    def __init__(
        self,
        account: Account,
        *,
        transcript: Transcript | None,
        timeouts: Timeouts,
        on_step: Callable[[Step], None] | None,
    ) -> None:
        self.account = account
        self.transcript = transcript if transcript is not None else Transcript()
        self.timeouts = timeouts
        self._on_step = on_step
        self._client: SmtpClient | None = None
        self._lock = threading.Lock()  # guards the socket swap and the two flags below
        self._cancelled = False
        self._committed = False  # the final dot is on its way: cancel no longer applies

    def reset(self) -> None:
        """RSET: forget the current transaction (between messages on one connection)."""
        client = self._open_client()
        with self._network(Step.DONE):
            reply = client.command("RSET")
        self._expect(Step.DONE, reply, 250)

    def cancel(self) -> None:
        """From any thread: abort before the final dot; the blocked call raises Cancelled."""
        with self._lock:
            if self._committed:
                return
            self._cancelled = True
            sock = self._client.sock if self._client is not None else None
            if sock is not None:
                try:
                    # The base-class shutdown wakes a blocked read or write in the other
                    # thread without touching the SSL object it is using.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed: the other thread sees that on its own

    def close(self) -> None:
        """QUIT if the connection is still usable; never raises; idempotent."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.sock is not None and not self._cancelled:
                client.set_timeout(min(self.timeouts.greeting, self.timeouts.command))
                client.command("QUIT")
        except OSError:
            pass  # the server went away first; nothing left to say to it
        finally:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while the connection can carry commands (False after a failure or close)."""
        return self._client is not None and self._client.sock is not None and not self._cancelled

    def _open_client(self) -> SmtpClient:
        if self._client is None or self._client.sock is None:
            raise ConnectionLost(
                f"The connection to {self.account.host} is closed.",
                hint="Open a new connection and try again.",
            )
        return self._client

    def _announce(self, step: Step) -> None:
        self._check_cancelled(step)
        if self._on_step is not None:
            self._on_step(step)

    def _check_cancelled(self, step: Step) -> None:
        if self._cancelled:
            self._abort()
            raise policy.cancelled(step)

    @contextmanager
    def _network(self, step: Step) -> Iterator[None]:
        """Turn socket, TLS and protocol exceptions at ``step`` into a classified error."""
        try:
            yield
        except OSError as exc:  # socket, ssl and smtplib errors are all OSErrors
            self._abort()
            error = policy.cancelled(step) if self._cancelled else classify(step, exc, self.account)
            self.transcript.note(f"{error.message} ({type(exc).__name__}: {exc})")
            raise error from (None if self._cancelled else exc)

    def _expect(self, step: Step, reply: Reply, code: int) -> None:
        """Raise the classified error unless ``reply`` has ``code``."""
        if reply.code == code:
            return
        error = classify(step, reply, self.account)
        if reply.code == 421 or step in (Step.CONNECT, Step.EHLO, Step.TLS, Step.AUTH):
            self._abort()
        elif step in (Step.MAIL, Step.RCPT, Step.DATA):
            self._reset_quietly()
        raise error

    def _reset_quietly(self) -> None:
        """RSET after a refused step so the connection can carry the next message."""
        client = self._client
        if client is None or client.sock is None:
            return
        try:
            client.command("RSET")
        except OSError:
            self._abort()

    def _abort(self) -> None:
        """Drop the connection without QUIT (after a failure or cancel)."""
        if self._client is not None:
            self._client.close()


def classify(step: Step, problem: BaseException | Reply, account: Account) -> RelayError:
    """The diagnosis catalogue, loaded on the first failure only (its rules take ~10 ms)."""
    from app.core.smtp import diagnose

    return diagnose.classify(step, problem, account)
