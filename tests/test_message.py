"""Building messages: what a recipient (and the SMTP server) would see."""

from __future__ import annotations

import email
import email.policy
import os
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from app import __version__
from app.core.delivery.message import Attachment, BuiltMessage, Draft, build
from app.core.errors import (
    ExitCode,
    HeaderInjection,
    InvalidAddress,
    InvalidInput,
    MessageTooLarge,
    UnreadableFile,
)

SENDER = "ann@example.com"


def parse(built: BuiltMessage) -> EmailMessage:
    msg = email.message_from_bytes(built.data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def content(part: EmailMessage | None) -> str:
    """A text part's content with the wire's CRLF line endings read as newlines."""
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def assert_only_crlf(data: bytes) -> None:
    assert re.search(rb"\r(?!\n)", data) is None, "bare CR in data"
    assert re.search(rb"(?<!\r)\n", data) is None, "bare LF in data"


def test_headers_are_what_the_recipient_sees() -> None:
    when = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
    draft = Draft(
        to=("bob@example.org",),
        cc=("carol@example.net",),
        reply_to=("replies@example.com",),
        subject="Quarterly report",
        text="Hello Bob,\nsee you.\n",
        in_reply_to="<original.123@example.org>",
    )
    built = build(draft, sender=SENDER, sender_name="Ann Example", date=when)
    msg = parse(built)

    assert msg["From"] == "Ann Example <ann@example.com>"
    assert msg["To"] == "bob@example.org"
    assert msg["Cc"] == "carol@example.net"
    assert msg["Reply-To"] == "replies@example.com"
    assert msg["Subject"] == "Quarterly report"
    assert msg["Date"].datetime == when
    assert msg["Message-ID"] == built.message_id
    assert re.fullmatch(r"<[^@<>]+@example\.com>", built.message_id)
    assert msg["In-Reply-To"] == "<original.123@example.org>"
    assert msg["References"] == "<original.123@example.org>"
    assert msg["MIME-Version"] == "1.0"
    assert msg["User-Agent"] == f"Relaydesk/{__version__}"
    assert msg.get_content_type() == "text/plain"
    assert content(msg) == "Hello Bob,\nsee you.\n"
    assert built.envelope_from == SENDER
    assert built.recipients == ("bob@example.org", "carol@example.net")
    assert built.subject == "Quarterly report"
    assert not built.needs_smtputf8
    assert built.size == len(built.data)
    assert built.data.isascii()
    assert_only_crlf(built.data)


def test_no_cc_header_when_there_is_no_cc() -> None:
    msg = parse(build(Draft(to=("bob@example.org",), text="x"), sender=SENDER))
    assert "Cc" not in msg
    assert "Reply-To" not in msg
    assert "In-Reply-To" not in msg


def test_bcc_is_never_in_the_data_but_is_a_recipient() -> None:
    draft = Draft(to=("bob@example.org",), bcc=("secret@example.net",), text="hi")
    built = build(draft, sender=SENDER)
    assert b"secret" not in built.data
    assert "Bcc" not in parse(built)
    assert built.recipients == ("bob@example.org", "secret@example.net")


def test_bcc_only_message_gets_an_undisclosed_to() -> None:
    built = build(Draft(bcc=("secret@example.net",), text="hi"), sender=SENDER)
    assert b"secret" not in built.data
    assert parse(built)["To"] == "undisclosed-recipients:;"
    assert built.recipients == ("secret@example.net",)


def test_recipients_are_deduplicated_case_insensitively_in_order() -> None:
    draft = Draft(
        to=("Bob@Example.org", "carol@example.net", "bob@example.org"),
        cc=("CAROL@example.net", "dave@example.com"),
        bcc=("bob@EXAMPLE.ORG",),
        text="x",
    )
    built = build(draft, sender=SENDER)
    assert built.recipients == ("Bob@example.org", "carol@example.net", "dave@example.com")
    assert parse(built)["To"] == "Bob@example.org, carol@example.net"


def test_no_recipients_is_refused() -> None:
    with pytest.raises(InvalidInput, match="No recipients"):
        build(Draft(subject="hi", text="x"), sender=SENDER)


def test_header_injection_in_subject_is_refused_and_nothing_built() -> None:
    draft = Draft(to=("bob@example.org",), subject="hi\r\nBcc: evil@x.example", text="x")
    with pytest.raises(HeaderInjection) as caught:
        build(draft, sender=SENDER)
    assert caught.value.exit_code == ExitCode.DATAERR
    assert "subject" in caught.value.message


@pytest.mark.parametrize(
    "field", ["to", "cc", "bcc", "reply_to"], ids=["to", "cc", "bcc", "reply-to"]
)
def test_smuggled_smtp_command_in_an_address_is_refused(field: str) -> None:
    fields: dict[str, tuple[str, ...]] = {"to": ("bob@example.org",)}
    fields[field] = ("a@b.com\nRCPT TO:<x@evil.example>",)
    with pytest.raises(InvalidAddress, match="a@b.com"):
        build(Draft(text="x", **fields), sender=SENDER)


def test_bad_sender_and_sender_name_are_refused() -> None:
    draft = Draft(to=("bob@example.org",), text="x")
    with pytest.raises(InvalidAddress):
        build(draft, sender="ann@@example.com")
    with pytest.raises(HeaderInjection, match="sender name"):
        build(draft, sender=SENDER, sender_name="Ann\nBcc: evil@x.example")
    with pytest.raises(HeaderInjection):
        build(Draft(to=("bob@example.org",), in_reply_to="<a@b>\r\nBcc: x@y"), sender=SENDER)


def test_empty_subject_is_allowed() -> None:
    msg = parse(build(Draft(to=("bob@example.org",), text="x"), sender=SENDER))
    assert msg["Subject"] == ""


@pytest.mark.parametrize(
    "text",
    [
        "line one\nline two\n",
        "bare\rcarriage return\r",
        "mixed\r\nendings\nhere\rand there",
        "before\n.\nafter\n",
        "überall\rumlaut\n.\n",
    ],
)
def test_body_line_endings_become_crlf(text: str) -> None:
    built = build(Draft(to=("bob@example.org",), text=text), sender=SENDER)
    assert_only_crlf(built.data)
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert content(parse(built)).rstrip("\n") == expected.rstrip("\n")


def test_lone_dot_line_is_kept_as_content() -> None:
    built = build(Draft(to=("bob@example.org",), text="a\n.\nb\n"), sender=SENDER)
    assert b"\r\n.\r\n" in built.data  # smtplib dot-stuffs it on the wire
    assert content(parse(built)) == "a\n.\nb\n"


def test_line_longer_than_998_characters_survives() -> None:
    long_line = "x" * 1001  # no space to fold at
    built = build(Draft(to=("bob@example.org",), text=f"start\n{long_line}\nend\n"), sender=SENDER)
    assert max(len(line) for line in built.data.split(b"\r\n")) <= 998
    assert content(parse(built)) == f"start\n{long_line}\nend\n"


def test_non_ascii_text_and_subject_are_encoded_for_plain_smtp() -> None:
    draft = Draft(to=("bob@example.org",), subject="Grüße 🌍", text="Grüße aus Köln 🌍\n")
    built = build(draft, sender=SENDER, sender_name="Jürgen Müller, Dr.")
    assert not built.needs_smtputf8
    assert built.data.isascii()  # needs no 8BITMIME either
    msg = parse(built)
    assert msg["Subject"] == "Grüße 🌍"
    (sender,) = msg["From"].addresses
    assert sender.display_name == "Jürgen Müller, Dr."
    assert sender.addr_spec == SENDER
    assert content(msg) == "Grüße aus Köln 🌍\n"


def test_non_ascii_local_part_needs_smtputf8_and_is_raw_utf8() -> None:
    draft = Draft(to=("jörg@example.org",), subject="Grüße", text="hi")
    built = build(draft, sender=SENDER, sender_name="Ann")
    assert built.needs_smtputf8
    assert "jörg@example.org".encode() in built.data
    assert "Subject: Grüße".encode() in built.data
    assert built.recipients == ("jörg@example.org",)
    assert_only_crlf(built.data)


def test_idn_domain_goes_out_as_ascii_without_smtputf8() -> None:
    built = build(Draft(to=("hans@bücher.de",), text="hi"), sender="ann@exämple.com")
    assert not built.needs_smtputf8
    assert built.recipients == ("hans@xn--bcher-kva.de",)
    assert built.envelope_from == "ann@xn--exmple-cua.com"
    assert built.message_id.endswith("@xn--exmple-cua.com>")
    assert parse(built)["To"] == "hans@xn--bcher-kva.de"


def test_text_and_html_make_an_alternative_with_text_first() -> None:
    draft = Draft(to=("bob@example.org",), text="Plain *hello*\n", html="<p>Hello</p>")
    msg = parse(build(draft, sender=SENDER))
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert content(parts[0]) == "Plain *hello*\n"
    assert "<p>Hello</p>" in parts[1].get_content()


def test_html_only_gets_a_plain_text_fallback() -> None:
    html = (
        "<html><head><style>p {color: red}</style><title>T</title></head><body>"
        "<h1>Invoice&nbsp;42</h1><p>Total: 10 &euro; &amp; tax</p>"
        "<ul><li>one</li><li>two</li></ul><script>alert(1)</script></body></html>"
    )
    msg = parse(build(Draft(to=("bob@example.org",), html=html), sender=SENDER))
    text = content(msg.get_body(preferencelist=("plain",)))
    assert text == "Invoice 42\n\nTotal: 10 € & tax\n\n- one\n- two\n"
    assert "<" not in text and "color" not in text and "alert" not in text
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None and "<h1>" in html_part.get_content()


def test_attachments_arrive_byte_for_byte(tmp_path: Path) -> None:
    binary = os.urandom(1_000_000)
    small = os.urandom(3000) + b"\r\n.\r\n\n\r" + os.urandom(100)
    big_file = tmp_path / "data.bin"
    big_file.write_bytes(binary)
    report = tmp_path / "Prüfbericht ä.pdf"
    report.write_bytes(small)
    draft = Draft(
        to=("bob@example.org",),
        text="Files attached.",
        html="<p>Files attached.</p>",
        attachments=(
            Attachment.from_path(big_file),
            Attachment.from_path(report),
            Attachment("notes.txt", data=b"line1\nline2\rline3"),
        ),
    )
    built = build(draft, sender=SENDER)
    assert_only_crlf(built.data)
    assert built.data.isascii()  # the non-ASCII file name is RFC 2231-encoded
    msg = parse(built)
    assert msg.get_content_type() == "multipart/mixed"
    first = next(msg.iter_parts())
    assert first.get_content_type() == "multipart/alternative"
    files = list(msg.iter_attachments())
    assert [f.get_filename() for f in files] == ["data.bin", "Prüfbericht ä.pdf", "notes.txt"]
    assert [f.get_content_disposition() for f in files] == ["attachment"] * 3
    assert [f.get_content_type() for f in files] == [
        "application/octet-stream",
        "application/pdf",
        "text/plain",
    ]
    assert files[0].get_payload(decode=True) == binary
    assert files[1].get_payload(decode=True) == small
    assert files[2].get_payload(decode=True) == b"line1\nline2\rline3"


def test_text_only_with_attachment_is_mixed() -> None:
    draft = Draft(
        to=("bob@example.org",), text="see file", attachments=(Attachment("a.csv", data=b"1,2"),)
    )
    msg = parse(build(draft, sender=SENDER))
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/csv"]


def test_missing_attachment_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "report.pdf"
    with pytest.raises(UnreadableFile) as caught:
        Attachment.from_path(missing)
    assert str(missing) in caught.value.message
    assert caught.value.exit_code == ExitCode.DATAERR
    assert caught.value.hint


def test_directory_attachment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="folder"):
        Attachment.from_path(tmp_path)


