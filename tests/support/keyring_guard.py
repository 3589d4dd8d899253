"""A test-only guard: records every keyring call and who made it, on which thread.

The window's code must never call the keyring on the GUI thread: on GNOME the first
access may pop an "unlock keyring" prompt and a D-Bus call to a dead Secret Service
blocks for 25 s, freezing the window. The guard wraps the ``keyring`` package's entry
points (every call Relaydesk makes goes through them, ``secrets`` and OAuth2 tokens
included) and marks a call as an offence when it runs on the main thread — the Qt GUI
thread under pytest-qt — with window or worker code (``app.ui``, ``app.workers``) on the
stack. Fixtures and assertions in the test itself may still read the keyring.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import keyring
import pytest

GUARDED = ("get_keyring", "get_password", "set_password", "delete_password", "get_credential")
_WINDOW_CODE = ("app.ui.", "app.workers.")


@dataclass(frozen=True)
class KeyringCall:
    """One call into the keyring package."""

    function: str
    thread: str
    on_gui_thread: bool
    caller: str  # the innermost window/worker frame, "" when none is on the stack

    def __str__(self) -> str:
        return f"keyring.{self.function}() on thread {self.thread!r} from {self.caller}"


class KeyringGuard:
    """Records keyring calls; ``offences`` are those the window made on the GUI thread."""

    def __init__(self) -> None:
        self.calls: list[KeyringCall] = []
        self._lock = threading.Lock()
        self.slow: Callable[[str], None] | None = None  # a test may make the keyring slow

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in GUARDED:
            monkeypatch.setattr(keyring, name, self._wrap(name, getattr(keyring, name)))

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            self._record(name, sys._getframe(1))
            if self.slow is not None:
                self.slow(name)
            return original(*args, **kwargs)

        return guarded

    def _record(self, name: str, frame: FrameType | None) -> None:
        current = threading.current_thread()
        call = KeyringCall(
            function=name,
            thread=current.name,
            on_gui_thread=current is threading.main_thread(),
            caller=_window_caller(frame),
        )
        with self._lock:
            self.calls.append(call)

    @property
    def offences(self) -> list[KeyringCall]:
        """Calls the window's code made on the GUI thread."""
        return [call for call in self.calls if call.on_gui_thread and call.caller]

    def off_thread(self, function: str) -> list[KeyringCall]:
        """Calls of ``function`` that ran on a worker thread."""
        return [c for c in self.calls if c.function == function and not c.on_gui_thread]


def _window_caller(frame: FrameType | None) -> str:
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith(_WINDOW_CODE):
            return f"{module}:{frame.f_lineno} ({frame.f_code.co_name})"
        frame = frame.f_back
    return ""
