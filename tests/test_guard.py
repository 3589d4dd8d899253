"""The final guard: no input ends in a traceback; a real bug is one line, a report, exit 70."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from app.core.errors import DataUnwritable
from app.core.store import Store, storage_error
from tests.agent_helpers import add_account_cli, assert_no_password
from tests.cli_runner import REPO, Cli, Run
from tests.support.smtp_servers import RunningServer


@pytest.fixture
def server(smtp_server) -> RunningServer:
    return smtp_server(mode="starttls")


def _home(cli: Cli) -> Path:
    return Path(cli.env["RELAYDESK_HOME"])


def _audit(cli: Cli) -> list[dict[str, Any]]:
    return cli("audit", "--json").json["entries"]


def _with_bug(cli: Cli, *args: str, env: dict[str, str] | None = None) -> Run:
    """Run the real entry point with the send path broken by an unexpected exception.

    The exception text carries the account's password (read from the keyring) and a
    credential pair, as a careless library might: the report must hold neither.
    """
    program = (
        "import sys\n"
        "from app.core.accounts import secrets\n"
        "from app.core.delivery import attempts as delivery\n"
        "def broken(store, item_id, *a, **k):\n"
        "    pw = secrets.get_password('work')\n"
        "    raise RuntimeError(f'server said {pw} token=abc123secret')\n"
        "delivery.send_item = broken\n"
        "import app.cli.mail_commands as m\n"
        "m.send_item = broken\n"
        "from app.cli.main import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True, env=env or cli.env, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip
    return Run(completed.returncode, completed.stdout.decode(), completed.stderr.decode())


def test_an_unexpected_exception_is_one_line_a_redacted_report_and_exit_70(
    cli: Cli, server: RunningServer
) -> None:
    add_account_cli(cli, server)
    run = _with_bug(cli, "send", "--to", "bob@example.com", "--subject", "s", "--text", "x")

    assert run.code == 70
    assert "Traceback" not in run.stderr
    first = run.stderr.splitlines()[0]
    assert first.startswith("relaydesk: Relaydesk hit an internal error (RuntimeError)")
    [report] = (_home(cli) / "state" / "crash-reports").glob("crash-*.txt")
    assert str(report) in first
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text()
    assert "RuntimeError" in text and "Action:   send" in text
    assert "token=<redacted>" in text and "abc123secret" not in text
    assert_no_password(_home(cli), run.stdout, run.stderr)  # the report included
    [row] = [r for r in _audit(cli) if r["action"] == "send"]
    assert row["outcome"] == "error" and row["detail"]["error"] == "internal_error"
    # The message was queued before the bug: nothing is lost.
    assert cli("outbox", "--json").json[0]["subject"] == "s"

    as_json = _with_bug(cli, "send", "--to", "b@example.com", "--subject", "t", "--json")
    assert as_json.code == 70
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "internal_error" and error["exit_code"] == 70
    assert error["details"]["report"].endswith(".txt")


def test_undecodable_arguments_and_stdin_are_bad_input(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    raw = [sys.executable, "-m", "app", "send", "--to", "bob@example.com", "--subject"]
    completed = subprocess.run(
        [*raw, b"caf\xe9", "--text", "x"], capture_output=True, env=cli.env, cwd=REPO, check=False
    )
    assert completed.returncode == 65
    assert b"is not valid text" in completed.stderr and b"Traceback" not in completed.stderr

    latin1 = cli("send", "--to", "bob@example.com", "--subject", "s", "--text-file", "-",
                 stdin=b"Gr\xfc\xdfe\n")  # fmt: skip
    assert latin1.code == 65 and "not UTF-8 text" in latin1.stderr
    assert server.messages == []
    rows = [r for r in _audit(cli) if r["action"] == "send"]
    assert [r["outcome"] for r in rows] == ["error", "error"]
    assert {r["detail"]["error"] for r in rows} == {"invalid_input", "unreadable_file"}


def test_tool_strings_with_lone_surrogates_or_nul_are_refused(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    add_account_cli(cli, server)
    shared = tmp_path / "shared"
    shared.mkdir()
    assert cli("policy", "set", "bot", "--attachment-dir", str(shared)).code == 0
    surrogate = '{"name": "send_email", "arguments": {"to": "bob@example.com", '
    surrogate += '"subject": "\\ud800"}}'
    run = cli("tool", "call", "--caller", "bot", stdin=surrogate)
    assert run.code == 65 and "lone surrogate" in run.json["error"]["message"]
    nul = {"name": "send_email", "arguments": {
        "to": "bob@example.com", "subject": "s", "attachments": [{"path": f"{shared}/a\x00b"}]
    }}  # fmt: skip
    run = cli("tool", "call", "--caller", "bot", stdin=json.dumps(nul))
    assert run.code == 65 and "NUL byte" in run.json["error"]["message"]
    assert "Traceback" not in run.stderr
    rows = [r for r in _audit(cli) if r["action"] == "tool_call"]
    assert [r["outcome"] for r in rows] == ["rejected", "rejected"]
    assert server.messages == []


def test_missing_keyring_backend_is_a_configuration_error(cli: Cli) -> None:
    env = {**cli.env, "PYTHON_KEYRING_BACKEND": "nosuch.module.Keyring"}
    run = Cli(env)(
        "account", "add", "work", "--email", "a@example.com", "--host", "smtp.example.com",
        "--username", "a", "--password-stdin", stdin="pw\n",
    )  # fmt: skip
    assert run.code == 78, run.stderr
    assert "PYTHON_KEYRING_BACKEND=nosuch.module.Keyring cannot be loaded" in run.stderr
    assert "Traceback" not in run.stderr
    [row] = [r for r in _audit(cli) if r["action"] == "account_add"]
    assert row["outcome"] == "error" and row["detail"]["error"] == "keyring_unavailable"


def _corrupt(database: Path) -> None:
    with database.open("r+b") as handle:
        handle.seek(4096 * 2)
        handle.write(b"\xa5" * 4096 * 4)


def test_a_damaged_database_is_named_not_a_disk_full(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server)
    for n in range(3):
        assert cli("send", "--to", "bob@example.com", "--subject", f"s{n}", "--queue").code == 0
    _corrupt(_home(cli) / "data" / "relaydesk.sqlite3")

    for args in (("outbox",), ("send", "--to", "bob@example.com", "--subject", "x", "--queue")):
        run = cli(*args)
        assert run.code == 78, run.stderr
        assert "is damaged" in run.stderr and "Move the file aside" in run.stderr
        assert "disk space" not in run.stderr and "Traceback" not in run.stderr
    assert not (_home(cli) / "state" / "crash-reports").exists()  # not a bug: no report


def test_a_home_that_cannot_be_written_says_so_and_exits_78(cli: Cli) -> None:
    # /sys refuses new folders to everyone, root included: a home that cannot be created.
    run = Cli({**cli.env, "RELAYDESK_HOME": "/sys/relaydesk-home"})(
        "send", "--to", "bob@example.com", "--subject", "s", "--queue"
    )
    assert run.code == 78, run.stderr
    assert "cannot write its data" in run.stderr and "writable" in run.stderr
    assert "disk space" not in run.stderr and "Traceback" not in run.stderr


def test_a_read_only_database_is_not_called_a_full_disk(relaydesk_home: Path) -> None:
    with Store.open():
        pass
    database = relaydesk_home / "data" / "relaydesk.sqlite3"
    read_only = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raised:
        read_only.execute("INSERT INTO settings (key, value) VALUES ('a', 'b')")
    read_only.close()
    error = storage_error(raised.value, database)
    assert isinstance(error, DataUnwritable) and error.exit_code == 78
    assert "disk space" not in str(error)


def test_an_outbox_id_too_large_for_sqlite_is_a_usage_error(cli: Cli) -> None:
    run = cli("outbox", "retry", "99999999999999999999999")
    assert run.code == 64
    assert "no outbox item has the id" in run.stderr and "Traceback" not in run.stderr


_MCP_WITH_BUG = """
import sys
from app.core.agents import tool
real = tool._dispatch
def dispatch(store, name, arguments, caller, audit):
    if name == "send_email":
        raise KeyError("a bug in send_email")
    return real(store, name, arguments, caller, audit)
