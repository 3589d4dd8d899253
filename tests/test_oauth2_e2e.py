"""OAuth2 sign-in end to end: the real `relaydesk` entry point, a real authorization server
over HTTPS, a $BROWSER script that follows the redirect, and an SMTP server that checks tokens."""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.cli_runner import Cli
from tests.support.oauth_server import (
    CLIENT_ID,
    OAuthSmtpHandler,
    RunningAuthServer,
    start_auth_server,
    write_browser,
)

USER = "ada@example.com"


@pytest.fixture
def auth_server(ca: trustme.CA) -> Iterator[RunningAuthServer]:
    server = start_auth_server(ca, USER)
    yield server
    server.stop()


@pytest.fixture
def oauth(cli: Cli, ca: trustme.CA, tmp_path: Path, auth_server: RunningAuthServer, smtp_server):
    """A CLI whose browser is the test script, an SMTP server that wants tokens."""
    ca_file = tmp_path / "oauth-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cli.env["SSL_CERT_FILE"] = str(ca_file)
    cli.env["BROWSER"] = str(write_browser(tmp_path, ca_file, sys.executable))
    handler = OAuthSmtpHandler(auth_server.auth, ("XOAUTH2", "OAUTHBEARER"))
    smtp = smtp_server(mode="starttls", handler=handler)
    return {"cli": cli, "auth": auth_server, "smtp": smtp, "handler": handler, "ca": ca_file}


def _add(o: dict[str, Any], *extra: str, client_id: str = CLIENT_ID) -> Any:
    return o["cli"](
        "account", "add", "work", "--email", USER,
        "--host", "127.0.0.1", "--port", str(o["smtp"].port), "--security", "starttls",
        "--ca-file", str(o["smtp"].ca_file),
        "--oauth2-issuer", o["auth"].base_url,
        "--oauth2-client-id", client_id, "--oauth2-scope", "https://mail.test/send",
        "--oauth2-scope", "offline_access",
        *extra,
    )  # fmt: skip


def _send(o: dict[str, Any], subject: str) -> Any:
    return o["cli"](
        "send", "--account", "work", "--to", "bob@example.com", "--subject", subject,
        "--text", "hello", "--json",
    )  # fmt: skip


def test_sign_in_by_browser_then_send_and_test(oauth: dict[str, Any]) -> None:
    added = _add(oauth)
    assert added.code == 0, added.stderr
    assert "Opening your browser" in added.stderr
    listing = oauth["cli"]("account", "list", "--json").json["accounts"][0]
    assert listing["auth"] == "oauth2" and listing["needs_signin"] is False
    assert "token" not in str(listing).lower()

    sent = _send(oauth, "first")
    assert sent.code == 0, sent.stdout + sent.stderr
    assert [m.rcpt_tos for m in oauth["smtp"].messages] == [["bob@example.com"]]

    tested = oauth["cli"]("account", "test", "work", "--transcript")
    assert tested.code == 0, tested.stderr
    assert "AUTH XOAUTH2 <redacted>" in tested.stdout


def test_device_flow_prints_the_code_and_signs_in(oauth: dict[str, Any]) -> None:
    added = _add(oauth, "--oauth2-device")
    assert added.code == 0, added.stderr
    assert "enter the code WDJB-MJHT" in added.stderr
    assert "user_code=WDJB-MJHT" in added.stderr  # verification_uri_complete
    assert _send(oauth, "via device").code == 0


def test_expired_access_token_is_refreshed_silently(oauth: dict[str, Any]) -> None:
    assert _add(oauth).code == 0
    oauth["auth"].auth.expire_access_tokens()  # the SMTP server now refuses the cached one
    sent = _send(oauth, "after expiry")
    assert sent.code == 0, sent.stdout
    assert len(oauth["smtp"].messages) == 1
    assert oauth["handler"].rejected_tokens == 1  # refused once, renewed, AUTH retried
    assert "refresh_token" in oauth["auth"].auth.token_requests


def test_revoked_sign_in_keeps_the_message_until_login(oauth: dict[str, Any]) -> None:
    assert _add(oauth).code == 0
    oauth["auth"].auth.revoke_all()
    failed = _send(oauth, "kept")
    assert failed.code == 77, failed.stdout
    error = failed.json["error"]
    assert error["hint"] == "relaydesk account login work"
    assert oauth["smtp"].messages == []
    listing = oauth["cli"]("account", "list", "--json").json["accounts"][0]
    assert listing["needs_signin"] is True
    outbox = oauth["cli"]("outbox", "list", "--json").json
    assert [item["state"] for item in outbox] == ["retrying"]

    login = oauth["cli"]("account", "login", "work")
    assert login.code == 0, login.stderr
    assert [m.rcpt_tos for m in oauth["smtp"].messages] == [["bob@example.com"]]
    again = oauth["cli"]("outbox", "list", "--json").json
    assert [item["state"] for item in again] == []
    assert len(oauth["smtp"].messages) == 1  # exactly once


def test_declined_consent_is_explained_and_adds_nothing(oauth: dict[str, Any]) -> None:
    oauth["auth"].auth.decline = True
    added = _add(oauth, "--json")
    assert added.code == 77
    assert added.json["error"]["code"] == "signin_failed"
    assert "declined" in added.json["error"]["message"]
    assert oauth["cli"]("account", "list", "--json").json["accounts"] == []


def test_wrong_state_is_refused_and_times_out(oauth: dict[str, Any]) -> None:
    oauth["auth"].auth.forge_state = True
    oauth["cli"].env["RELAYDESK_OAUTH2_TIMEOUT"] = "3"
    added = _add(oauth, "--json")
    assert added.code == 77, added.stdout
    assert "No sign-in arrived" in added.json["error"]["message"]
    assert oauth["auth"].auth.token_requests == []  # no code was ever redeemed


