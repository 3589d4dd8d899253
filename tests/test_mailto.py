"""mailto: links (RFC 6068) become a draft; links that try to plant headers are refused."""

from __future__ import annotations

import pytest

from app.core.delivery.mailto import MailtoDraft, is_mailto, parse_mailto
from app.core.errors import HeaderInjection, InvalidInput


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # RFC 6068 §6.1 basic examples
        ("mailto:chris@example.com", MailtoDraft(to=("chris@example.com",))),
        (
            "mailto:infobot@example.com?subject=current-issue",
            MailtoDraft(to=("infobot@example.com",), subject="current-issue"),
        ),
        (
            "mailto:infobot@example.com?body=send%20current-issue%0D%0Asend%20index",
            MailtoDraft(to=("infobot@example.com",), body="send current-issue\nsend index"),
        ),
        (
            "mailto:joe@example.com?cc=bob@example.com&body=hello",
            MailtoDraft(to=("joe@example.com",), cc=("bob@example.com",), body="hello"),
        ),
        ("mailto:gorby%25kremvax@example.com", MailtoDraft(to=("gorby%kremvax@example.com",))),
        (
            "mailto:unlikely%3Faddress@example.com?blat=foop",
            MailtoDraft(to=("unlikely?address@example.com",), ignored=("blat",)),
        ),
        ("mailto:Mike%26family@example.org", MailtoDraft(to=("Mike&family@example.org",))),
        # RFC 6068 §6.2 complicated examples
        ("mailto:%22not%40me%22@example.org", MailtoDraft(to=('"not@me"@example.org',))),
        ("mailto:%22oh%5C%5Cno%22@example.org", MailtoDraft(to=('"oh\\\\no"@example.org',))),
        (
            "mailto:%22%5C%5C%5C%22it's%5C%20ugly%5C%5C%5C%22%22@example.org",
            MailtoDraft(to=('"\\\\\\"it\'s\\ ugly\\\\\\""@example.org',)),
        ),
        (
            "mailto:user@example.org?subject=caf%C3%A9",
            MailtoDraft(to=("user@example.org",), subject="café"),
        ),
        (
            "mailto:user@example.org?subject=%3D%3Futf-8%3FQ%3Fcaf%3DC3%3DA9%3F%3D",
            MailtoDraft(to=("user@example.org",), subject="café"),
        ),
        (
            "mailto:user@%E7%B4%8D%E8%B1%86.example.org?subject=Test&body=NATTO",
            MailtoDraft(to=("user@納豆.example.org",), subject="Test", body="NATTO"),
        ),
        (
            "mailto:?to=addr1@an.example,addr2@an.example",
            MailtoDraft(to=("addr1@an.example", "addr2@an.example")),
        ),
        (
            "mailto:addr1@an.example?to=addr2@an.example",
            MailtoDraft(to=("addr1@an.example", "addr2@an.example")),
        ),
    ],
)
def test_rfc6068_examples(url: str, expected: MailtoDraft) -> None:
    assert parse_mailto(url) == expected


def test_everything_a_link_can_fill_in() -> None:
    draft = parse_mailto(
        "MAILTO:a@example.com,b@example.com?CC=c@example.com&Bcc=d@example.com,e@example.com"
        "&Subject=Q3%20figures%20%2B%20notes&BODY=Hi%21%0D%0A%0D%0ASee%20you.&cc=f@example.com"
    )
    assert draft.to == ("a@example.com", "b@example.com")
    assert draft.cc == ("c@example.com", "f@example.com")
    assert draft.bcc == ("d@example.com", "e@example.com")
    assert draft.subject == "Q3 figures + notes"
    assert draft.body == "Hi!\n\nSee you."


def test_plus_is_a_plus_not_a_space() -> None:
    draft = parse_mailto("mailto:ada+lists@example.com?subject=a+b")
    assert draft.to == ("ada+lists@example.com",)
    assert draft.subject == "a+b"


def test_display_names_with_commas_stay_one_address() -> None:
    draft = parse_mailto("mailto:?to=%22Doe,%20Jane%22%20%3Cjane@example.com%3E,bob@example.com")
    assert draft.to == ('"Doe, Jane" <jane@example.com>', "bob@example.com")


def test_headers_a_link_must_not_set_are_dropped_and_reported() -> None:
    draft = parse_mailto(
        "mailto:bob@example.com?from=ceo@example.com&reply-to=evil@example.net"
        "&X-Mailer=spoof&attach=/etc/passwd&attachment=~/.ssh/id_rsa&in-reply-to=%3Cx@y%3E"
    )
    assert draft == MailtoDraft(
        to=("bob@example.com",),
        ignored=("from", "reply-to", "x-mailer", "attach", "attachment", "in-reply-to"),
    )


def test_first_subject_and_body_win() -> None:
    draft = parse_mailto("mailto:a@example.com?subject=one&subject=two&body=x&body=y")
    assert (draft.subject, draft.body) == ("one", "x")


def test_empty_link_gives_an_empty_draft() -> None:
    assert parse_mailto("mailto:") == MailtoDraft()
    assert parse_mailto("mailto:?") == MailtoDraft()
    assert parse_mailto("mailto:a@example.com#fragment") == MailtoDraft(to=("a@example.com",))


@pytest.mark.parametrize(
    "url",
    [
        "mailto:bob@example.com?subject=Hi%0D%0ABcc:%20victim@example.net",
        "mailto:bob@example.com?subject=Hi%0ABcc:%20victim@example.net",
        "mailto:bob@example.com?subject=Hi%0D",
        "mailto:bob@example.com%0D%0ABcc:victim@example.net",
        "mailto:?cc=bob@example.com%0ABcc:victim@example.net",
        "mailto:?bcc=bob@example.com%0D%0A",
    ],
)
def test_line_breaks_in_headers_are_refused(url: str) -> None:
    with pytest.raises(HeaderInjection) as caught:
        parse_mailto(url)
    assert "line break" in caught.value.message
    assert caught.value.hint


def test_encoded_word_hiding_a_line_break_is_not_decoded() -> None:
    raw = "=?utf-8?Q?a=0D=0AX-Evil:_1?="
    draft = parse_mailto(
        "mailto:bob@example.com?subject=%3D%3Futf-8%3FQ%3Fa%3D0D%3D0AX-Evil:_1%3F%3D"
    )
    assert draft.subject == raw


@pytest.mark.parametrize(
    "url",
    [
        "mailto:bob@example.com?subject=a%00b",
        "mailto:bob%00@example.com",
        "mailto:bob@example.com?body=a%1Bb",
    ],
)
def test_control_characters_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        parse_mailto(url)


@pytest.mark.parametrize(
    "url",
    [
        "mailto:bob@example.com?subject=100%",
        "mailto:bob@example.com?subject=%zz",
        "mailto:bob@example.com?subject=%C3%28",
        "https://example.com",
        "mailto:a@example.com?body=" + "x" * (256 * 1024),
    ],
)
def test_malformed_links_are_refused_with_a_hint(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_mailto(url)
    assert caught.value.hint
    assert caught.value.exit_code == 65


def test_is_mailto() -> None:
    assert is_mailto("mailto:a@example.com")
    assert is_mailto("MailTo:a@example.com")
    assert not is_mailto("--quick-send")
    assert not is_mailto("mail")
