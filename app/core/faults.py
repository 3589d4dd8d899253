"""Fault injection for tests: die at a named point of a delivery, as a power cut would.

Only tests set ``RELAYDESK_FAULT_AT``; unset (always, in normal use) every
checkpoint is one dictionary lookup. The process ends with ``os._exit`` so no
``finally`` block, ``atexit`` hook or SQLite rollback-on-close gets to tidy up,
which is exactly what a crash or ``kill -9`` leaves behind.
"""

from __future__ import annotations

import os

FAULT_ENV = "RELAYDESK_FAULT_AT"
FAULT_EXIT = 86  # an exit code nothing else uses, so a test can tell the fault fired

# The points of one delivery, in the order they are reached.
DELIVERY_POINTS = (
    "claimed",  # the item is `sending`, nothing said to the server yet
    "step:mail",
    "step:rcpt",
    "step:data",
    "step:final_dot",  # the step is committed, the end of the message not yet written
    "replied",  # the server answered the final dot; nothing recorded yet
    "record:recipients",  # inside the recording transaction, before COMMIT
    "record:history",
    "recorded",  # the outcome is committed
)


_reached: dict[str, int] = {}


def checkpoint(name: str) -> None:
    """End the process here when a test asked for a fault at ``name`` (or ``name#N``).

    ``step:mail#2`` fires the second time the point is reached: the second
    transaction of a message whose recipients a server split.
    """
    wanted = os.environ.get(FAULT_ENV)
    if not wanted or not wanted.startswith(name):
        return
    _reached[name] = count = _reached.get(name, 0) + 1
    if wanted == name or wanted == f"{name}#{count}":
        os._exit(FAULT_EXIT)
