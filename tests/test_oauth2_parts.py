"""The pure parts of OAuth2 sign-in: SASL bytes, provider error words, settings, client IDs,
the loopback listener (a real socket on 127.0.0.1)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request

import pytest

from app.core import errors
from app.core.accounts.model import Account, PasswordMode, Security
from app.core.accounts.oauth2 import problems
from app.core.accounts.oauth2.clients import resolve_client
from app.core.accounts.oauth2.config import OAuth2Settings, from_preset
from app.core.accounts.oauth2.loopback import LoopbackListener
from app.core.setup.fixes import SignInFix
from app.core.setup.presets import get_preset
from app.core.smtp import sasl
from app.core.smtp.diagnose import classify
from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step


def test_xoauth2_initial_response_bytes() -> None:
    raw = base64.b64decode(sasl.xoauth2_response("ada@example.com", "tok"))
    assert raw == b"user=ada@example.com\x01auth=Bearer tok\x01\x01"


def test_oauthbearer_has_the_gs2_header_with_escaped_authzid() -> None:
    raw = base64.b64decode(sasl.oauthbearer_response("a,b=c@x.com", "tok", "smtp.x.com", 587))
    assert raw == b"n,a=a=2Cb=3Dc@x.com,\x01host=smtp.x.com\x01port=587\x01auth=Bearer tok\x01\x01"


def test_error_challenge_is_decoded_and_answered_per_mechanism() -> None:
    challenge = base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"mail"}').decode()
    assert sasl.decode_error_challenge(challenge)["status"] == "401"
    assert sasl.decode_error_challenge("not base64!") == {}
    assert sasl.abort_response("XOAUTH2") == ""
    assert base64.b64decode(sasl.abort_response("OAUTHBEARER")) == b"\x01"


def test_the_mechanism_follows_preference_among_those_offered() -> None:
    assert sasl.choose(("PLAIN", "XOAUTH2", "OAUTHBEARER"), ("OAUTHBEARER", "XOAUTH2")) == (
        "OAUTHBEARER"
    )
    assert sasl.choose(("PLAIN", "XOAUTH2"), ("OAUTHBEARER", "XOAUTH2")) == "XOAUTH2"
    assert sasl.choose(("PLAIN", "LOGIN"), ("OAUTHBEARER", "XOAUTH2")) is None


@pytest.mark.parametrize(
    ("error", "description", "kind", "words"),
    [
        ("access_denied", "", errors.SignInFailed, "declined"),
        ("invalid_client", "", errors.SignInFailed, "client ID"),
        ("invalid_scope", "", errors.SignInFailed, "scope"),
        ("invalid_grant", "", errors.SignInRequired, "no longer valid"),
        ("invalid_request", "AADSTS65001: The user or administrator has not consented",
         errors.SignInFailed, "administrator must approve"),
        ("access_denied", "AADSTS53003: Access has been blocked by Conditional Access",
         errors.SignInFailed, "does not let this app sign in"),
        ("server_error", "something odd", errors.SignInFailed, "something odd"),
    ],
)  # fmt: skip
def test_provider_errors_in_plain_words(
    error: str, description: str, kind: type[errors.RelayError], words: str
) -> None:
    explained = problems.explain("work", error, description)
    assert type(explained) is kind
    assert explained.exit_code == 77
    assert words in explained.message
    if kind is errors.SignInRequired:
        assert explained.hint == "relaydesk account login work"


def test_microsoft_tenant_is_named_per_account() -> None:
    settings = from_preset(get_preset("microsoft365"), tenant="contoso.onmicrosoft.com")
    assert settings.auth_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    )
    assert "/contoso.onmicrosoft.com/" in settings.token_url
    with pytest.raises(errors.InvalidInput):
        from_preset(get_preset("outlook"), tenant="../evil")


@pytest.mark.parametrize("preset", ["gmail", "google-workspace", "outlook", "microsoft365",
                                    "yahoo", "aol"])  # fmt: skip
def test_major_providers_publish_oauth2_endpoints(preset: str) -> None:
    block = get_preset(preset).oauth2
    assert block is not None
    assert block.auth_url.startswith("https://") and block.token_url.startswith("https://")
    assert block.scopes and block.mechanisms


def test_no_client_id_explains_how_to_register_one(secret_service: dict[str, str]) -> None:
    settings = from_preset(get_preset("outlook"))
    with pytest.raises(errors.ClientIdMissing) as caught:
        resolve_client("mail", settings)
    assert caught.value.exit_code == 78
    assert "entra.microsoft.com" in caught.value.hint
    assert "--oauth2-client-id ID" in caught.value.hint
    assert "relaydesk account edit mail" in caught.value.hint
    own = settings.with_changes(client_id="my-app")
    assert resolve_client("mail", own).client_id == "my-app"


def test_plain_http_endpoints_are_refused() -> None:
    settings = OAuth2Settings("https://a.example/auth", "https://a.example/token", ("s",))
    with pytest.raises(errors.InvalidInput):
        settings.with_changes(token_url="http://a.example/token")


def _microsoft_account(preset: str, mode: PasswordMode = PasswordMode.KEYRING) -> Account:
    return Account(
        name="mail",
        email="ada@outlook.com",
        host="smtp-mail.outlook.com",
        port=587,
        security=Security.STARTTLS,
        username="ada@outlook.com",
        password_mode=mode,
        preset=preset,
    )


@pytest.mark.parametrize(
    ("reply", "preset"),
    [
        (Reply(535, ("5.7.139 Authentication unsuccessful, basic authentication is disabled.",)),
         "outlook"),
        (Reply(535, ("5.7.3 Authentication unsuccessful",)), "microsoft365"),
        (Reply(550, ("5.7.30 Basic authentication is not supported for Client Submission",)),
         "microsoft365"),
    ],
)  # fmt: skip
def test_basic_auth_off_offers_microsoft_sign_in_as_the_fix(reply: Reply, preset: str) -> None:
    error = classify(Step.AUTH, reply, _microsoft_account(preset))
    assert isinstance(error, errors.AuthFailed)
    assert error.fix == SignInFix(preset)
    assert error.fix.label == "Sign in with Microsoft instead"
    assert error.to_dict()["details"]["fix"] == {"signin": "oauth2", "preset": preset}
    assert "sign in with Microsoft" in error.hint.replace("Sign in", "sign in")
    signed_in = classify(Step.AUTH, reply, _microsoft_account(preset, PasswordMode.OAUTH2))
    assert signed_in.fix is None  # already signed in: no such fix


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_loopback_refuses_a_wrong_state_and_takes_the_right_one() -> None:
    with LoopbackListener("right") as listener:
        status, _ = _get(listener.redirect_uri + "?code=c1&state=wrong")
        assert status == 400
        status, page = _get(listener.redirect_uri + "?code=c2&state=right")
        assert status == 200 and "close this window" in page
        redirect = listener.wait(5)
    assert redirect.code == "c2"


def test_loopback_wait_can_be_cancelled_and_times_out() -> None:
    cancel = threading.Event()
    with LoopbackListener("s") as listener:
        threading.Timer(0.2, cancel.set).start()
        with pytest.raises(errors.Cancelled):
            listener.wait(30, cancel)
        with pytest.raises(errors.SignInFailed, match="No sign-in arrived"):
            listener.wait(0.3)


def test_settings_round_trip_through_json_without_secrets() -> None:
    settings = from_preset(get_preset("gmail"), client_id="id-1")
    text = settings.to_json()
    assert OAuth2Settings.from_json(text) == settings
    assert "secret" not in json.loads(text) or json.loads(text)["has_client_secret"] is False


def test_device_flow_honours_interval_and_slow_down(
    ca, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.accounts.oauth2.clients import Client
    from app.core.accounts.oauth2.flows import sign_in_device
    from tests.support.oauth_server import CLIENT_ID, start_auth_server

    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server = start_auth_server(ca, "ada@example.com")
    try:
        server.auth.slow_down_first = True
        settings = OAuth2Settings(
            f"{server.base_url}/authorize", f"{server.base_url}/token", ("mail",),
            device_url=f"{server.base_url}/device_authorization",
        )  # fmt: skip
        shown: list = []
        tokens = sign_in_device("work", settings, Client(CLIENT_ID), show=shown.append)
        assert tokens.access_token and shown[0].user_code == "WDJB-MJHT"
        first, second = server.auth.device_polls
        assert second - first >= 6  # interval 1 s + 5 s after slow_down (RFC 8628 §3.5)
    finally:
        server.stop()


def test_packaged_client_ids_are_the_fallback(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.accounts.oauth2 import clients

    packaged = tmp_path / "oauth2_clients.json"
    packaged.write_text(json.dumps({"clients": {
        "outlook": {"client_id": "release-app-id"},
        "gmail": {"client_id": "g.apps.googleusercontent.com", "client_secret": "not-secret"},
        "yahoo": {"client_id": ""},
    }}))  # fmt: skip
    monkeypatch.setattr(clients, "resource", lambda *parts: packaged)
    assert clients.resolve_client("m", from_preset(get_preset("outlook"))).client_id == (
        "release-app-id"
    )
    google = clients.resolve_client("g", from_preset(get_preset("gmail")))
    assert google.client_secret == "not-secret"
    own = from_preset(get_preset("outlook"), client_id="tenant-own-app")
    assert clients.resolve_client("m", own).client_id == "tenant-own-app"  # the account wins
    with pytest.raises(errors.ClientIdMissing):
        clients.resolve_client("y", from_preset(get_preset("yahoo")))


def test_the_repository_ships_no_client_ids() -> None:
    from app.core.accounts.oauth2.clients import packaged_clients

    assert packaged_clients() == {}
