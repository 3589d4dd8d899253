"""The exit codes the program uses are the ones README, --help and docs/agents.md promise."""

from __future__ import annotations

import re

from app.core import errors
from app.core.errors import ExitCode, RelayError
from tests.cli_runner import REPO, Cli


def _codes_in_use() -> set[int]:
    classes = [
        value for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, RelayError)
    ]  # fmt: skip
    return {int(cls.exit_code) for cls in classes} | {0, 64}


def test_readme_table_lists_every_code_and_policy_refusals_under_77() -> None:
    readme = (REPO / "README.md").read_text()
    table = dict(re.findall(r"^\| (\d+) \| (.+) \|$", readme, re.MULTILINE))
    assert {int(code) for code in table} == _codes_in_use() == {int(c) for c in ExitCode}
    assert "policy forbids the call" in table["77"] and "nothing was queued" in table["77"]
    assert "report file" in table["70"]
    assert "read-only" in table["78"] and "damaged" in table["78"]


def test_help_and_agent_docs_agree(cli: Cli) -> None:
    epilog = " ".join(cli("--help").stdout.split())
    for promise in (
        "70 internal error",
        "77 not permitted: authentication failed, sender refused, or the caller's policy "
        "forbids the call (nothing queued)",
        "data folder read-only or damaged",
    ):
        assert promise in epilog
    agents = " ".join((REPO / "docs" / "agents.md").read_text().split())
    assert "**77 when the caller's policy refuses it**" in agents
    assert "70 internal error" in agents
