"""The transcript: redaction and rendering, without sockets."""

from __future__ import annotations

import re
from base64 import b64encode

import pytest

from app.core.smtp.transcript import Transcript, TranscriptLine, redact


def b64(text: str) -> str:
    return b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("line", "in_auth", "expected"),
    [
        (f"AUTH PLAIN {b64(chr(0) + 'alice' + chr(0) + 'secret')}", False, "AUTH PLAIN <redacted>"),
        (f"AUTH LOGIN {b64('alice')}", False, "AUTH LOGIN <redacted>"),
        ("auth plain AGFsaWNlAHNlY3JldA==", False, "auth plain <redacted>"),
        ("AUTH LOGIN", False, "AUTH LOGIN"),
        (b64("secret"), True, "<redacted>"),
        ("*", True, "<redacted>"),
        ("MAIL FROM:<alice@example.test>", False, "MAIL FROM:<alice@example.test>"),
        ("EHLO [127.0.0.1]", False, "EHLO [127.0.0.1]"),
    ],
)
def test_redact(line: str, in_auth: bool, expected: str) -> None:
    assert redact(line, in_auth=in_auth) == expected


def test_auth_login_exchange_hides_both_credentials_but_keeps_challenges() -> None:
    transcript = Transcript()
    transcript.client("AUTH LOGIN")
    transcript.server("334 VXNlcm5hbWU6")
    transcript.client(b64("alice"))
    transcript.server("334 UGFzc3dvcmQ6")
    transcript.client(b64("pässwörd"))
    transcript.server("235 2.7.0 Authentication successful")
    transcript.client("MAIL FROM:<alice@example.test>")

    texts = [line.text for line in transcript.lines]
    assert texts == [
        "AUTH LOGIN",
        "334 VXNlcm5hbWU6",
        "<redacted>",
        "334 UGFzc3dvcmQ6",
        "<redacted>",
        "235 2.7.0 Authentication successful",
        "MAIL FROM:<alice@example.test>",
    ]


def test_a_multi_line_334_does_not_end_the_exchange_early() -> None:
    transcript = Transcript()
    transcript.client("AUTH LOGIN")
    transcript.server("334-first")
    transcript.server("334 VXNlcm5hbWU6")
    transcript.client(b64("alice"))
    assert transcript.lines[-1].text == "<redacted>"


def test_failed_auth_ends_the_exchange() -> None:
    transcript = Transcript()
    transcript.client(f"AUTH PLAIN {b64('x')}")
    transcript.server("535 5.7.8 Authentication credentials invalid")
    transcript.client("QUIT")
    assert transcript.lines[-1].text == "QUIT"


def test_lines_stream_live_to_the_callback() -> None:
    seen: list[TranscriptLine] = []
    transcript = Transcript(on_line=seen.append)
    transcript.server("220 mail.example.test ESMTP")
    transcript.client("EHLO [127.0.0.1]")
    transcript.note("TLS 1.3 established")
    assert [(line.direction, line.text) for line in seen] == [
        ("S", "220 mail.example.test ESMTP"),
        ("C", "EHLO [127.0.0.1]"),
        ("*", "TLS 1.3 established"),
    ]
    assert seen == transcript.lines


def test_render_has_local_time_with_milliseconds_and_direction() -> None:
    transcript = Transcript()
    transcript.client("EHLO host")
    transcript.server("250 ok")
    transcript.note("<message data: 12 bytes>")
    rendered = transcript.render().splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} C: EHLO host", rendered[0])
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} S: 250 ok", rendered[1])
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} \* <message data: 12 bytes>", rendered[2])
