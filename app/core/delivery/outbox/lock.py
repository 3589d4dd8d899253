"""One outbox sender at a time: an advisory lock file next to the database.

``relaydesk outbox run`` (by hand, from cron or the background service) takes
it for the whole run; a second run finds it held and leaves the work to the
first. The kernel drops the lock when its holder dies, so a crash never leaves
it stuck. Items are also claimed one by one (``transitions.claim``), so even a
sender that does not take this lock (a GUI sending one message now) never sends
an item another sender holds.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core.store import Store


def lock_path(store: Store) -> Path:
    return store.path.parent / "outbox.lock"


@contextmanager
def sender_lock(store: Store) -> Iterator[int | None]:
    """Hold the sender lock; yields None when held here, else the holder's pid (0 if unknown).

    Nothing is held when the value is not None: the caller should leave the work
    to the other sender.
    """
    try:
        fd = os.open(lock_path(store), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        # A read-only data folder: the store reports that on its first write; the
        # per-item claims still keep two senders off one item.
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield _holder(fd)
            return
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield None
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> int:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() else 0


class SenderLock:
    """The sender lock held for a long time (a window's outbox timer), taken when free.

    ``try_acquire`` is cheap and never waits: a window calls it on each tick and
    sends only while it holds the lock, so a background run and a window never
    send at once; ``release`` lets a background run take over after the window closes.
    """

    def __init__(self, store: Store) -> None:
        self._path = lock_path(store)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """True when this process holds the lock (now or already)."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return True  # see sender_lock: claims still keep items apart
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        """Let other senders run (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
