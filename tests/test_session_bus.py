"""The keyring is reached although DBUS_SESSION_BUS_ADDRESS is unset, as under an MCP client.

The MCP SDK's stdio client starts servers with HOME, LOGNAME, PATH, SHELL, TERM
and USER only. The session bus of a desktop login is at $XDG_RUNTIME_DIR/bus,
i.e. /run/user/<uid>/bus; Relaydesk must find it there, like libdbus and sd-bus.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.stdio import get_default_environment

from tests.agent_helpers import add_account_cli
from tests.cli_runner import Cli
from tests.support.secret_service import SecretService, start_secret_service
from tests.support.smtp_servers import RunningServer
from tests.test_mcp import structured

SCRIPT = Path(sys.executable).with_name("relaydesk")
USER_RUNTIME = Path("/run/user") / str(os.getuid())


@pytest.fixture
def login_session() -> Iterator[SecretService]:
    """A Secret Service whose bus socket is where a desktop login puts it: /run/user/<uid>/bus."""
    socket = USER_RUNTIME / "bus"
    if socket.exists():
        pytest.fail(f"{socket} exists already: another session bus runs for this user")
    created = not USER_RUNTIME.exists()
    USER_RUNTIME.mkdir(mode=0o700, parents=True, exist_ok=True)
    service = start_secret_service(bus_socket=socket)
    try:
        yield service
    finally:
        service.stop()
        socket.unlink(missing_ok=True)
        if created:
            shutil.rmtree(USER_RUNTIME, ignore_errors=True)


def bare(env: dict[str, str]) -> dict[str, str]:
    """Only what the SDK passes: no DBUS_SESSION_BUS_ADDRESS, no XDG_RUNTIME_DIR."""
    keep = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
    return {name: env[name] for name in keep if name in env}


async def send_over_mcp() -> tuple[dict, bool]:
    params = StdioServerParameters(command=str(SCRIPT), args=["mcp"])  # env=None: SDK default
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool(
                "send_email",
                {"to": "bob@example.com", "subject": "From a bare env", "text": "found the bus"},
            )
            return structured(result), result.is_error


def test_mcp_server_started_by_the_sdk_reaches_the_keyring(
    login_session: SecretService, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server: RunningServer = smtp_server(mode="starttls")
    home = login_session.env["HOME"]
    # The account is set up in that login (with the bus address, as a terminal has it).
    setup = Cli(
        {
            "HOME": home,
            "PATH": os.environ["PATH"],
            "DBUS_SESSION_BUS_ADDRESS": login_session.env["DBUS_SESSION_BUS_ADDRESS"],
            "XDG_RUNTIME_DIR": str(USER_RUNTIME),
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
    )
    add_account_cli(setup, server)
    # The MCP client runs with the user's plain environment; the SDK passes a subset of it.
    for name in list(os.environ):
        if name.startswith(("DBUS_", "XDG_", "RELAYDESK_", "PYTHON_KEYRING")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", home)
    assert set(get_default_environment()) <= {"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"}

    sent, is_error = anyio.run(send_over_mcp)

    assert sent["status"] == "sent" and not is_error, sent
    [received] = server.messages
    assert received.rcpt_tos == ["bob@example.com"] and b"found the bus" in received.data


def test_cli_finds_the_bus_in_xdg_runtime_dir(smtp_server, tmp_path: Path) -> None:
    """cron or a systemd service: XDG_RUNTIME_DIR is set, the bus address is not."""
    server: RunningServer = smtp_server(mode="starttls")
    service = start_secret_service(bus_in_runtime_dir=True)
    try:
        env = bare(service.env | {"PATH": os.environ["PATH"]})
        env["XDG_RUNTIME_DIR"] = service.env["XDG_RUNTIME_DIR"]
        env["RELAYDESK_HOME"] = str(tmp_path / "rd")
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        cli = Cli(env)
        add_account_cli(cli, server)  # the password goes into the Secret Service found
        run = cli("send", "--to", "bob@example.com", "--subject", "cron", "--text", "x")
        assert run.code == 0, run.stderr
        assert len(server.messages) == 1
    finally:
        service.stop()
