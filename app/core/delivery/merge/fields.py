"""Placeholders: ``{{field}}`` and ``{{field|fallback}}`` in a template's headers and bodies.

A field name is matched to a CSV column case-insensitively, ignoring spaces at
either end. A field with no value in a row (an empty cell) takes its fallback
when it has one; without a fallback the row is reported and not sent, so no
one gets "Dear ," by accident. ``{{field|}}`` means "empty is fine".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}|]+?)\s*(?:\|([^{}]*))?\}\}")


def field_key(name: str) -> str:
    """The form a column or field name is compared in."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Piece:
    """A template text split once into literal text and placeholders."""

    parts: tuple[str | tuple[str, str | None], ...]
    source: str = ""

    @classmethod
    def parse(cls, text: str) -> Piece:
        """Split ``text`` into literals and (field key, fallback) pairs."""
        parts: list[str | tuple[str, str | None]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > position:
                parts.append(text[position : match.start()])
            parts.append((field_key(match.group(1)), match.group(2)))
            position = match.end()
        if position < len(text):
            parts.append(text[position:])
        return cls(tuple(parts), text)

    @property
    def fields(self) -> set[str]:
        """The field keys this text uses."""
        return {part[0] for part in self.parts if isinstance(part, tuple)}

    def needed(self) -> set[str]:
        """Field keys that have no fallback here (an empty value is a problem)."""
        return {part[0] for part in self.parts if isinstance(part, tuple) and part[1] is None}

    def render(self, values: Mapping[str, str], escape: Callable[[str], str] | None = None) -> str:
        """The text with each placeholder replaced; ``escape`` applies to values only."""
        pattern, slots = self._compiled()
        if not slots:
            return pattern
        filled = []
        for key, fallback in slots:
            value = values.get(key, "")
            if not value.strip():
                value = fallback or ""
            filled.append(escape(value) if escape else value)
        return pattern.format(*filled)

    @property
    def slots(self) -> tuple[tuple[str, str | None], ...]:
        """The placeholders in order (computed once: a run renders thousands of rows)."""
        return self._compiled()[1]

    @property
    def pattern(self) -> str:
        """The literal text as a ``str.format`` pattern with one ``{}`` per placeholder."""
        return self._compiled()[0]

    def _compiled(self) -> tuple[str, tuple[tuple[str, str | None], ...]]:
        cached: tuple[str, tuple[tuple[str, str | None], ...]] | None = self.__dict__.get("_cache")
        if cached is None:
            literal = [
                part.replace("{", "{{").replace("}", "}}") if isinstance(part, str) else "{}"
                for part in self.parts
            ]
            slots = tuple(part for part in self.parts if isinstance(part, tuple))
            cached = ("".join(literal), slots)
            object.__setattr__(self, "_cache", cached)  # frozen, but a pure cache
        return cached
