"""SmtpSession with OAuth2 tokens against a real aiosmtpd server (STARTTLS, trustme)."""

from __future__ import annotations

import time

import pytest

from app.core import errors
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.smtp.session import SmtpSession, Timeouts
from app.core.smtp.transcript import Transcript
from tests.support.oauth_server import AuthorizationServer, OAuthSmtpHandler

USER = "ada@example.com"


class Tokens:
    """A BearerToken whose tokens come from the test authorization server."""

    def __init__(self, auth: AuthorizationServer, mechanisms: tuple[str, ...]) -> None:
        self.auth = auth
        self.mechanisms = mechanisms
        self.current = "not-a-token"
        self.renewals = 0

    def token(self) -> str:
        return self.current

    def renew(self) -> str:
        self.renewals += 1
        self.current = self.auth._tokens(USER)["access_token"]
        return self.current


def _account(server) -> Account:
    return Account(
        name="work",
        email=USER,
        host=server.host,
        port=server.port,
        security=Security.STARTTLS,
        username=USER,
        password_mode=PasswordMode.OAUTH2,
        ca_file=str(server.ca_file),
    )


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_a_stale_token_is_renewed_once_and_auth_retried(smtp_server, mechanism: str) -> None:
    auth = AuthorizationServer(USER)
    handler = OAuthSmtpHandler(auth, (mechanism,))
    server = smtp_server(mode="starttls", handler=handler)
    tokens = Tokens(auth, (mechanism,))
    transcript = Transcript()
    with SmtpSession(_account(server), transcript=transcript) as session:
        session.open(tokens)
        session.check_sender(USER)
    assert tokens.renewals == 1
    assert handler.rejected_tokens == 1 and handler.accepted_tokens == 1
    rendered = transcript.render()
    assert f"AUTH {mechanism} <redacted>" in rendered
    assert tokens.current not in rendered
    assert "334 " in rendered  # the error challenge was answered, not left hanging


def test_a_token_refused_after_renewal_is_a_classified_failure_fast(smtp_server) -> None:
    auth = AuthorizationServer(USER)
    handler = OAuthSmtpHandler(auth, ("XOAUTH2",))
    server = smtp_server(mode="starttls", handler=handler)

    class Hopeless(Tokens):
        def renew(self) -> str:
            self.renewals += 1
            return "still-bad"

    tokens = Hopeless(auth, ("XOAUTH2",))
    started = time.monotonic()
    with pytest.raises(errors.AuthFailed) as caught:
        SmtpSession(_account(server), timeouts=Timeouts(command=5)).open(tokens)
    assert time.monotonic() - started < 4  # never waits out a timeout
    assert "refused the sign-in token" in caught.value.message
    assert caught.value.hint.startswith("Sign in again: relaydesk account login work")
    assert caught.value.details["token_status"] == "401"


def test_a_server_without_oauth2_login_says_so(smtp_server) -> None:
    server = smtp_server(mode="starttls")  # PLAIN and LOGIN only
    tokens = Tokens(AuthorizationServer(USER), ("XOAUTH2", "OAUTHBEARER"))
    with pytest.raises(errors.AuthNotOffered) as caught:
        SmtpSession(_account(server)).open(tokens)
    assert "does not offer OAuth2 sign-in" in caught.value.message
    assert tokens.renewals == 0
