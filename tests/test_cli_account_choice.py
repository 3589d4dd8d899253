"""`relaydesk account add` follows the core's settings rule (app/core/setup/choice.py), through
the real entry point: the same answers the one-page setup and the assistant give."""

from __future__ import annotations

from tests.cli_runner import Cli


def test_a_provider_whose_login_cannot_be_guessed_is_one_clear_line(cli: Cli) -> None:
    run = cli("account", "add", "news", "--email", "ada@example.com", "--preset", "mailgun")
    assert run.code == 64 and "Traceback" not in run.stderr
    assert "Mailgun (US) needs a username that Relaydesk cannot guess." in run.stderr
    assert "--username" in run.stderr
    assert cli("account", "list", "--json").json["accounts"] == []  # nothing half-stored


def test_a_database_provider_fills_its_own_login_and_is_kept_as_the_preset(cli: Cli) -> None:
    said = cli("account", "add", "web1", "--email", "ada@web.de", "--ask-password")
    assert said.code == 0, said.stderr
    assert (
        "Settings: WEB.DE Freemail — smtp.web.de:465 (found in Thunderbird's provider database)."
        in (said.stdout)
    )
    gmail = cli("account", "add", "g", "--email", "ada@gmail.com", "--ask-password")
    assert "Settings: Gmail (known provider, built into Relaydesk)." in gmail.stdout
    run = cli("account", "add", "web", "--email", "ada@web.de", "--ask-password", "--json")
    assert run.code == 0, run.stderr
    account = run.json["account"]
    assert (account["host"], account["port"], account["security"]) == ("smtp.web.de", 465, "tls")
    assert account["username"] == "ada" and account["preset"] == "web.de"
    assert account["password"] == "ask"


def test_microsoft_365_keeps_a_password_and_an_unknown_domain_says_what_to_do(cli: Cli) -> None:
    m365 = cli(
        "account", "add", "work", "--email", "ada@contoso.example", "--preset", "microsoft365",
        "--ask-password", "--json",
    )  # fmt: skip
    assert m365.code == 0, m365.stderr
    assert m365.json["account"]["auth"] == "password"  # sign-in is offered, not forced
    unknown = cli("account", "add", "x", "--email", "ada@nowhere.example")
    assert unknown.code == 64 and "no preset for the domain of ada@nowhere.example" in (
        unknown.stderr
    )
    assert "relaydesk account detect ada@nowhere.example" in unknown.stderr
