"""Python's cyclic garbage collector, run on the GUI thread only.

A window, a wizard page or a worker that is part of a reference cycle is freed by
the cyclic collector, which Python runs in whichever thread happens to allocate
when a threshold is crossed: a sender thread, the OAuth2 loopback server, a DNS
lookup. A QWidget destroyed outside the GUI thread can crash the process. So
while the window runs, automatic collection is off and a timer on the GUI thread
collects, with the same thresholds Python would use.
"""

from __future__ import annotations

import gc

from app.qt import QObject, QTimer, Slot

CHECK_MS = 500  # how often the counts are looked at; collecting generation 0 takes microseconds


class GuiThreadCollector(QObject):
    """Turns automatic collection off and collects on the GUI thread instead."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Back to Python's own collection (at quit; collects what is left first)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    @Slot()
    def check(self) -> None:
        """Collect the oldest generation whose count has passed its threshold, if any."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if thresholds[generation] and counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
