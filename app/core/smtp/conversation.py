"""The rules every step of a session follows: announce it, honour cancel, classify failures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

from app.core.accounts.model import Account
from app.core.errors import ConnectionLost, RelayError
from app.core.smtp import policy
from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step
from app.core.smtp.transcript import Transcript
from app.core.smtp.transport import Transport


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait. Greeting and EHLO are short so a wrong TLS mode shows fast."""

    connect: float = 10.0
    greeting: float = 10.0
    command: float = 60.0
    final_reply: float = 600.0


class Conversation:
    """One connection's transport, cancellable from another thread; failures become errors."""

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
        self._transport: Transport | None = None
        self._lock = threading.Lock()  # guards the two flags below against cancel()
        self._cancelled = False
        self._committed = False  # the end of the message is on its way: cancel no longer applies

    def begin(self) -> Transport:
        """The transport for a new connection (once per conversation)."""
        if self._transport is not None:
            raise RuntimeError("the session is already open")
        self._transport = Transport(self.transcript)
        return self._transport

    def transport(self) -> Transport:
        """The transport of an open connection; ConnectionLost once it is closed."""
        if self._transport is None or not self._transport.connected:
            raise ConnectionLost(
                f"The connection to {self.account.host} is closed.",
                hint="Open a new connection and try again.",
            )
        return self._transport

    @property
    def is_open(self) -> bool:
        """True while the connection can carry commands (False after a failure or close)."""
        transport = self._transport
        return transport is not None and transport.connected and not self._cancelled

    def command(self, step: Step, line: str, encoding: str = "ascii") -> Reply:
        """One command and its reply; a failure is classified against ``step``."""
        transport = self.transport()
        with self.network(step):
            return transport.command(line, encoding)

    def rset(self) -> None:
        """RSET: forget the current transaction."""
        self.expect(Step.DONE, self.command(Step.DONE, "RSET"), 250)

    def cancel(self) -> None:
        """From any thread: abort before the end of the message; the blocked call raises."""
        with self._lock:
            if self._committed:
                return
            self._cancelled = True
            if self._transport is not None:
                self._transport.shutdown()

    def close(self) -> None:
        """QUIT if the connection is still usable; never raises; idempotent."""
        transport, self._transport = self._transport, None
        if transport is None:
            return
        try:
            if transport.connected and not self._cancelled:
                transport.set_timeout(min(self.timeouts.greeting, self.timeouts.command))
                transport.command("QUIT")
        except OSError:
            pass  # the server went away first; nothing left to say to it
        finally:
            transport.close()

    def announce(self, step: Step) -> None:
        """Tell the caller ``step`` begins; a cancel point."""
        self.check_cancelled(step)
        self.notify(step)

    def notify(self, step: Step) -> None:
        """Tell the caller about ``step`` (no cancel check: the outcome is known)."""
        if self._on_step is not None:
            self._on_step(step)

    def check_cancelled(self, step: Step) -> None:
        if self._cancelled:
            self.abort()
            raise policy.cancelled(step)

    def commit(self) -> None:
        """From here on the server may have the message: cancel no longer applies."""
        with self._lock:
            self.check_cancelled(Step.DATA)
            self._committed = True

    def settle(self) -> None:
        """The verdict is in (or never will be): cancel applies again."""
        with self._lock:
            self._committed = False

    @contextmanager
    def network(self, step: Step) -> Iterator[None]:
        """Turn socket, TLS and protocol exceptions at ``step`` into a classified error."""
        try:
            yield
        except OSError as exc:  # socket, ssl, smtplib and ProtocolViolation are OSErrors
            self.abort()
            error = policy.cancelled(step) if self._cancelled else classify(step, exc, self.account)
            self.transcript.note(f"{error.message} ({type(exc).__name__}: {exc})")
            raise error from (None if self._cancelled else exc)

    def expect(self, step: Step, reply: Reply, code: int) -> None:
        """Raise the classified error unless ``reply`` has ``code``."""
        if reply.code != code:
            self.fail(step, reply)

    def fail(self, step: Step, reply: Reply) -> NoReturn:
        """Raise the classified error for ``reply``, leaving the connection usable if it can be."""
        error = classify(step, reply, self.account)
        if reply.code == 421 or step in (Step.CONNECT, Step.EHLO, Step.TLS, Step.AUTH):
            self.abort()
        elif step in (Step.MAIL, Step.RCPT, Step.DATA):
            self._reset_quietly()
        raise error

    def _reset_quietly(self) -> None:
        """RSET after a refused step so the connection can carry the next message."""
        transport = self._transport
        if transport is None or not transport.connected:
            return
        try:
            transport.command("RSET")
        except OSError:
            self.abort()

    def abort(self) -> None:
        """Drop the connection without QUIT (after a failure or cancel)."""
        if self._transport is not None:
            self._transport.close()


def classify(step: Step, problem: BaseException | Reply, account: Account) -> RelayError:
    """The diagnosis catalogue, loaded on the first failure only (its rules take ~10 ms)."""
    from app.core.smtp import diagnose

    return diagnose.classify(step, problem, account)
