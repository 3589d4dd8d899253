"""The test fixtures are real: stdlib smtplib and keyring talk to them over real sockets."""

from __future__ import annotations

import base64
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time

import keyring
import pytest
from keyring.backends import SecretService as SecretServiceBackend
from keyring.backends import fail

from tests.support.smtp_servers import RecordingHandler

MESSAGE = b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nHello.\r\n"
CLIENT_NAME = "client.example.test"  # avoids smtplib's getfqdn() DNS lookup


def tls_context(ca_file) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


def connect_starttls(server) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=5)
    client.starttls(context=tls_context(server.ca_file))
    return client


def test_starttls_login_delivers(smtp_server):
    server = smtp_server()
    with connect_starttls(server) as client:
        client.login("alice@example.test", "correct horse")
        client.sendmail("alice@example.test", ["bob@example.test"], MESSAGE)

    [received] = server.messages
    assert received.mail_from == "alice@example.test"
    assert received.rcpt_tos == ["bob@example.test"]
    assert received.data == MESSAGE
    assert received.authenticated_as == "alice@example.test"
    assert not received.smtputf8
    assert server.auth_attempts == ["alice@example.test"]


def test_starttls_server_requires_tls_before_mail(smtp_server):
    server = smtp_server()
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=5) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        code, _ = client.mail("alice@example.test")
        assert code == 530


def test_implicit_tls_login_delivers(smtp_server):
    server = smtp_server(mode="tls")
    context = tls_context(server.ca_file)
    with smtplib.SMTP_SSL(
        server.host, server.port, local_hostname=CLIENT_NAME, context=context, timeout=5
    ) as client:
        client.login("bob", "hunter2")
        client.sendmail("bob@example.test", ["alice@example.test"], MESSAGE)
    [received] = server.messages
    assert received.authenticated_as == "bob"


def test_wrong_password_is_refused_and_attempt_recorded(smtp_server):
    server = smtp_server()
    with connect_starttls(server) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            client.login("alice@example.test", "wrong")
    assert caught.value.smtp_code == 535
    # smtplib tries PLAIN, then LOGIN: one attempt each, usernames only.
    assert set(server.auth_attempts) == {"alice@example.test"}


def test_non_ascii_credentials_are_accepted(smtp_server):
    server = smtp_server()
    token = base64.b64encode("\0jürgen@example.test\0pässwörd-€".encode()).decode()
    with connect_starttls(server) as client:
        client.ehlo()
        code, _ = client.docmd("AUTH", f"PLAIN {token}")
        assert code == 235
        client.sendmail("jurgen@example.test", ["bob@example.test"], MESSAGE)
    assert server.messages[0].authenticated_as == "jürgen@example.test"


@pytest.mark.parametrize("cert", ["untrusted", "wrong_host"])
def test_bad_certificate_fails_starttls_verification(smtp_server, cert):
    server = smtp_server(cert=cert)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=5) as client:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=tls_context(server.ca_file))


@pytest.mark.parametrize("cert", ["untrusted", "wrong_host"])
def test_bad_certificate_fails_implicit_tls_verification(smtp_server, cert):
    server = smtp_server(mode="tls", cert=cert)
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(
            server.host,
            server.port,
            local_hostname=CLIENT_NAME,
            context=tls_context(server.ca_file),
            timeout=5,
        )


class TempFailHandler(RecordingHandler):
    async def handle_DATA(self, server, session, envelope):
        return "451 4.3.0 Try again later"


def test_custom_handler_replaces_default(smtp_server):
    server = smtp_server(mode="plain", users=None, handler=TempFailHandler())
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    assert caught.value.smtp_code == 451
    assert server.messages == []


def test_plain_server_without_auth_delivers(smtp_server):
    server = smtp_server(mode="plain", users=None)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=5) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        assert not client.has_extn("starttls")
        client.sendmail("a@example.test", ["b@example.test", "c@example.test"], MESSAGE)
    [received] = server.messages
    assert received.rcpt_tos == ["b@example.test", "c@example.test"]
    assert received.authenticated_as is None


