"""Email addresses and header values: validation before anything is built.

Python 3.11.7 predates the fixes for header injection (CVE-2024-6923) and for
``parseaddr`` accepting odd input (CVE-2023-27043), so every address and header
value is checked here rather than trusted to the ``email`` package.

Addresses are bare (``name@example.com``): display names travel separately and
are joined by :func:`format_mailbox`.

Deliverable somewhere is enough: email-validator assumes globally routable
addresses and refuses special-use names (``.test``, ``.local``, ``localhost``,
``home.arpa``) that company relays, home servers and local test servers use every
day. :func:`_validate` keeps email-validator for syntax and IDN and lets those
names through with a documented substitution (see ``_PRIVATE_SUFFIXES``); only
``.invalid`` (RFC 6761: never resolves) and the other special-use names stay
refused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from email.headerregistry import Address

from app.core.errors import HeaderInjection, InvalidAddress

ADDRESS_HINT = "Check the spelling; an address looks like name@example.com."

# Everything str.splitlines() breaks on (the email package refuses header values
# that split), plus the other C0 controls and DEL. TAB is ordinary whitespace.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_BARE_SEPARATORS = re.compile(r"[\s]+")

# Special-use suffixes (RFC 6761, 6762, 8375) that are delivered inside a private network:
# accepted. email-validator refuses every name on its SPECIAL_USE_DOMAIN_NAMES list; for
# these, the last label(s) are swapped for a placeholder of the same length before the
# syntax check (labels are checked one by one, so the rest is checked exactly as written)
# and the real suffix is put back afterwards. Its module list is read, never changed.
_PRIVATE_SUFFIXES = ("test", "local", "localhost", "home.arpa")
# Names that cannot have a mailbox at all, with the reason shown to the person.
_UNDELIVERABLE = {
    "invalid": "“.invalid” names are reserved (RFC 6761) and can never be delivered.",
    "onion": "“.onion” names are reachable only through Tor, not through an SMTP server.",
}
# email-validator's SPECIAL_USE_DOMAIN_NAMES as of 2.2: the fast path below must never see
# these (a test fails when the library's list grows beyond this copy).
_KNOWN_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")
# The plain addresses most mail goes to: lower-case ASCII dot-atom @ lower-case LDH labels,
# no "--" (IDNA rules), no special-use name. email-validator returns these unchanged, so
# they skip loading it (~25 ms of regex compilation per process: sendmail, cron). A test
# checks the fast path against email-validator on thousands of addresses.
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})*")
# Suffixes worth a quiet note in the GUI: reachable only inside some private network.
_PRIVATE_NOTE_SUFFIXES = (
    *_PRIVATE_SUFFIXES,
    "example",
    "lan",
    "internal",
    "corp",
    "home",
    "intranet",
    "private",
)


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


def _plain(candidate: str) -> bool:
    """True for an address email-validator would return unchanged (see _PLAIN_ADDRESS)."""
    if len(candidate) > 254 or not _PLAIN_ADDRESS.fullmatch(candidate):
        return False
    local, _, domain = candidate.rpartition("@")
    last = domain.rpartition(".")[2]
    return (
        len(local) <= 64
        and len(domain) <= 253
        and "--" not in domain
        and last not in _KNOWN_SPECIAL_USE
        and not last.isdigit()
    )


def _validate(text: str) -> tuple[str, str]:
    """Return (normalized address, the same with an ASCII/IDNA domain)."""
    if _CONTROL.search(text):
        raise _invalid(text, "it contains a line break or control character.")
    candidate = text.strip(" \t")
    if not candidate:
        raise InvalidAddress("An email address is empty.", hint=ADDRESS_HINT)
    if ("," in candidate or ";" in candidate) and '"' not in candidate:
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
    if _plain(candidate):
        return candidate, candidate
    from email_validator import EmailNotValidError, validate_email  # slow to load: see above

    local_text, at, domain_text = candidate.rpartition("@")
    suffix = _special_suffix(domain_text) if at else None
    if suffix in _UNDELIVERABLE:
        raise _invalid(text, _UNDELIVERABLE[suffix], hint="Use an address that can receive mail.")
    checked = candidate
    if suffix is not None:  # a private-use name: check the rest, keep the suffix (see above)
        checked = f"{local_text}@{domain_text[: -len(suffix)]}{'a' * len(suffix)}"
    try:
        result = validate_email(
            checked,
            check_deliverability=False,
            globally_deliverable=False,  # intranet names: single labels, no public TLD
            allow_smtputf8=True,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        raise _invalid(text, str(error)) from None
    local: str = result.local_part
    domain, ascii_domain = result.domain, result.ascii_domain
    if suffix is not None:
        domain = domain[: -len(suffix)] + suffix
        ascii_domain = ascii_domain[: -len(suffix)] + suffix
    return f"{local}@{domain}", f"{local}@{ascii_domain}"


def _special_suffix(domain: str) -> str | None:
    """The special-use suffix of ``domain`` that is handled here, else None.

    A private-use suffix (``local``, ``home.arpa``…) is substituted before the syntax
    check; an undeliverable one (``invalid``) is refused with its reason. Any other
    special-use name (``in-addr.arpa``) is left to email-validator, which refuses it.
    """
    lowered = domain.strip().rstrip(".").lower()
    for name in (*_PRIVATE_SUFFIXES, *_UNDELIVERABLE):
        if lowered == name or lowered.endswith("." + name):
            if name in _PRIVATE_SUFFIXES and not domain.lower().endswith(name):
                return None  # a trailing dot or space: let the validator explain
            return name
    return None


def is_private_address(address: str) -> bool:
    """True when the address's domain is only reachable inside a private network.

    Single-label names (``corp``) and private-use suffixes (``.local``, ``.lan``,
    ``.internal``, ``.test``…): accepted everywhere, but worth a quiet note.
    """
    domain = address.rpartition("@")[2].strip().lower()
    if not domain:
        return False
    if "." not in domain:
        return True
    return any(
        domain == suffix or domain.endswith("." + suffix) for suffix in _PRIVATE_NOTE_SUFFIXES
    )


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


def split_address_list(
    values: str | Iterable[str], *, line_breaks_separate: bool = True
) -> list[str]:
    """Split address lists without validating them; empty entries are dropped.

    Commas separate addresses as in an RFC 5322 address list (the way the ``email``
    package reads a To header): a comma inside a quoted string, angle brackets or a
    comment does not split. Semicolons and line breaks separate too (people paste
    lists from other programs), and so does whitespace between bare addresses.
    Without ``line_breaks_separate`` (one-line fields: command line, tool, headers) a
    line break is refused, naming the whole entry: it is how SMTP commands get smuggled.
    """
    items = [values] if isinstance(values, str) else list(values)
    found: list[str] = []
    for item in items:
        unfolded = item.replace("\t", " ")
        if line_breaks_separate:  # a line break between addresses separates them
            unfolded = unfolded.replace("\n", " ").replace("\r", " ")
        if _CONTROL.search(unfolded):
            raise _invalid(item, "it contains a line break or control character.")
        for part in _split_top_level(item):
            if any(mark in part for mark in '"<(') or "@" not in part:
                found.append(part.strip())  # one entry; a display name is refused later
            else:
                found.extend(_BARE_SEPARATORS.split(part.strip()))
    return [entry for entry in found if entry]


def _split_top_level(text: str) -> list[str]:
    """Split at , ; CR LF outside quotes, angle brackets and comments."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    depth = {"<": 0, "(": 0}
    closing = {">": "<", ")": "("}
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char in depth:
            depth[char] += 1
        elif not quoted and char in closing and depth[closing[char]]:
            depth[closing[char]] -= 1
        elif not quoted and not any(depth.values()) and char in ",;\r\n":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_address_list(
    values: str | Iterable[str], *, line_breaks_separate: bool = True
) -> tuple[str, ...]:
    """Split (see :func:`split_address_list`), validate and deduplicate addresses.

    Accepts ``"a@x.com, b@y.com; c@z.com"`` or an iterable whose items may
    themselves hold such lists. Empty items are dropped.
    """
    parts = split_address_list(values, line_breaks_separate=line_breaks_separate)
    return dedupe_addresses(validate_address(part) for part in parts)


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
