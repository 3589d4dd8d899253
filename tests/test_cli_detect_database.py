"""The CLI over the bundled provider database: `account detect` names the source and prints the
provider's pages, `account presets` counts the database, `account add` needs no --preset."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import Cli, cli_env


def test_detect_a_database_domain_offline(relaydesk_home: Path) -> None:
    cli = Cli(cli_env(None, relaydesk_home))
    run = cli("account", "detect", "someone@web.de", "--json")
    assert run.code == 0, run.stderr
    assert run.json["source"] == "ispdb"
    assert run.json["found"] == "found in Thunderbird's provider database"
    best = run.json["candidates"][0]
    assert (best["host"], best["port"], best["security"]) == ("smtp.web.de", 465, "tls")
    assert best["username"] == "someone"
    assert run.json["links"][0] == {
        "url": "https://hilfe.web.de/pop-imap/einschalten.html",
        "text": "You must allow access via POP3 & IMAP once in the e-mail settings of your "
        "account!",
        "kind": "enable",
    }
    text = cli("account", "detect", "someone@web.de")
    assert "found in Thunderbird's provider database" in text.stdout
    assert "Switch access on: https://hilfe.web.de/pop-imap/einschalten.html" in text.stdout


def test_detect_outlook_consumer_domain_is_outlook_com(relaydesk_home: Path) -> None:
    cli = Cli(cli_env(None, relaydesk_home))
    run = cli("account", "detect", "a@hotmail.co.uk", "--json")
    assert run.code == 0 and run.json["source"] == "preset"
    assert run.json["candidates"][0]["preset"] == "outlook"


def test_presets_count_the_database(relaydesk_home: Path) -> None:
    cli = Cli(cli_env(None, relaydesk_home))
    run = cli("account", "presets", "--json")
    assert run.code == 0
    assert run.json["database"]["domains"] >= 950 and run.json["database"]["providers"] == 163
    assert any(p["id"] == "gmail" for p in run.json["presets"])
    text = cli("account", "presets").stdout
    assert "Thunderbird's ISPDB) knows 962 domains of 163 providers" in text


def test_add_a_database_address_without_naming_a_preset(relaydesk_home: Path) -> None:
    cli = Cli(cli_env(None, relaydesk_home))
    run = cli("account", "add", "web", "--email", "ada@web.de", "--ask-password", "--json")
    assert run.code == 0, run.stderr
    account = run.json["account"]
    assert (account["host"], account["port"], account["security"]) == ("smtp.web.de", 465, "tls")
    assert account["username"] == "ada" and account["preset"] == "web.de"
    unknown = cli("account", "add", "x", "--email", "ada@unknown.example", "--ask-password")
    assert unknown.code == 64
    assert "relaydesk account detect ada@unknown.example" in unknown.stderr


def test_detect_refuses_a_silly_timeout(relaydesk_home: Path) -> None:
    cli = Cli(cli_env(None, relaydesk_home))
    run = cli("account", "detect", "a@web.de", "--timeout", "-1", "--json")
    assert run.code == 64 and run.json["error"]["code"] == "usage"
    assert "Traceback" not in run.stderr
