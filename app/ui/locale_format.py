"""Dates, times and sizes in the person's own locale (Qt knows it; the core does not)."""

from __future__ import annotations

import time

from app.qt import QtCore


def _locale() -> QtCore.QLocale:
    return QtCore.QLocale()


def size(count: int) -> str:
    """A byte count as the locale writes it: "737 bytes", "1.2 MB" (decimal units)."""
    return _locale().formattedDataSize(
        count, 1 if count >= 1_000_000 else 0, QtCore.QLocale.DataSizeFormat.DataSizeSIFormat
    )


def _datetime(at: float) -> QtCore.QDateTime:
    return QtCore.QDateTime.fromSecsSinceEpoch(int(at))


def clock(at: float) -> str:
    """The time of day: "14:05" or "2:05 PM", as the locale prefers."""
    return _locale().toString(_datetime(at).time(), QtCore.QLocale.FormatType.ShortFormat)


def when(at: float) -> str:
    """Today's times alone; other days with their date, short form."""
    moment = _datetime(at)
    if moment.date() == QtCore.QDate.currentDate():
        return clock(at)
    return _locale().toString(moment, QtCore.QLocale.FormatType.ShortFormat)


def full(at: float) -> str:
    """Date and time in full, for a details pane."""
    return _locale().toString(_datetime(at), QtCore.QLocale.FormatType.LongFormat)


def now_clock() -> str:
    return clock(time.time())
