"""Issue 13 through the real entry point: intranet addresses, comma lists, local names."""

from __future__ import annotations

from tests.cli_runner import Cli
from tests.support.smtp_servers import RunningServer


def add_corp_account(cli: Cli, server: RunningServer) -> None:
    run = cli(
        "account", "add", "corp", "--email", "alice@corp.local", "--host", server.host,
        "--port", str(server.port), "--security", "starttls", "--username",
        "alice@example.test", "--ca-file", str(server.ca_file), "--password-stdin",
        stdin="correct horse\n",
    )  # fmt: skip
    assert run.code == 0, run.stderr


def test_intranet_account_sends_to_a_comma_list_and_root(cli: Cli, smtp_server) -> None:
    server: RunningServer = smtp_server(mode="starttls")
    add_corp_account(cli, server)
    run = cli(
        "send", "--to", "bob@example.com, carol@nas.home.arpa", "--cc", "root",
        "--subject", "Intranet", "--text", "hi", "--json",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    [received] = server.messages
    assert received.mail_from == "alice@corp.local"
    assert sorted(received.rcpt_tos) == [
        "alice@corp.local",
        "bob@example.com",
        "carol@nas.home.arpa",
    ]  # fmt: skip  (root → the account's own address)


def test_invalid_is_refused_with_the_reason_and_nothing_is_queued(cli: Cli, smtp_server) -> None:
    server: RunningServer = smtp_server(mode="starttls")
    add_corp_account(cli, server)
    run = cli("send", "--to", "ops@relay.invalid", "--subject", "x", "--text", "y", "--json")
    assert run.code == 65
    assert "can never be delivered" in run.json["error"]["message"]
    assert cli("outbox", "--json").json == []
    bad_add = cli("account", "add", "x", "--email", "me@host.invalid", "--host", "h")
    assert bad_add.code == 65 and "can never be delivered" in bad_add.stderr


def test_settings_command_refuses_bad_values_in_one_line(cli: Cli, tmp_path) -> None:
    for key, value, words in (
        ("retry_interval", "soon", "not a valid value"),
        ("retry_interval", "1", "out of range"),
        ("local_recipient", "bad@@x", "not a valid email address"),
        ("aliases_file", str(tmp_path / "none"), "cannot be read"),
        ("no_such_key", "1", "no setting"),
    ):
        run = cli("settings", "set", key, value)
        assert run.code == 65, (key, run.stderr)
        assert words in run.stderr.splitlines()[0], run.stderr
        assert "Traceback" not in run.stderr
    broken = tmp_path / "aliases"
    broken.write_text("root ops@example.com\n")  # no colon
    run = cli("settings", "set", "aliases_file", str(broken), "--json")
    assert run.code == 65 and "Line 1" in run.json["error"]["message"]
    assert cli("settings", "get", "aliases_file").stdout == "\n"  # nothing changed
    assert cli("settings", "set", "retry_interval", "120").stdout == "retry_interval = 120\n"
    assert cli("settings", "get", "retry_interval", "--json").json["value"] == 120
    assert cli("settings", "reset", "retry_interval").code == 0
    assert cli("settings", "get", "retry_interval").stdout == "30\n"
    audit = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "setting_change"]
    assert [r["detail"]["to"] for r in audit] == [30, 120]  # newest first; refusals not logged
