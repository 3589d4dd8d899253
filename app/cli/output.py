"""How the CLI speaks: plain text for people, one JSON object for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from app.core.errors import RelayError


class Output:
    """Prints results and errors in the chosen format."""

    def __init__(self, *, as_json: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def say(self, text: str = "") -> None:
        """A line for people (suppressed in JSON mode)."""
        if not self.as_json:
            print(text, file=self.out)

    def note(self, text: str) -> None:
        """Progress or a side remark: stderr, so stdout stays clean."""
        if not self.as_json:
            print(text, file=self.err)

    def emit(self, payload: dict[str, Any] | list[Any]) -> None:
        """The one JSON document of a ``--json`` run."""
        if self.as_json:
            json.dump(payload, self.out, ensure_ascii=False, indent=2, default=str)
            self.out.write("\n")

    def error(self, error: RelayError, **extra: Any) -> int:
        """Report an error the way the mode wants; returns its exit code."""
        if self.as_json:
            status = extra.pop("status", "error")
            self.emit({"status": status, **extra, "error": error.to_dict()})
        else:
            print(f"relaydesk: {error.message}", file=self.err)
            if error.hint:
                print(f"  hint: {error.hint}", file=self.err)
        return int(error.exit_code)
