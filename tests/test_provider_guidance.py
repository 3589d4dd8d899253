"""Provider guidance from data: a refused login at a provider whose database entry says "allow
mail programs first" (WEB.DE, GMX, T-Online…) names that step and its page."""

from __future__ import annotations

from app.core.accounts.model import Account, PasswordMode, Security
from app.core.smtp.diagnose import classify
from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step

REFUSED = Reply(535, ("5.7.8 Authentication credentials invalid",))


def account(host: str, preset: str | None, email: str = "ada@web.de") -> Account:
    return Account(
        name="web",
        email=email,
        host=host,
        port=465,
        security=Security.TLS,
        username="ada",
        password_mode=PasswordMode.ASK,
        preset=preset,
    )


def test_refused_login_points_at_the_providers_switch() -> None:
    for preset in ("web.de", None):  # added by the CLI (id stored) or typed in the wizard
        error = classify(Step.AUTH, REFUSED, account("smtp.web.de", preset))
        assert error.exit_code == 77
        assert "WEB.DE Freemail asks you to allow mail programs once first" in error.hint
        assert "https://hilfe.web.de/pop-imap/einschalten.html" in error.hint
    assert (
        "WEB.DE Freemail" in classify(Step.AUTH, REFUSED, account("smtp.web.de", "web.de")).message
    )


def test_no_such_advice_for_another_server_or_a_provider_without_the_step() -> None:
    relay = classify(Step.AUTH, REFUSED, account("relay.company.example", None))
    assert "allow mail programs" not in relay.hint  # the address is web.de, the server is not
    yahoo = classify(Step.AUTH, REFUSED, account("smtp.mail.yahoo.com", None, "ada@yahoo.de"))
    assert "allow mail programs" not in yahoo.hint
