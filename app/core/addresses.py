"""Email addresses and header values: validation before anything is built.

Python 3.11.7 predates the fixes for header injection (CVE-2024-6923) and for
``parseaddr`` accepting odd input (CVE-2023-27043), so every address and header
value is checked here rather than trusted to the ``email`` package.

Addresses are bare (``name@example.com``): display names travel separately and
are joined by :func:`format_mailbox`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from email.headerregistry import Address

from email_validator import EmailNotValidError, validate_email

from app.core.errors import HeaderInjection, InvalidAddress

ADDRESS_HINT = "Check the spelling; an address looks like name@example.com."

# Everything str.splitlines() breaks on (the email package refuses header values
# that split), plus the other C0 controls and DEL. TAB is ordinary whitespace.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_LIST_SEPARATORS = re.compile(r"[,;\s]+")


def _show(text: str, limit: int = 60) -> str:
    """Quote user input for a message: control characters escaped, long text cut."""
    shown = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f"“{shown}”"


def _invalid(text: str, reason: str, hint: str = ADDRESS_HINT) -> InvalidAddress:
    return InvalidAddress(
        f"{_show(text)} is not a valid email address: {reason}",
        hint=hint,
        details={"address": text},
    )


def _validate(text: str) -> tuple[str, str]:
    """Return (normalized address, the same with an ASCII/IDNA domain)."""
    if _CONTROL.search(text):
        raise _invalid(text, "it contains a line break or control character.")
    candidate = text.strip(" \t")
    if not candidate:
        raise InvalidAddress("An email address is empty.", hint=ADDRESS_HINT)
    if "," in candidate or ";" in candidate:
        raise _invalid(
            text,
            "it holds more than one address.",
            hint="Enter one address per field, or separate addresses in a list with commas.",
        )
    if "<" in candidate or ">" in candidate:
        raise _invalid(
            text,
            "only the bare address is accepted here, without a name or angle brackets.",
            hint="Enter just name@example.com; the display name has its own field.",
        )
    try:
        result = validate_email(
            candidate,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        raise _invalid(text, str(error)) from None
    local: str = result.local_part
    return f"{local}@{result.domain}", f"{local}@{result.ascii_domain}"


def validate_address(text: str) -> str:
    """Validate one bare address and return it normalized.

    The local part keeps its case (email-validator only applies Unicode NFC);
    the domain is lowercased and IDNA-normalized, in its Unicode form.
    Raises InvalidAddress naming the input.
    """
    return _validate(text)[0]


def ascii_address(address: str) -> str:
    """The address with its domain as IDNA A-labels (``bücher.de`` → ``xn--bcher-kva.de``).

    The local part is unchanged, so the result is pure ASCII only when
    :func:`needs_smtputf8` is False.
    """
    return _validate(address)[1]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def address_key(address: str) -> str:
    """What two spellings of one mailbox share: ASCII case folded, domain as A-labels.

    Only ASCII letters are folded. ``str.casefold()`` would make ``boß`` equal
    ``boss`` and ``straße.de`` equal ``strasse.de`` (ß → ss), which are other
    mailboxes and another domain (``xn--strae-oqa.de``).
    """
    local, _, domain = address.rpartition("@")
    return f"{local.translate(_ASCII_LOWER)}@{_ascii_domain(domain).translate(_ASCII_LOWER)}"


@functools.lru_cache(maxsize=1024)
def _ascii_domain(domain: str) -> str:
    # A thousand recipients share a handful of domains: convert each once.
    try:
        return ascii_address(f"postmaster@{domain}").rpartition("@")[2]
    except InvalidAddress:
        return domain  # not a deliverable domain: compare it as written


def dedupe_addresses(addresses: Iterable[str]) -> tuple[str, ...]:
    """Drop repeats, comparing as :func:`address_key`; the first spelling and order are kept."""
    seen: set[str] = set()
    unique: list[str] = []
    for address in addresses:
        key = address_key(address)
        if key not in seen:
            seen.add(key)
            unique.append(address)
    return tuple(unique)


def parse_address_list(values: str | Iterable[str]) -> tuple[str, ...]:
    """Split, validate and deduplicate addresses.

    Accepts ``"a@x.com, b@y.com; c@z.com"`` or an iterable whose items may
    themselves hold commas, semicolons or whitespace. Empty items are dropped.
    """
    items = [values] if isinstance(values, str) else list(values)
    found: list[str] = []
    for item in items:
        if _CONTROL.search(item.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
            # A line break between addresses is a separator; other controls are not.
            raise _invalid(item, "it contains a control character.")
        found.extend(validate_address(part) for part in _LIST_SEPARATORS.split(item) if part)
    return dedupe_addresses(found)


def check_header_value(name: str, value: str) -> None:
    """Refuse a header value that could end the header early (CR, LF, NUL, other controls)."""
    match = _CONTROL.search(value)
    if match is None:
        return
    raise HeaderInjection(
        f"The {name} {_show(value)} contains a line break or control character "
        f"({_show(match.group())}).",
        hint=f"Remove the line breaks from the {name}; it must be a single line.",
        details={"header": name},
    )


def needs_smtputf8(address: str) -> bool:
    """True when the address can only travel over SMTPUTF8 (RFC 6531).

    Only a non-ASCII local part needs it: a non-ASCII domain is sent as IDNA
    A-labels (see :func:`ascii_address`), which every server understands.
    """
    local, _, _ = address.rpartition("@")
    return not local.isascii()


def format_mailbox(name: str, address: str) -> str:
    """``Name <address>`` with the name quoted where RFC 5322 needs it.

    Non-ASCII names are returned as Unicode: the message policy RFC 2047-encodes
    them (or, under SMTPUTF8, writes them as UTF-8) when the message is serialised.
    """
    check_header_value("display name", name)
    local, _, domain = validate_address(address).rpartition("@")
    return str(Address(display_name=name.strip(), username=local, domain=domain))
