"""Background delivery: the systemd units' command really delivers, on schedule, alone.

systemd is not running here, so the service's ExecStart line is read from the
installed unit file and run as systemd would run it (its Environment= applied);
the unit files themselves are checked with ``systemd-analyze verify``.
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from app.core.delivery import background, outbox
from app.core.delivery.outbox import State
from app.core.paths import Paths
from app.core.store import Store
from tests.agent_helpers import add_relay_cli
from tests.cli_runner import REPO, Cli
from tests.support.smtp_servers import RecordingHandler


def installed_units(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    for name in ("XDG_CONFIG_HOME", "RELAYDESK_HOME"):
        monkeypatch.setenv(name, cli.env[name])
    return background.install_units()


def unit_command(service: Path) -> tuple[list[str], dict[str, str]]:
    """ExecStart and Environment= of the service, unquoted as systemd reads them."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(service, encoding="utf-8")
    section = parser["Service"]
    unescape = lambda word: word.replace("%%", "%").replace("$$", "$")  # noqa: E731
    argv = [unescape(w) for w in shlex.split(section["ExecStart"])]
    environment = dict(
        unescape(w).split("=", 1) for w in shlex.split(section.get("Environment", ""))
    )
    return argv, environment


def run_unit(cli: Cli, service: Path) -> subprocess.CompletedProcess[str]:
    argv, environment = unit_command(service)
    env = {k: v for k, v in cli.env.items() if k != "RELAYDESK_HOME"}  # the unit must say
    env.update(environment)
    return subprocess.run(
        argv, env=env, cwd="/", capture_output=True, text=True, timeout=60, check=False
    )


def store_of(cli: Cli) -> Store:
    root = Path(cli.env["RELAYDESK_HOME"])
    return Store.open(Paths(config=root / "config", data=root / "data", state=root / "state"))


def test_the_units_pass_systemd_analyze(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (Debian package systemd)")
    service, timer = installed_units(cli, monkeypatch)
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(service), str(timer)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
    assert "SuccessExitStatus=75" in service.read_text()
    assert "WantedBy=timers.target" in timer.read_text()


def test_a_message_queued_while_closed_is_sent_by_the_unit(
    cli: Cli, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    queued = cli("send", "--queue", "--to", "b@example.com", "--subject", "later", "--text", "x")
    assert queued.code == 0 and server.messages == []
    service, _ = installed_units(cli, monkeypatch)
    run = run_unit(cli, service)
    assert run.returncode == 0, run.stderr
    assert [m.rcpt_tos for m in server.messages] == [["b@example.com"]]


class BusyOnce(RecordingHandler):
    """421 at the first MAIL FROM (the server is busy), fine afterwards."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = True

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.busy:
            self.busy = False
            return "421 4.3.2 Service not available, try later"
        envelope.mail_from = address
        return "250 OK"


def test_a_retrying_message_is_retried_when_due(
    cli: Cli, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server(mode="plain", users=None, handler=BusyOnce())
    add_relay_cli(cli, server.port)
    assert (
        cli("send", "--queue", "--to", "b@example.com", "--subject", "s", "--text", "x").code == 0
    )
    service, _ = installed_units(cli, monkeypatch)

    first = run_unit(cli, service)
    assert first.returncode == 75  # SuccessExitStatus=75: a retry is not a unit failure
    with store_of(cli) as store:
        [item] = outbox.list_items(store)
        assert item.state is State.RETRYING and item.next_attempt_at > item.updated_at
    early = run_unit(cli, service)  # the timer fires again before the backoff is over
    assert early.returncode == 0 and "Nothing is due" in early.stdout
    assert server.messages == []

    with store_of(cli) as store:  # the backoff has passed
        store.execute("UPDATE outbox SET next_attempt_at = 0 WHERE id = ?", (item.id,))
    due = run_unit(cli, service)
    assert due.returncode == 0, due.stderr
    assert len(server.messages) == 1


def test_two_background_senders_never_send_one_item_twice(
    cli: Cli, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    for n in range(8):
        assert (
            cli(
                "send", "--queue", "--to", "b@example.com", "--subject", f"n{n}", "--text", "x"
            ).code
            == 0
        )
    service, _ = installed_units(cli, monkeypatch)
    argv, environment = unit_command(service)
    env = {**cli.env, **environment}
    runs = [
        subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    subjects = sorted(m.data.split(b"Subject: ")[1].split(b"\r\n")[0] for m in server.messages)
    assert subjects == sorted(f"n{n}".encode() for n in range(8))


def test_enable_without_systemd_falls_back_to_autostart(cli: Cli) -> None:
    assert cli("background", "--json").json["enabled"] is False
    enabled = cli("background", "enable", "--json")
    assert enabled.code == 0, enabled.stderr
    assert enabled.json["mode"] == "autostart"
    [entry] = enabled.json["units"]
    assert "--minimised" in Path(entry).read_text()
    assert cli("background", "status", "--json").json["mode"] == "autostart"
    assert cli("background", "disable", "--json").json["enabled"] is False
    assert not Path(entry).exists()


def test_the_unit_stands_aside_while_a_window_sends(
    cli: Cli, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    assert (
        cli("send", "--queue", "--to", "b@example.com", "--subject", "s", "--text", "x").code == 0
    )
    service, _ = installed_units(cli, monkeypatch)
    with store_of(cli) as store:
        window = outbox.SenderLock(store)  # what the GUI's outbox timer holds while open
        assert window.try_acquire()
        aside = run_unit(cli, service)
        assert aside.returncode == 0 and "Another Relaydesk is sending" in aside.stdout
        assert server.messages == []
        window.release()  # the window closes
    assert run_unit(cli, service).returncode == 0
    assert len(server.messages) == 1


def test_a_background_run_leaves_ask_password_messages_waiting(
    cli: Cli, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server(mode="plain", auth_require_tls=False)
    added = cli(
        "account",
        "add",
        "asker",
        "--email",
        "me@example.com",
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--security",
        "none",
        "--username",
        "bob",
        "--allow-plaintext-auth",
        "--ask-password",
    )
    assert added.code == 0, added.stderr
    assert (
        cli("send", "--queue", "--to", "b@example.com", "--subject", "s", "--text", "x").code == 0
    )
    service, _ = installed_units(cli, monkeypatch)
    run = run_unit(cli, service)  # no terminal, nobody to ask
    assert run.returncode == 75, run.stderr  # waiting, which systemd counts as success
    assert "password" in run.stdout
    with store_of(cli) as store:
        [item] = outbox.list_items(store)
    assert item.state is State.QUEUED  # not failed: the window or `outbox run` asks later
    assert server.messages == [] and server.auth_attempts == []
