"""`relaydesk sendmail`: a message on stdin, through the outbox, to a real server."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from app.core.agents.sendmail import parse
from app.core.errors import InvalidInput
from tests.agent_helpers import add_account_cli, assert_no_password
from tests.cli_runner import Cli, cli_env
from tests.support.smtp_servers import RunningServer

MESSAGE = (
    "From: Alice <alice@example.com>\n"
    "To: Bob <bob@example.com>\n"
    "Cc: carol@example.com\n"
    "Bcc: Eve <eve@example.com>,\n"
    "  dave@example.com\n"
    "Subject: Nightly report\n"
    "Message-ID: <nightly-1@example.com>\n"
    "\n"
    "All jobs passed.\n"
    "..leading dot line\n"
)


@pytest.fixture
def server(smtp_server) -> RunningServer:
    return smtp_server(mode="starttls")


@pytest.fixture
def cli(secret_service: dict[str, str], tmp_path: Path, server: RunningServer) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    runner = Cli(cli_env(secret_service, home))
    add_account_cli(runner, server)
    return runner


def parsed(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_t_reads_recipients_and_strips_bcc(cli: Cli, server: RunningServer) -> None:
    run = cli("sendmail", "-t", "-i", stdin=MESSAGE)
    assert run.code == 0, run.stderr
    assert run.stdout == ""  # quiet on success, like sendmail
    [received] = server.messages
    assert sorted(received.rcpt_tos) == [
        "bob@example.com", "carol@example.com", "dave@example.com", "eve@example.com",
    ]  # fmt: skip
    assert b"Bcc" not in received.data and b"eve@example.com" not in received.data
    assert b"dave@example.com" not in received.data
    message = parsed(received.data)
    assert message["Message-ID"] == "<nightly-1@example.com>"  # kept as written
    assert message["Date"] is not None  # added
    assert message["To"] == "Bob <bob@example.com>"
    assert received.data.endswith(b"All jobs passed.\r\n..leading dot line\r\n")
    assert b"\r\n" in received.data and b"\n" not in received.data.replace(b"\r\n", b"")
    assert received.mail_from == "alice@example.com"

    audit = cli("audit", "--json").json["entries"]
    assert {(r["face"], r["action"]) for r in audit} >= {
        ("sendmail", "enqueue"), ("sendmail", "send_attempt"),
    }  # fmt: skip
    history = cli("history", "--json").json["messages"]
    assert history[0]["subject"] == "Nightly report"
    assert_no_password(Path(cli.env["RELAYDESK_HOME"]), run.stderr)


def test_arguments_are_the_recipients_without_t(cli: Cli, server: RunningServer) -> None:
    run = cli("sendmail", "-oi", "frank@example.com,grace@example.com", stdin=MESSAGE)
    assert run.code == 0, run.stderr
    [received] = server.messages
    assert sorted(received.rcpt_tos) == ["frank@example.com", "grace@example.com"]
    # Without -t the headers are left alone, Bcc is still never transmitted.
    assert b"Bcc" not in received.data
    assert parsed(received.data)["To"] == "Bob <bob@example.com>"


def test_f_and_capital_f_when_the_message_has_no_from(cli: Cli, server: RunningServer) -> None:
    body = "Subject: cron\r\n\r\nOutput of the job\r\n"
    run = cli(
        "sendmail", "-FCron Daemon", "-f", "<alerts@example.com>", "-oem", "-B8BITMIME",
        "ops@example.com", stdin=body,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    [received] = server.messages
    assert received.mail_from == "alerts@example.com"
    message = parsed(received.data)
    assert message["From"].addresses[0].display_name == "Cron Daemon"
    assert message["From"].addresses[0].addr_spec == "alice@example.com"
    assert message["Message-ID"].endswith("@example.com>")


def test_account_chosen_by_from_address(cli: Cli, server: RunningServer) -> None:
    add_account_cli(cli, server, name="club", email="treasurer@example.com")
    message = "From: treasurer@example.com\nTo: member@example.com\nSubject: Dues\n\nPay up\n"
    assert cli("sendmail", "-t", stdin=message).code == 0
    assert cli("sendmail", "-t", stdin=message.replace("treasurer@", "unknown@")).code == 0
    assert (
        cli("sendmail", "--account", "club", "x@example.com", stdin="Subject: a\n\nb\n").code == 0
    )
    accounts = [entry["account"] for entry in cli("history", "--json").json["messages"]]
    assert accounts == ["club", "work", "club"]  # newest first; unknown From → the default


def test_a_lone_dot_ends_input_unless_i(cli: Cli, server: RunningServer) -> None:
    text = "Subject: dots\n\nbefore\n.\nafter\n"
    assert cli("sendmail", "bob@example.com", stdin=text).code == 0
    assert cli("sendmail", "-i", "bob@example.com", stdin=text).code == 0
    first, second = server.messages
    assert first.data.endswith(b"before\r\n") and b"after" not in first.data
    assert second.data.endswith(b"before\r\n.\r\nafter\r\n")


def test_bare_cr_and_lf_become_crlf(cli: Cli, server: RunningServer) -> None:
    raw = b"Subject: smuggle\r\n\r\nline one\rline two\nline three\r\n.\r\nMAIL FROM:<x@y>\n"
    assert cli("sendmail", "-i", "bob@example.com", stdin=raw).code == 0
    [received] = server.messages
    body = received.data.split(b"\r\n\r\n", 1)[1]
    assert body == b"line one\r\nline two\r\nline three\r\n.\r\nMAIL FROM:<x@y>\r\n"
    assert b"\r" not in body.replace(b"\r\n", b"") and b"\n" not in body.replace(b"\r\n", b"")


BAD_INPUT = [
    (("-t",), "Subject: nobody\n\nhi\n", 65, "No recipients"),
    (("bob@example.com",), "this is not a header\n\nhi\n", 65, "not a header field"),
    (("bob@@example.com",), "Subject: s\n\nx\n", 65, "not a valid email address"),
    (("ops@relay.invalid",), "Subject: s\n\nx\n", 65, "can never be delivered"),
    (("--account", "ghost", "bob@example.com"), "Subject: s\n\nx\n", 78, "no account"),
    (("-bs",), "", 64, "not supported"),
]


def test_bad_input_exits_with_sysexits(cli: Cli, server: RunningServer) -> None:
    for args, stdin, code, words in BAD_INPUT:
        run = cli("sendmail", *args, stdin=stdin)
        assert run.code == code, (args, run.stderr)
        assert words.lower() in run.stderr.lower(), run.stderr
    assert server.messages == []
    assert cli("outbox", "--json").json == []  # nothing half-queued


def test_parse_keeps_folded_fields_and_drops_mbox_line() -> None:
    message = parse(
        b"From alice Mon Jan 1 00:00:00 2024\nSubject: a\n  folded\nTo: b@example.com\n\nx"
    )
    assert [name for name, _ in message.fields] == [b"subject", b"to"]
    assert message.fields[0][1] == b"Subject: a\r\n  folded\r\n"
    assert message.values("Subject") == ["a  folded"]  # unfolding keeps the spaces
    assert message.body == b"x\r\n"
    with pytest.raises(InvalidInput):
        parse(b"")
