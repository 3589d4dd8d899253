"""Every bad input gets its message, its hint and its exit code — and loses nothing."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import Cli, cli_env
from tests.support.smtp_servers import USERS, RunningServer

USER = "alice@example.test"


def add(cli: Cli, server: RunningServer, password: str = USERS[USER], **options: str) -> None:
    args = [
        "account",
        "add",
        options.get("name", "work"),
        "--email",
        "alice@example.com",
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--security",
        options.get("security", "starttls"),
        "--username",
        USER,
        "--password-stdin",
    ]
    if options.get("ca", "yes") == "yes":
        args += ["--ca-file", str(server.ca_file)]
    run = cli(*args, stdin=password + "\n")
    assert run.code == 0, run.stderr


def test_wrong_password_is_77_names_the_user_and_keeps_the_message(cli: Cli, smtp_server):
    server = smtp_server(mode="starttls")
    add(cli, server, password="not the password")
    tested = cli("account", "test", "work", "--json")
    assert tested.code == 77
    error = tested.json["error"]
    assert USER in error["message"] and "not the password" not in tested.stdout
    assert error["hint"]
    sent = cli("send", "--to", "bob@example.com", "--subject", "s", "--text", "t", "--json")
    assert sent.code == 77
    [item] = cli("outbox", "list", "--json").json
    assert item["state"] == "failed" and item["last_error"]["code"] == "auth_failed"


def test_untrusted_certificate_is_76(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls", cert="untrusted")
    add(cli, server)
    run = cli("account", "test", "work")
    assert run.code == 76
    assert "hint:" in run.stderr
    assert "certificate" in run.stderr.lower()


def test_system_store_does_not_trust_a_private_ca(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="tls")
    add(cli, server, security="tls", ca="no")
    run = cli("account", "test", "work", "--json")
    assert run.code == 76
    assert run.json["error"]["code"] == "certificate_untrusted"


def test_server_without_starttls_is_refused_before_auth(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls", offer_starttls=False)
    add(cli, server)
    run = cli("account", "test", "work", "--json")
    assert run.code == 76
    assert run.json["error"]["code"] == "starttls_missing"
    assert server.auth_attempts == []


def test_implicit_tls_against_a_starttls_port_says_which_mode(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    add(cli, server, security="tls")
    run = cli("account", "test", "work", "--json", timeout=20)
    assert run.code == 76
    error = run.json["error"]
    assert error["code"] == "tls_mode_mismatch"
    assert "STARTTLS" in error["hint"]


def test_closed_port_is_69(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    server.stop()
    add(cli, server)
    run = cli("account", "test", "work", "--json")
    assert run.code == 69
    assert run.json["error"]["code"] == "connection_refused"


def test_invalid_address_is_65_and_nothing_is_queued(cli: Cli, smtp_server) -> None:
    add(cli, smtp_server(mode="starttls"))
    run = cli("send", "--to", "bob@@example.com", "--subject", "s", "--text", "t", "--json")
    assert run.code == 65
    assert run.json["error"]["code"] == "invalid_address"
    assert "bob@@example.com" in run.json["error"]["message"]
    assert cli("outbox", "list", "--json").json == []


def test_header_injection_in_subject_is_65(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="starttls")
    add(cli, server)
    run = cli(
        "send", "--to", "bob@example.com", "--subject", "hi\r\nBcc: evil@example.com", "--text", "t"
    )
    assert run.code == 65
    assert server.messages == [] and cli("outbox", "list", "--json").json == []


def test_message_over_the_servers_size_is_65(cli: Cli, smtp_server, tmp_path: Path) -> None:
    server = smtp_server(mode="starttls", data_size_limit=20_000)
    add(cli, server)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 40_000)
    run = cli("send", "--to", "bob@example.com", "--subject", "s", "--attach", str(big), "--json")
    assert run.code == 65
    assert run.json["error"]["code"] == "message_too_large"
    assert "MB" in run.json["error"]["message"]
    assert server.messages == []


def test_missing_attachment_is_65(cli: Cli, smtp_server, tmp_path: Path) -> None:
    add(cli, smtp_server(mode="starttls"))
    missing = tmp_path / "nope.pdf"
    run = cli("send", "--to", "bob@example.com", "--subject", "s", "--attach", str(missing))
    assert run.code == 65
    assert str(missing) in run.stderr


def test_every_recipient_refused_is_67(cli: Cli, smtp_server) -> None:
    class RefuseAll:
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 No such user here"

    server = smtp_server(mode="starttls", handler=RefuseAll())
    add(cli, server)
    run = cli("send", "--to", "ghost@example.com", "--subject", "s", "--text", "t", "--json")
    assert run.code == 67
    assert "ghost@example.com" in run.json["error"]["message"]


def test_no_such_account_is_78(cli: Cli) -> None:
    run = cli("send", "--account", "nope", "--to", "bob@example.com", "--subject", "s")
    assert run.code == 78
    assert "account list" in run.stderr


def test_no_account_at_all_is_78_with_a_hint(cli: Cli) -> None:
    run = cli("send", "--to", "bob@example.com", "--subject", "s", "--json")
    assert run.code == 78
    assert "account add" in run.json["error"]["hint"]


def test_bad_usage_is_64(cli: Cli) -> None:
    assert cli("send", "--to").code == 64
    assert cli("frobnicate").code == 64
    assert cli("outbox", "retry").code == 64


def test_no_keyring_is_78_and_offers_ask_password(
    no_keyring: dict[str, str], tmp_path: Path, smtp_server
) -> None:
    home = tmp_path / "h"
    home.mkdir()
    cli = Cli(cli_env(no_keyring, home))
    server = smtp_server(mode="starttls")
    run = cli(
        "account",
        "add",
        "work",
        "--email",
        "alice@example.com",
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--username",
        USER,
        "--password-stdin",
        "--json",
        stdin="secret\n",
    )
    assert run.code == 78
    assert "--ask-password" in run.json["error"]["hint"]
    assert cli("account", "list", "--json").json["accounts"] == []

    asked = cli(
        "account",
        "add",
        "work",
        "--email",
        "alice@example.com",
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--username",
        USER,
        "--ask-password",
        "--ca-file",
        str(server.ca_file),
    )
    assert asked.code == 0, asked.stderr
    sent = cli(
        "send",
        "--to",
        "bob@example.com",
        "--subject",
        "s",
        "--text",
        "t",
        "--password-stdin",
        stdin=USERS[USER] + "\n",
    )
    assert sent.code == 0, sent.stderr
    assert len(server.messages) == 1


def test_help_works_for_every_command(cli: Cli) -> None:
    for command in (
        [],
        ["account"],
        ["account", "add"],
        ["account", "list"],
        ["account", "test"],
        ["account", "remove"],
        ["send"],
        ["history"],
        ["outbox"],
        ["audit"],
    ):
        run = cli(*command, "--help")
        assert run.code == 0, (command, run.stderr)
        assert "usage: relaydesk" in run.stdout
    assert cli("--version").stdout.startswith("relaydesk ")
