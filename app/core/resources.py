"""Files the program reads at run time (provider data, icons, desktop entry).

They live in the ``app/resources`` folder of the package, so a wheel, an
editable install and the PyInstaller bundle all find them the same way.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def resource(*parts: str) -> Traversable:
    """The shipped file ``app/resources/<parts…>`` (it may not exist)."""
    path = files("app").joinpath("resources")
    for part in parts:
        path = path.joinpath(part)
    return path