def test_attachment_deleted_before_build_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"
    path.write_bytes(b"x")
    attachment = Attachment.from_path(path)
    path.unlink()
    with pytest.raises(UnreadableFile, match="gone.txt"):
        build(Draft(to=("bob@example.org",), attachments=(attachment,)), sender=SENDER)


def test_message_over_the_server_limit_is_refused_with_sizes() -> None:
    draft = Draft(
        to=("bob@example.org",), attachments=(Attachment("big.bin", data=os.urandom(9_000_000)),)
    )
    with pytest.raises(MessageTooLarge) as caught:
        build(draft, sender=SENDER, max_size=10_000_000)
    error = caught.value
    assert re.fullmatch(
        r"The message is 12\.\d MB; the server accepts at most 10\.0 MB\.", error.message
    )
    assert "attachment" in error.hint and "link" in error.hint
    assert error.exit_code == ExitCode.DATAERR


def test_message_within_the_limit_is_built() -> None:
    built = build(Draft(to=("bob@example.org",), text="small"), sender=SENDER, max_size=10_000)
    assert built.size < 10_000


def test_given_message_id_is_kept() -> None:
    draft = Draft(to=("bob@example.org",), text="x")
    first = build(draft, sender=SENDER)
    again = build(draft, sender=SENDER, message_id=first.message_id)
    assert again.message_id == first.message_id
    assert parse(again)["Message-ID"] == first.message_id
    assert build(draft, sender=SENDER).message_id != first.message_id


def test_long_in_reply_to_is_not_mangled() -> None:
    original = (
        "<DM6PR11MB4657ABCDEF0123456789ABCDEF0123456789@DM6PR11MB4657.namprd11.prod.outlook.com>"
    )
    built = build(Draft(to=("bob@example.org",), text="x", in_reply_to=original), sender=SENDER)
    assert f"In-Reply-To: {original}\r\n".encode() in built.data
    assert f"References: {original}\r\n".encode() in built.data
