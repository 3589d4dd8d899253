"""Address validation and header checks, as a person typing addresses meets them."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from app.core.delivery.addresses import (
    ascii_address,
    check_header_value,
    format_mailbox,
    is_private_address,
    needs_smtputf8,
    parse_address_list,
    split_address_list,
    validate_address,
)
from app.core.errors import ExitCode, HeaderInjection, InvalidAddress


def test_valid_address_keeps_local_part_and_lowercases_domain() -> None:
    assert validate_address("Bob.Smith@EXAMPLE.com") == "Bob.Smith@example.com"
    assert validate_address("  ann@example.org\t") == "ann@example.org"


def test_idn_domain_is_kept_in_unicode_and_available_as_ascii() -> None:
    assert validate_address("hans@BÜCHER.de") == "hans@bücher.de"
    assert ascii_address("hans@bücher.de") == "hans@xn--bcher-kva.de"
    assert not needs_smtputf8("hans@bücher.de")


def test_non_ascii_local_part_needs_smtputf8() -> None:
    assert validate_address("jörg@example.com") == "jörg@example.com"
    assert needs_smtputf8("jörg@example.com")
    assert not needs_smtputf8("joerg@example.com")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("bob@@x.com", "invalid characters"),
        ("Bob <bob@example.com>", "without a name or angle brackets"),
        ("<bob@example.com>", "angle brackets"),
        ("a@example.com, b@example.com", "more than one address"),
        ("a@b.com\nRCPT TO:<x@evil.example>", "line break"),
        ("a@b.com\r", "line break"),
        ("a@b.com\x00", "control character"),
        ("no-at-sign.example.com", "@"),
        ("a b@example.com", ""),
    ],
)
def test_invalid_addresses_are_refused_with_the_input_named(text: str, reason: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        validate_address(text)
    error = caught.value
    assert error.exit_code == ExitCode.DATAERR
    assert "is not a valid email address" in error.message
    assert reason in error.message
    assert error.hint
    # The message is shown on one line: control characters appear escaped.
    assert "\n" not in error.message and "\r" not in error.message
    assert text[:7] in error.message


def test_bad_address_message_quotes_it() -> None:
    with pytest.raises(InvalidAddress) as caught:
        validate_address("bob@@x")
    assert caught.value.message.startswith("“bob@@x” is not a valid email address: ")
    assert caught.value.hint == "Check the spelling; an address looks like name@example.com."


def test_empty_address_is_refused() -> None:
    with pytest.raises(InvalidAddress, match="empty"):
        validate_address("   ")


def test_address_list_splits_validates_and_dedupes() -> None:
    assert parse_address_list("a@x.com, b@y.com; c@z.com") == ("a@x.com", "b@y.com", "c@z.com")
    assert parse_address_list(["a@x.com,B@Y.com", "", "c@z.com  A@X.COM", " ;, "]) == (
        "a@x.com",
        "B@y.com",
        "c@z.com",
    )
    assert parse_address_list("a@x.com\nb@y.com") == ("a@x.com", "b@y.com")
    assert parse_address_list("") == ()


def test_address_list_names_the_bad_entry() -> None:
    with pytest.raises(InvalidAddress, match="“b@@y.com”"):
        parse_address_list("a@x.com, b@@y.com")


def test_address_list_refuses_display_names() -> None:
    with pytest.raises(InvalidAddress):
        parse_address_list(["Bob <bob@example.com>"])


@pytest.mark.parametrize(
    "value",
    ["hi\r\nBcc: evil@x.example", "hi\nthere", "hi\rthere", "nul\x00", "esc\x1b[31m", "ls\u2028x"],
)
def test_header_values_with_line_breaks_are_refused(value: str) -> None:
    with pytest.raises(HeaderInjection) as caught:
        check_header_value("subject", value)
    assert "subject" in caught.value.message
    assert "line break" in caught.value.hint
    assert "\n" not in caught.value.message


def test_ordinary_header_values_pass() -> None:
    check_header_value("subject", "Quarterly report\t— Überblick ✓")
    check_header_value("subject", "")


@pytest.mark.parametrize(
    ("name", "expected_header"),
    [
        ("Ann Example", "Ann Example <ann@example.com>"),
        ("Doe, John", '"Doe, John" <ann@example.com>'),
        ("", "ann@example.com"),
    ],
)
def test_format_mailbox_quotes_names(name: str, expected_header: str) -> None:
    assert format_mailbox(name, "ann@example.com") == expected_header


def test_format_mailbox_non_ascii_name_round_trips_through_a_header() -> None:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = format_mailbox("Jürgen Müller, Dr.", "jm@example.com")
    msg.set_content("x")
    data = msg.as_bytes()
    assert data.isascii()  # RFC 2047-encoded under the SMTP policy
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    (address,) = parsed["From"].addresses
    assert address.display_name == "Jürgen Müller, Dr."
    assert address.addr_spec == "jm@example.com"


def test_format_mailbox_refuses_injection_in_the_name() -> None:
    with pytest.raises(HeaderInjection):
        format_mailbox("Ann\r\nBcc: evil@x.example", "ann@example.com")


@pytest.mark.parametrize(
    "address",
    [
        "alice@corp.local", "me@example.test", "root@localhost", "x@box.lan",
        "x@svc.internal", "x@nas.home.arpa", "x@home.arpa", "x@corp", "x@intranet",
        "x@mail.example", "x@dev.localhost", "x@Mail.Corp.LOCAL",
    ],
)  # fmt: skip
def test_private_network_domains_are_accepted(address: str) -> None:
    """Issue 13: company relays, home servers and local test servers use these every day."""
    normalised = validate_address(address)
    assert normalised.lower() == address.lower()
    assert ascii_address(address) == normalised
    assert is_private_address(normalised)


def test_idn_under_a_private_suffix_keeps_both_forms() -> None:
    assert validate_address("x@bücher.test") == "x@bücher.test"
    assert ascii_address("x@bücher.test") == "x@xn--bcher-kva.test"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("ops@relay.invalid", "can never be delivered"),
        ("x@invalid", "can never be delivered"),
        ("x@abc.onion", "Tor"),
        ("x@1.168.192.in-addr.arpa", "special-use"),
        ("x@-bad.local", "hyphen"),
        ("x@corp..local", "period"),
    ],
)
def test_undeliverable_special_names_are_refused_with_the_reason(address: str, reason: str) -> None:
    with pytest.raises(InvalidAddress, match=reason):
        validate_address(address)


def test_public_addresses_get_no_private_note() -> None:
    assert not is_private_address("a@example.com")
    assert not is_private_address("a@mail.lan.example.com")


def test_lists_split_like_an_address_header() -> None:
    assert split_address_list('"Doe, J" <j@x.com>, k@y.com') == ['"Doe, J" <j@x.com>', "k@y.com"]
    assert split_address_list("root, bob@example.com") == ["root", "bob@example.com"]
    with pytest.raises(InvalidAddress, match="only the bare address"):
        parse_address_list('"Doe, J" <j@x.com>, k@y.com')
    with pytest.raises(InvalidAddress, match="line break"):
        parse_address_list(["a@b.com\nRCPT TO:<x@evil.example>"], line_breaks_separate=False)


def test_validation_leaves_email_validator_untouched() -> None:
    """The special-use list is read, never changed: other users of the library keep theirs."""
    import email_validator

    before = list(email_validator.SPECIAL_USE_DOMAIN_NAMES)
    validate_address("alice@corp.local")
    assert email_validator.SPECIAL_USE_DOMAIN_NAMES == before
    with pytest.raises(email_validator.EmailNotValidError):
        email_validator.validate_email("alice@corp.local", check_deliverability=False)


def test_the_fast_path_agrees_with_email_validator() -> None:
    """Plain addresses skip email-validator; it must give the very same answer for each."""
    import random

    import email_validator

    from app.core.delivery import addresses

    assert set(email_validator.SPECIAL_USE_DOMAIN_NAMES) <= set(addresses._KNOWN_SPECIAL_USE)
    pieces = ["a", "z", "0", "9", ".", "-", "--", "_", "+", "'", "~", "A", "xn--", "ü", "@",
              "..", "co", "local", "test", "arpa", "1", "postmaster", "INFO", "x" * 63]  # fmt: skip
    rng = random.Random(13)
    fast = 0
    for _ in range(30000):
        local = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 4)))
        domain = ".".join(
            "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(1, 4))
        )
        candidate = f"{local}@{domain}"
        if not addresses._plain(candidate):
            continue
        fast += 1
        result = email_validator.validate_email(
            candidate,
            check_deliverability=False,
            globally_deliverable=False,
            allow_smtputf8=True,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
        assert f"{result.local_part}@{result.domain}" == candidate
        assert f"{result.local_part}@{result.ascii_domain}" == candidate
    assert fast > 600  # the corpus really exercised the fast path
