"""What the person chose becomes server settings by one rule (app/core/setup/choice.py), the
rule the CLI, the one-page setup and the assistant all follow."""

from __future__ import annotations

import pytest

from app.core.accounts.model import PasswordMode, Security
from app.core.errors import UsageError
from app.core.setup import choice
from app.core.setup.choice import SignIn, Typed
from app.core.setup.detection import Candidate
from app.core.setup.providers import find_preset, preset_for_address

GMAIL = "ada.lovelace@gmail.com"


def test_a_gmail_address_gets_implicit_tls_the_address_as_login_and_sign_in_offered() -> None:
    chosen = choice.from_preset(preset_for_address(GMAIL), GMAIL)  # type: ignore[arg-type]
    assert (chosen.host, chosen.port, chosen.security) == ("smtp.gmail.com", 465, Security.TLS)
    assert chosen.username == GMAIL and not chosen.username_needed
    assert chosen.sign_in is SignIn.OFFERED  # an app password works too
    assert chosen.source == "Settings: Gmail (known provider, built into Relaydesk)."
    assert "app password" in chosen.note.lower()
    assert chosen.links[0].kind == "app_password"
    # Offered is not forced: with no choice made the account keeps a password.
    assert not chosen.uses_sign_in(None) and chosen.uses_sign_in(True)


def test_outlook_com_signs_in_only_and_logs_in_as_the_address() -> None:
    email = "ada@hotmail.com"
    chosen = choice.from_preset(preset_for_address(email), email)  # type: ignore[arg-type]
    assert chosen.preset is not None and chosen.preset.id == "outlook"
    assert chosen.sign_in is SignIn.REQUIRED and chosen.uses_sign_in(None)
    username, mode = choice.login(
        username=None, email=email, sign_in=True, store_wanted=True, keyring_usable=True
    )
    assert (username, mode) == (email, PasswordMode.OAUTH2)


def test_microsoft_365_offers_sign_in_beside_the_password() -> None:
    chosen = choice.from_preset(find_preset("microsoft365"), "ada@contoso.example")
    assert chosen.sign_in is SignIn.OFFERED and not chosen.uses_sign_in(None)


def test_a_provider_known_only_to_the_database_says_so_and_fills_its_own_login() -> None:
    email = "ada@web.de"
    chosen = choice.from_preset(preset_for_address(email), email)  # type: ignore[arg-type]
    assert (chosen.host, chosen.port, chosen.security) == ("smtp.web.de", 465, Security.TLS)
    assert chosen.username == "ada"  # web.de logs in with the local part, not the address
    assert "found in Thunderbird's provider database" in chosen.source
    assert chosen.sign_in is SignIn.NONE


def test_a_database_host_template_is_filled_in_for_the_address() -> None:
    email = "ada@inbox.lv"
    chosen = choice.from_preset(preset_for_address(email), email)  # type: ignore[arg-type]
    assert chosen.host == "mail.inbox.lv"
    assert chosen.source.startswith("Settings: inbox.lv — mail.inbox.lv:")  # named, not "%EMAIL…"


def test_a_company_address_found_by_autoconfig_keeps_its_starttls_port() -> None:
    found = Candidate(
        "smtp.corp.local", 587, Security.STARTTLS, None, source="autoconfig", note="Use VPN."
    )
    chosen = choice.from_candidate(found, "ada@corp.local")
    assert (chosen.host, chosen.port, chosen.security) == (
        "smtp.corp.local",
        587,
        Security.STARTTLS,
    )
    assert chosen.username == "ada@corp.local"  # no login named: the address
    assert chosen.source == "Settings: smtp.corp.local:587 (found via autoconfig)."
    assert chosen.sign_in is SignIn.NONE and chosen.preset is None and not chosen.guessed
    assert chosen.note == "Use VPN."


def test_a_probed_server_is_marked_as_a_guess() -> None:
    found = Candidate("mail.corp.local", 465, Security.TLS, "ada", source="probe")
    chosen = choice.from_candidate(found, "ada@corp.local")
    assert chosen.guessed and chosen.username == "ada" and "(guessed)" in chosen.source


def test_a_provider_whose_login_cannot_be_guessed_gives_one_clear_error() -> None:
    chosen = choice.with_typed("ada@example.com", find_preset("mailgun"), Typed())
    assert chosen.host == "smtp.mailgun.org" and chosen.username is None
    assert chosen.username_needed
    problem = chosen.username_problem("Give it with --username.")
    assert isinstance(problem, UsageError) and problem.exit_code == 64
    assert problem.message == "Mailgun (US) needs a username that Relaydesk cannot guess."
    assert problem.hint.startswith("Give it with --username.")
    typed = choice.with_typed(
        "ada@example.com", find_preset("mailgun"), Typed(username="postmaster")
    )
    assert typed.username == "postmaster" and not typed.username_needed


def test_without_a_keyring_the_password_is_asked_each_time() -> None:
    def mode(**changes: object) -> PasswordMode:
        options: dict = {"username": "ada", "email": "ada@corp.local", "sign_in": False}
        options |= {"store_wanted": True, "keyring_usable": True} | changes
        return choice.login(**options)[1]

    assert mode() is PasswordMode.KEYRING
    assert mode(keyring_usable=False) is PasswordMode.ASK
    assert mode(store_wanted=False) is PasswordMode.ASK
    assert mode(username=None) is PasswordMode.NONE  # a local relay: no login at all
    assert mode(username="") is PasswordMode.NONE


def test_a_typed_security_mode_takes_its_own_port_and_a_typed_port_wins() -> None:
    gmail = preset_for_address(GMAIL)
    starttls = choice.with_typed(GMAIL, gmail, Typed(security=Security.STARTTLS))
    assert (starttls.port, starttls.security) == (587, Security.STARTTLS)
    assert starttls.source == "Settings: Gmail, changed by you."
    assert choice.with_typed(GMAIL, gmail, Typed(port=2525)).port == 2525
    untouched = choice.with_typed(GMAIL, gmail, Typed())
    assert untouched == choice.from_preset(gmail, GMAIL)  # type: ignore[arg-type]
    own = choice.with_typed("ada@corp.local", None, Typed(host="relay.corp.local"))
    assert (own.host, own.port, own.security) == ("relay.corp.local", 587, Security.STARTTLS)
    assert own.source == choice.TYPED_SOURCE and own.username is None


def test_an_unknown_domain_without_a_server_is_refused_with_the_hint_given() -> None:
    with pytest.raises(UsageError) as refused:
        choice.provider_for("ada@nowhere.example", None, server_given=False, hint="Give --host.")
    assert refused.value.message == "Relaydesk has no preset for the domain of ada@nowhere.example."
    assert refused.value.hint == "Give --host."
    assert choice.provider_for("ada@nowhere.example", None, server_given=True, hint="") is None
    assert choice.provider_for("ada@x.example", "gmail", server_given=True, hint="").id == "gmail"