def test_server_without_starttls_still_offers_auth(smtp_server):
    server = smtp_server(offer_starttls=False)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=5) as client:
        client.ehlo()
        assert client.has_extn("auth")
        assert not client.has_extn("starttls")


def test_size_is_advertised_and_enforced(smtp_server):
    server = smtp_server(data_size_limit=1000)
    big = MESSAGE + (b"x" * 78 + b"\r\n") * 30
    with connect_starttls(server) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "1000"
        client.login("bob", "hunter2")
        # smtplib declares SIZE= on MAIL FROM, so the refusal comes early...
        with pytest.raises(smtplib.SMTPSenderRefused) as early:
            client.sendmail("bob@example.test", ["alice@example.test"], big)
        # ...and without the declaration the server still refuses after the data.
        client.rset()
        assert client.mail("bob@example.test")[0] == 250
        assert client.rcpt("alice@example.test")[0] == 250
        late_code, _ = client.data(big)
    assert early.value.smtp_code == 552
    assert late_code == 552
    assert server.messages == []


def test_smtputf8_is_advertised_and_recorded(smtp_server):
    server = smtp_server(smtputf8=True)
    with connect_starttls(server) as client:
        client.ehlo()
        assert client.has_extn("smtputf8")
        client.login("bob", "hunter2")
        body = "Subject: grüße\r\n\r\nÄ\r\n".encode()
        client.sendmail("jürgen@example.test", ["bob@example.test"], body, ["SMTPUTF8"])
    [received] = server.messages
    assert received.smtputf8
    assert received.mail_from == "jürgen@example.test"
    assert received.data == body


def test_smtputf8_is_off_by_default(smtp_server):
    server = smtp_server(mode="plain", users=None)
    with smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=5) as client:
        client.ehlo()
        assert not client.has_extn("smtputf8")
        assert not client.has_extn("size")


def test_stop_closes_open_client_connections(smtp_server):
    server = smtp_server()
    client = connect_starttls(server)
    server.stop()
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        client.noop()
    client.close()


def test_scripted_server_that_never_greets_times_out(scripted_server):
    def silent(conn: socket.socket) -> None:
        conn.recv(1)  # returns when the client gives up or the fixture stops

    host, port = scripted_server(silent)
    started = time.monotonic()
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        smtplib.SMTP(host, port, local_hostname=CLIENT_NAME, timeout=0.3)
    assert time.monotonic() - started < 2


def test_keyring_round_trip_through_secret_service(secret_service):
    assert isinstance(keyring.get_keyring(), SecretServiceBackend.Keyring)
    keyring.set_password("relaydesk", "alice", "pässwörd-€")
    assert keyring.get_password("relaydesk", "alice") == "pässwörd-€"
    keyring.delete_password("relaydesk", "alice")
    assert keyring.get_password("relaydesk", "alice") is None


SUBPROCESS_ROUND_TRIP = """
import keyring
print(type(keyring.get_keyring()).__module__)
print(keyring.get_password("relaydesk", "bob"))
keyring.set_password("relaydesk", "carol", "from child")
"""


def test_keyring_from_subprocess_shares_the_secret_service(secret_service):
    keyring.set_password("relaydesk", "bob", "hunter2")
    result = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_ROUND_TRIP],
        env=secret_service,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.splitlines() == ["keyring.backends.SecretService", "hunter2"]
    assert keyring.get_password("relaydesk", "carol") == "from child"


def test_no_keyring_env_has_no_usable_backend(no_keyring):
    assert isinstance(keyring.get_keyring(), fail.Keyring)
    code = "import keyring; print(type(keyring.get_keyring()).__module__)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=no_keyring,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.strip() in {"keyring.backends.fail", "keyring.backends.chainer"}
    with pytest.raises(keyring.errors.NoKeyringError):
        keyring.set_password("relaydesk", "alice", "x")


def test_relaydesk_home_is_fresh(relaydesk_home):
    assert os.environ["RELAYDESK_HOME"] == str(relaydesk_home)
    assert list(relaydesk_home.iterdir()) == []
