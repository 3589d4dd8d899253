"""Qt objects in reference cycles are freed on the GUI thread, never on a sender's thread."""

from __future__ import annotations

import gc
import threading
import weakref

from app.qt import QObject
from app.ui.gui_gc import GuiThreadCollector


class _Cyclic(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.me = self  # a cycle: only the cyclic collector can free it


def test_a_cycle_with_a_qobject_is_freed_on_the_gui_thread(qtbot) -> None:
    collector = GuiThreadCollector()
    collector.start()
    try:
        freed_on: list[str] = []
        doomed = _Cyclic()
        weakref.finalize(doomed, lambda: freed_on.append(threading.current_thread().name))
        del doomed

        kept: list[list[int]] = []

        def allocate() -> None:  # a sender thread's objects: enough to cross every threshold
            kept.extend([n] for n in range(200_000))

        worker = threading.Thread(target=allocate, name="relaydesk-sender")
        worker.start()
        worker.join()
        assert freed_on == []  # the worker's allocations did not collect it there

        qtbot.waitUntil(lambda: freed_on != [], timeout=3000)
        assert freed_on == [threading.main_thread().name]
        kept.clear()
    finally:
        collector.stop()
    assert gc.isenabled()  # Python's own collection is back after the window quits
