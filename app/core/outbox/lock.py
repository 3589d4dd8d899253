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
