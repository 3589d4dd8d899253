"""Checking a merge run before anything is queued, and previewing any row.

A run is a template, a recipient list and the account. ``check`` renders every
row exactly as ``queue`` will, keeping only the problems, so what passes the
check is what gets queued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from app.core.accounts.model import Account
from app.core.delivery.merge.fields import field_key
from app.core.delivery.merge.recipients import Row
from app.core.delivery.merge.render import MergeOptions, Renderer
from app.core.delivery.merge.template import MergeTemplate
from app.core.delivery.message import BuiltMessage
from app.core.errors import InvalidInput, RelayError

MAX_LISTED_PROBLEMS = 1000  # the count goes on; the list stops, so memory stays flat


@dataclass(frozen=True)
class Problem:
    """Why one row cannot be sent."""

    row: int
    address: str
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "address": self.address,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class CheckReport:
    """What a check found: how many rows would go, and the problems of the rest."""

    rows: int = 0
    ready: int = 0
    skipped: int = 0  # on the run's unsubscribe list
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(problem)

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "ready": self.ready,
            "skipped": self.skipped,
            "problem_count": self.problem_count,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass
class MergeRun:
    """One mail merge: template, rows (re-readable), account and options."""

    template: MergeTemplate
    rows: Callable[[], Iterator[Row]]
    columns: tuple[str, ...]
    account: Account
    options: MergeOptions = field(default_factory=MergeOptions)
    unsubscribed: frozenset[str] = frozenset()  # addresses (lower case) that get nothing

    def renderer(self) -> Renderer:
        """A renderer for this run's account."""
        return Renderer(self.template, self.account.email, self.account.from_name, self.options)

    def address_of(self, row: Row) -> str:
        return row.values.get(field_key(self.options.to_column), "").strip()


def check_columns(run: MergeRun) -> None:
    """Raise InvalidInput when the list lacks the address column or a field with no fallback."""
    have = {field_key(name) for name in run.columns}
    shown = ", ".join(name for name in run.columns if name) or "none"
    if field_key(run.options.to_column) not in have:
        raise InvalidInput(
            f"The list has no “{run.options.to_column}” column (its columns: {shown}).",
            hint="Name the column that holds the addresses with --to-column, or rename it to "
            "email in the first line of the file.",
        )
    needed: set[str] = set()
    for piece in run.template.pieces():
        needed |= piece.needed()
    absent = sorted(needed - have)
    if absent:
        raise InvalidInput(
            f"The template uses {{{{{absent[0]}}}}}, but the list has no such column "
            f"(its columns: {shown}).",
            hint="Add the column to the list, fix the placeholder's spelling, or give it a "
            "fallback: {{" + absent[0] + "|…}}.",
        )


def rendered_rows(run: MergeRun, report: CheckReport) -> Iterator[tuple[Row, BuiltMessage | None]]:
    """Each row with its message (None when skipped or broken), counting into ``report``."""
    check_columns(run)
    renderer = run.renderer()
    seen: dict[int, int] = {}  # hash of the address → first row, to catch duplicates cheaply
    for row in run.rows():
        report.rows += 1
        address = run.address_of(row)
        if address.lower() in run.unsubscribed:
            report.skipped += 1
            yield row, None
            continue
        key = hash(address.lower())
        if address and key in seen:
            report.add(
                Problem(
                    row.number,
                    address,
                    f"Same address as row {seen[key]}.",
                    "Remove one of the two rows.",
                )
            )
            yield row, None
            continue
        seen[key] = row.number
        try:
            message = renderer.render(row.values)
        except RelayError as error:
            report.add(Problem(row.number, address, error.message, error.hint))
            yield row, None
            continue
        report.ready += 1
        yield row, message


def check(run: MergeRun) -> CheckReport:
    """Render every row without keeping it; the report lists the rows that would fail."""
    report = CheckReport()
    for _ in rendered_rows(run, report):
        pass
    return report


def preview(run: MergeRun, number: int) -> BuiltMessage:
    """Row ``number`` exactly as it would be queued.

    Rows are numbered as the problems are: a CSV row by its line, as a
    spreadsheet shows it (the header is row 1, the first person row 2); rows
    from History or a tool call from 1.
    """
    check_columns(run)
    first = None
    for row in run.rows():
        first = row.number if first is None else first
        if row.number == number:
            return run.renderer().render(row.values)
    shown = f" (the first is row {first})" if first is not None else ""
    raise InvalidInput(
        f"The list has no row {number}{shown}.",
        hint="Rows are numbered as in a spreadsheet: the column names are row 1.",
    )


def rows_of(values: Iterable[dict[str, str]]) -> Callable[[], Iterator[Row]]:
    """A row source from plain dictionaries (History, the tool call, tests)."""
    kept = [{field_key(k): v for k, v in row.items()} for row in values]
    return lambda: (Row(number, row) for number, row in enumerate(kept, start=1))
