"""Relaydesk standing in for /usr/sbin/sendmail: cron, cronie, bsd-mailx, mailq, aliases.

The program is started through a symlink named ``sendmail`` (or ``mailq``) to the
installed ``relaydesk`` script, exactly as a user's ``~/bin/sendmail`` would be.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agent_helpers import add_account_cli
from tests.cli_runner import Cli, cli_env
from tests.support.smtp_servers import RunningServer

SCRIPT = Path(sys.executable).with_name("relaydesk")
CRON_MESSAGE = "To: root\nSubject: Cron <root@host> backup\n\nbackup done\n"


@pytest.fixture
def server(smtp_server) -> RunningServer:
    return smtp_server(mode="starttls")


@pytest.fixture
def cli(secret_service: dict[str, str], tmp_path: Path, server: RunningServer) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    runner = Cli(cli_env(secret_service, home))
    add_account_cli(runner, server)  # alice@example.com
    return runner


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    """~/bin with sendmail and mailq symlinks to the installed relaydesk script."""
    assert SCRIPT.exists(), "the relaydesk script is installed by scripts/bootstrap"
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("sendmail", "mailq"):
        (folder / name).symlink_to(SCRIPT)
    return folder


def as_program(cli: Cli, program: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(program), *args],
        input=stdin.encode(),
        capture_output=True,
        env=cli.env,
        cwd=program.parent,
        timeout=60,
        check=False,
    )


def received(server: RunningServer, count: int = 1) -> list:
    deadline = time.monotonic() + 20
    while len(server.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(server.messages)


def test_debian_cron_invocation_reaches_the_account_owner(
    cli: Cli, server: RunningServer, bindir: Path
) -> None:
    run = as_program(
        cli, bindir / "sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root",
        stdin=CRON_MESSAGE,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == b"" and run.stderr == b""
    [message] = received(server)
    assert message.rcpt_tos == ["alice@example.com"]  # root → the account's own address
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert parsed["Subject"] == "Cron <root@host> backup"
    assert parsed["From"].addresses[0].display_name == "CronDaemon"


def test_cronie_invocation_uses_the_aliases_file(
    cli: Cli, server: RunningServer, bindir: Path, tmp_path: Path
) -> None:
    aliases = tmp_path / "aliases"
    aliases.write_text(
        "# like /etc/aliases\npostmaster: root\nroot: ops@example.com,\n  backup\n"
        "backup: tapes@corp.local\n"
    )
    assert cli("settings", "set", "aliases_file", str(aliases)).code == 0
    run = as_program(
        cli, bindir / "sendmail", "-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t",
        stdin=CRON_MESSAGE.replace("To: root", "To: postmaster"),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    [message] = received(server)
    assert sorted(message.rcpt_tos) == ["ops@example.com", "tapes@corp.local"]


def test_default_local_recipient_setting(cli: Cli, server: RunningServer, bindir: Path) -> None:
    assert cli("settings", "set", "local_recipient", "admin@home.arpa").code == 0
    run = as_program(cli, bindir / "sendmail", "-oi", "-t", "--", stdin=CRON_MESSAGE)
    assert run.returncode == 0, run.stderr
    assert received(server)[0].rcpt_tos == ["admin@home.arpa"]
    changes = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "setting_change"]
    assert changes[0]["detail"] == {"key": "local_recipient", "from": "", "to": "admin@home.arpa"}


@pytest.mark.skipif(shutil.which("mail") is None, reason="bsd-mailx comes from scripts/bootstrap")
def test_bsd_mailx_through_the_symlink(cli: Cli, server: RunningServer, bindir: Path) -> None:
    home = Path(cli.env["HOME"])
    (home / ".mailrc").write_text(f"set sendmail={bindir / 'sendmail'}\n")
    run = subprocess.run(
        ["mail", "-s", "Disk report", "bob@example.com", "root"],
        input=b"All disks fine.\n",
        capture_output=True,
        env=cli.env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    [message] = received(server)
    assert sorted(message.rcpt_tos) == ["alice@example.com", "bob@example.com"]
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert parsed["Subject"] == "Disk report"
    assert parsed.get_content().strip() == "All disks fine."


def test_spaced_and_resent_recipient_fields(cli: Cli, server: RunningServer) -> None:
    spaced = (
        "From: alice@example.com\nTo: bob@example.com\nCc : carol@example.com\n"
        "BCC : dave@example.com\nSubject: spaced\n\nhi\n"
    )
    assert cli("sendmail", "-t", stdin=spaced).code == 0
    resent = (
        "Resent-From: alice@example.com\nResent-To: erin@example.com\n"
        "Resent-Cc: frank@example.com\nResent-Bcc: grace@example.com\n"
        "From: someone@example.org\nTo: bob@example.com\nSubject: forwarded\n\nhi\n"
    )
    assert cli("sendmail", "-t", stdin=resent).code == 0
    first, second = received(server, 2)
    assert sorted(first.rcpt_tos) == [
        "bob@example.com", "carol@example.com", "dave@example.com",
    ]  # fmt: skip
    assert b"dave@" not in first.data
    assert sorted(second.rcpt_tos) == [
        "erin@example.com", "frank@example.com", "grace@example.com",
    ]  # fmt: skip
    assert b"grace@" not in second.data


def test_mailq_bp_and_q(cli: Cli, server: RunningServer, bindir: Path) -> None:
    queued = cli(
        "send", "--to", "bob@example.com, carol@corp.local", "--subject", "later",
        "--text", "x", "--queue",
    )  # fmt: skip
    assert queued.code == 0, queued.stderr
    for listing in (
        as_program(cli, bindir / "mailq"),
        as_program(cli, bindir / "sendmail", "-bp"),
    ):
        assert listing.returncode == 0, listing.stderr
        assert b"later" in listing.stdout and b"carol@corp.local" in listing.stdout
    run = as_program(cli, bindir / "sendmail", "-q")
    assert run.returncode == 0, run.stderr
    [message] = received(server)
    assert sorted(message.rcpt_tos) == ["bob@example.com", "carol@corp.local"]


def test_ignored_daemon_flags_and_bad_modes(cli: Cli, server: RunningServer) -> None:
    flags = ["-oQ/var/spool/x", "-odb", "-v", "-Nnever", "-L", "tag", "-O", "A=b", "-bm"]
    run = cli("sendmail", *flags, "bob@example.com", stdin="Subject: flags\n\nx\n")
    assert run.code == 0, run.stderr
    assert received(server)[0].rcpt_tos == ["bob@example.com"]
    bad = cli("sendmail", "-bs", stdin="")
    assert bad.code == 64 and "-bs is not supported" in bad.stderr
    assert "Traceback" not in bad.stderr