tool._dispatch = dispatch
from app.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


async def _mcp_session(cli: Cli, errlog: Path) -> list[Any]:
    params = StdioServerParameters(
        command=sys.executable, args=["-c", _MCP_WITH_BUG, "mcp", "--caller", "bot"],
        env=cli.env, cwd=REPO,
    )  # fmt: skip
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                broken = await session.call_tool(
                    "send_email", {"to": "b@example.com", "subject": "s"}
                )
                still = await session.call_tool("list_accounts", {})
    return [broken, still]


def test_a_bug_in_an_mcp_call_is_an_error_result_and_the_session_goes_on(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    add_account_cli(cli, server)
    broken, still = anyio.run(_mcp_session, cli, tmp_path / "mcp.log")

    assert broken.is_error
    error = broken.structured_content["error"]
    assert error["code"] == "internal_error" and error["exit_code"] == 70
    assert Path(error["details"]["report"]).is_file()
    assert still.structured_content["status"] == "ok"
    [row] = [r for r in _audit(cli) if r["action"] == "tool_call" and r["outcome"] == "failed"]
    assert row["detail"]["error"] == "internal_error" and row["detail"]["via"] == "mcp"


def test_report_redaction_hides_tokens_and_auth_payloads() -> None:
    from app.core.crash import redact_text
    from app.core.redaction import remember_secret

    remember_secret("s3cr3t-pass")
    text = redact_text(
        "refused: Authorization: Bearer ya29.abc sent AUTH PLAIN AHVzZXIAczNjcjN0 "
        "with s3cr3t-pass and {'refresh_token': '1//0gx'}"
    )
    for secret in ("ya29.abc", "AHVzZXIAczNjcjN0", "s3cr3t-pass", "1//0gx"):
        assert secret not in text
    assert "AUTH PLAIN <redacted>" in text