def test_loopback_listener_is_closed_after_use(oauth: dict[str, Any]) -> None:
    added = _add(oauth)
    assert added.code == 0
    url = next(line for line in added.stderr.splitlines() if "redirect_uri=" in line)
    port = int(url.split("redirect_uri=http%3A%2F%2F127.0.0.1%3A")[1].split("%2F")[0])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_no_token_code_or_verifier_is_left_on_disk(oauth: dict[str, Any]) -> None:
    runs = [_add(oauth), _send(oauth, "one")]
    oauth["auth"].auth.expire_access_tokens()
    runs += [
        _send(oauth, "two"),
        oauth["cli"]("account", "test", "work", "--transcript", "--json"),
        oauth["cli"]("sendmail", "-t", stdin="To: carol@example.com\nSubject: cron\n\nhi\n"),
    ]
    assert [run.code for run in runs] == [0] * 5, runs[-1].stderr
    assert len(oauth["smtp"].messages) == 3  # sendmail used the token too
    printed = "".join(run.stdout + run.stderr for run in runs)
    home = Path(oauth["cli"].env["RELAYDESK_HOME"])
    blobs = [p.read_bytes() for p in home.rglob("*") if p.is_file()]
    with sqlite3.connect(next(home.rglob("*.sqlite*"))) as db:
        rows = [str(r) for t in ("audit", "outbox", "history", "account_oauth2", "settings")
                for r in db.execute(f"SELECT * FROM {t}")]  # fmt: skip
    secrets = oauth["auth"].auth.issued.every_secret
    assert secrets
    for secret in secrets:
        assert not any(secret.encode() in blob for blob in blobs)
        assert not any(secret in row for row in rows)
        assert secret not in printed


def test_remove_deletes_the_tokens_and_login_needs_an_account(oauth: dict[str, Any]) -> None:
    assert _add(oauth).code == 0
    assert oauth["cli"]("account", "remove", "work").code == 0
    import keyring

    keyring_env = oauth["cli"].env
    assert keyring_env  # the keyring is the test's Secret Service (same process env)
    for suffix in ("#oauth2-refresh", "#oauth2-access"):
        assert keyring.get_password("relaydesk", "work" + suffix) is None
    assert oauth["cli"]("account", "login", "work").code == 78


def test_ctrl_c_cancels_the_sign_in_and_closes_the_listener(
    oauth: dict[str, Any], tmp_path: Path
) -> None:
    import signal
    import subprocess
    import time

    idle = tmp_path / "idle-browser"
    idle.write_text("#!/bin/sh\nexit 0\n")  # the person never finishes in the browser
    idle.chmod(0o755)
    env = dict(oauth["cli"].env, BROWSER=str(idle))
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "account", "add", "work", "--email", USER,
         "--host", "127.0.0.1", "--port", str(oauth["smtp"].port),
         "--oauth2-issuer", oauth["auth"].base_url, "--oauth2-client-id", CLIENT_ID,
         "--oauth2-scope", "https://mail.test/send"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert process.stderr is not None
    url = ""
    deadline = time.monotonic() + 20
    while "redirect_uri=" not in url and time.monotonic() < deadline:
        url = process.stderr.readline()
    port = int(url.split("redirect_uri=http%3A%2F%2F127.0.0.1%3A")[1].split("%2F")[0])
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=20)
    assert process.returncode == 130, rest
    assert "Traceback" not in rest
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert oauth["cli"]("account", "list", "--json").json["accounts"] == []


def test_two_processes_refreshing_at_once_both_send(oauth: dict[str, Any]) -> None:
    """Refresh tokens rotate: a second process must not spend the old one after the first."""
    import subprocess

    assert _add(oauth).code == 0
    oauth["auth"].auth.expire_access_tokens()
    command = [sys.executable, "-m", "app", "send", "--account", "work",
               "--to", "bob@example.com", "--subject", "parallel", "--text", "hi"]  # fmt: skip
    processes = [
        subprocess.Popen(
            command,
            env=oauth["cli"].env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
        for _ in range(2)
    ]
    results = [(p.wait(timeout=60), p.communicate()[1]) for p in processes]
    assert [code for code, _ in results] == [0, 0], results
    assert len(oauth["smtp"].messages) == 2
    assert oauth["auth"].auth.token_requests.count("refresh_token") == 1
    listing = oauth["cli"]("account", "list", "--json").json["accounts"][0]
    assert listing["needs_signin"] is False


def test_mcp_send_email_uses_the_token(oauth: dict[str, Any], tmp_path: Path) -> None:
    import anyio

    from tests.test_mcp import session_run

    assert _add(oauth).code == 0
    oauth["auth"].auth.expire_access_tokens()  # the agent's send refreshes on its own
    cli = oauth["cli"]
    assert cli("policy", "set", "test-agent", "--allow-recipient", "example.com").code == 0
    seen = anyio.run(session_run, cli, tmp_path / "mcp.log")
    assert seen["sent"]["status"] == "sent" and not seen["sent_error"]
    assert [m.rcpt_tos for m in oauth["smtp"].messages] == [["bob@example.com"]]
    log = (tmp_path / "mcp.log").read_text()
    for secret in oauth["auth"].auth.issued.every_secret:
        assert secret not in log and secret not in json.dumps(seen, default=str)


def test_an_unknown_client_id_is_explained(oauth: dict[str, Any]) -> None:
    added = _add(oauth, "--json", client_id="not-registered")
    assert added.code == 77
    error = added.json["error"]
    assert error["details"]["oauth_error"] == "invalid_client"
    assert "does not know the client ID" in error["message"]
    assert "--oauth2-client-id" in error["hint"]
    assert oauth["cli"]("account", "list", "--json").json["accounts"] == []
