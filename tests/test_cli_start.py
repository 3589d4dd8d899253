"""The top-level command table, and a reader that goes away (`| head`)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from app.cli.main import COMMANDS
from tests.cli_runner import REPO, cli_env


def test_command_table_matches_the_modules() -> None:
    """Every command a module registers is listed with the same help line, and nothing more."""
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    for module in dict.fromkeys(command.module for command in COMMANDS.values()):
        before = set(commands.choices)
        import_module(module).register(commands)
        for name in set(commands.choices) - before:
            assert name in COMMANDS and COMMANDS[name].module == module, name
    helps = {action.dest: action.help for action in commands._choices_actions}
    assert helps == {name: command.help for name, command in COMMANDS.items()}


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("account", "presets", "--json"),
        ("account", "presets"),
        ("settings", "list", "--json"),
        ("tool", "schema"),
        ("history",),
        ("sendmail", "-bp"),
    ],
)
def test_a_closed_pipe_ends_quietly(args: tuple[str, ...], tmp_path: Path) -> None:
    env = cli_env(None, tmp_path / "home")
    (tmp_path / "home").mkdir()
    child = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the first line is written
    with child.stderr:
        stderr = child.stderr.read().decode()
    code = child.wait(timeout=60)
    assert stderr == ""
    # 141: what a shell shows for a producer stopped by SIGPIPE; argparse itself ignores a
    # failed write of --help, which then ends with its usual 0.
    assert code == (0 if args == ("--help",) else 141)


def test_head_reads_the_start_of_a_long_listing(tmp_path: Path) -> None:
    env = cli_env(None, tmp_path / "home")
    (tmp_path / "home").mkdir()
    run = subprocess.run(
        f"set -o pipefail; {sys.executable} -m app account presets --json | head -3",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    assert len(run.stdout.splitlines()) == 3
    assert run.stderr == ""
    assert run.returncode in (0, 141)


def test_mcp_without_the_agents_extra_says_what_to_install(tmp_path: Path) -> None:
    """As after `pip install relaydesk` (no extra): the mcp packages cannot be imported."""
    script = (
        "import sys\n"
        "sys.modules['mcp'] = None  # what a missing package looks like to `import mcp`\n"
        "sys.modules['mcp_types'] = None\n"
        "from app.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = cli_env(None, tmp_path / "home")
    (tmp_path / "home").mkdir()
    for args in (["mcp"], ["mcp", "--caller", "x"]):
        run = subprocess.run(
            [sys.executable, "-c", script, *args],
            capture_output=True, text=True, env=env, cwd=REPO, check=False, timeout=60,
        )  # fmt: skip
        assert run.returncode == 78, run.stderr
        assert run.stderr.splitlines()[0] == (
            "relaydesk: relaydesk mcp needs the agents extra, which is not installed."
        )
        assert "relaydesk[agents]" in run.stderr and "Traceback" not in run.stderr
