"""Recipient lists: a CSV file with a header row, or addresses from the History.

Spreadsheets save CSV as UTF-8 (with or without a BOM), UTF-16 ("Unicode
text") or the Windows code page, separated by commas, semicolons (European
locales) or tabs. The encoding and separator are found once; the rows are then
read as a stream, so a long list is never whole in memory.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.core.delivery import history
from app.core.delivery.merge.fields import field_key
from app.core.errors import InvalidInput, UnreadableFile
from app.core.store import Store

_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Row:
    """One recipient row: its 1-based number in the file and its values by field key."""

    number: int
    values: dict[str, str]


@dataclass(frozen=True)
class CsvList:
    """A CSV recipient list whose encoding and dialect are known."""

    path: Path
    encoding: str
    delimiter: str
    columns: tuple[str, ...]  # as written in the header row

    def rows(self) -> Iterator[Row]:
        """The data rows, one at a time (the header row is line 1)."""
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            header = [field_key(name) for name in next(reader, [])]
            for number, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines at the end of a sheet
                yield Row(number, dict(zip(header, (cell.strip() for cell in cells), strict=False)))

    def count(self) -> int:
        """How many data rows there are."""
        return sum(1 for _ in self.rows())


def open_csv(path: str | Path) -> CsvList:
    """Find the encoding, separator and header row of a CSV file."""
    file = Path(path).expanduser()
    try:
        with file.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        encoding = _encoding(file, head)
    except OSError as error:
        raise UnreadableFile(
            f"Cannot read the list “{file}” ({error.strerror}).",
            hint="Give the path of a CSV file with a header row, e.g. email,name.",
        ) from None
    sample = head.decode(encoding, "replace").lstrip("\ufeff")
    first = sample.splitlines()[0] if sample.strip() else ""
    delimiter = max(",;\t", key=first.count) if first else ","
    columns = next(csv.reader([first], delimiter=delimiter), [])
    columns = [name.strip() for name in columns]
    if not any(columns):
        raise InvalidInput(
            f"The list “{file.name}” is empty.",
            hint="The first line names the columns (e.g. email,name); each further line is "
            "one recipient.",
        )
    return CsvList(file, encoding, delimiter, tuple(columns))


def _encoding(file: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _is_utf8(file):
        return "utf-8"
    # cp1252 leaves five bytes undefined; Latin-1 reads any byte.
    return "cp1252" if _decodes(file, "cp1252") else "latin-1"


def _is_utf8(file: Path) -> bool:
    return _decodes(file, "utf-8")


def _decodes(file: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with file.open("rb") as handle:
            while chunk := handle.read(_SNIFF_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def history_rows(store: Store, query: str = "", *, limit: int = 10_000) -> Iterator[Row]:
    """Each address that appears in matching History entries, once, as an ``email`` row."""
    seen: set[str] = set()
    number = 0
    for entry in history.search(store, query, limit=limit):
        for recipient in entry.recipients:
            address = str(recipient.get("address", ""))
            if address and address.lower() not in seen and recipient.get("status") == "accepted":
                seen.add(address.lower())
                number += 1
                yield Row(number, {"email": address})
