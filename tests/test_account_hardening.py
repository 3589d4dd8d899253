"""Account settings that would break every send, or leak a password, are caught at once."""

from __future__ import annotations

from tests.agent_helpers import PASSWORD, USER
from tests.cli_runner import Cli
from tests.support.smtp_servers import RunningServer


def test_line_breaks_in_name_or_username_are_refused_at_add(cli: Cli) -> None:
    base = ("account", "add", "work", "--email", "a@example.com", "--host", "smtp.example.com")
    name = cli(*base, "--from-name", "Eve\r\nBcc: all@example.com")
    assert name.code == 65 and "display name" in name.stderr and "line break" in name.stderr
    user = cli(*base, "--username", "eve\r\nRCPT TO:<x@example.com>", "--ask-password")
    assert user.code == 65 and "username" in user.stderr
    assert cli("account", "list", "--json").json["accounts"] == []
    rows = [r for r in cli("audit", "--json").json["entries"] if r["action"] == "account_add"]
    assert [r["detail"]["error"] for r in rows] == ["invalid_header", "invalid_header"]


def test_a_host_name_the_resolver_cannot_look_up_is_refused_at_add(cli: Cli) -> None:
    base = ("account", "add", "work", "--email", "a@example.com", "--security", "tls")
    for host in ("smtp..example.com", "a" * 64 + ".example.com"):
        refused = cli(*base, "--host", host)
        assert refused.code == 65, refused.stderr
        assert "is not a host name" in refused.stderr and "Traceback" not in refused.stderr
    # Intranet names, IDN and addresses are all fine.
    for n, host in enumerate(("relay.corp.local", "smtp.bücher.de", "10.0.0.25", "::1")):
        assert cli(*base[:2], f"ok{n}", *base[3:], "--host", host).code == 0
    assert len(cli("account", "list", "--json").json["accounts"]) == 4


def test_plaintext_auth_to_another_host_warns(cli: Cli) -> None:
    base = ("account", "add", "--email", "a@example.com", "--security", "none", "--username",
            "a", "--ask-password", "--allow-plaintext-auth")  # fmt: skip
    remote = cli(*base[:2], "relay", *base[2:], "--host", "relay.corp.example")
    assert remote.code == 0
    assert "WITHOUT encryption" in remote.stderr and "relay.corp.example" in remote.stderr
    local = cli(*base[:2], "local", *base[2:], "--host", "localhost")
    assert local.code == 0 and "WITHOUT" not in local.stderr


def test_plaintext_auth_still_uses_an_offered_starttls(cli: Cli, smtp_server) -> None:
    # The server offers STARTTLS and refuses AUTH before it (as real submission servers do).
    server: RunningServer = smtp_server(mode="starttls")
    added = cli(
        "account", "add", "work", "--email", "alice@example.com", "--host", server.host,
        "--port", str(server.port), "--security", "none", "--allow-plaintext-auth",
        "--username", USER, "--ca-file", str(server.ca_file), "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    tested = cli("account", "test", "work", "--transcript")
    assert tested.code == 0, tested.stdout + tested.stderr
    transcript = tested.stdout
    assert transcript.index("STARTTLS") < transcript.index("AUTH")
    sent = cli("send", "--to", "bob@example.com", "--subject", "s", "--text", "x")
    assert sent.code == 0, sent.stderr
    assert len(server.messages) == 1
