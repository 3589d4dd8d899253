"""``mailto:`` URLs (RFC 6068) as a draft the compose window can start from.

Only what a person would expect a link to fill in is taken: To, Cc, Bcc, Subject and the
body. Every other header field a link names (From, Reply-To, attachments, arbitrary
``X-`` headers...) is dropped and reported in ``MailtoDraft.ignored``, because a web page
must not be able to choose the sender, attach local files or plant headers. Nothing here
is sent: the person still reviews the draft, and the normal address checks run on send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from urllib.parse import unquote

from app.core.errors import HeaderInjection, InvalidInput

SCHEME = "mailto:"
# Links carry a draft, not a mailbox; anything longer is almost certainly not meant for us.
MAX_URL_LENGTH = 256 * 1024

_ADDRESS_FIELDS = ("to", "cc", "bcc")
_TEXT_FIELDS = ("subject", "body")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Control characters other than TAB (and, in the body only, line breaks).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


@dataclass(frozen=True)
class MailtoDraft:
    """What a ``mailto:`` link asks for; addresses are as written, not yet validated."""

    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    ignored: tuple[str, ...] = ()  # header fields the link named that were dropped


def is_mailto(text: str) -> bool:
    """True when ``text`` is a ``mailto:`` URL (the scheme is case-insensitive)."""
    return text[: len(SCHEME)].lower() == SCHEME


def parse_mailto(url: str) -> MailtoDraft:
    """Parse a ``mailto:`` URL; raises InvalidInput or HeaderInjection for unsafe input."""
    if not is_mailto(url):
        raise InvalidInput(
            "This is not a mailto: link.",
            hint="A mail link starts with mailto:, for example mailto:ada@example.org.",
        )
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(
            "This mailto: link is too long to open.",
            hint=f"Links up to {MAX_URL_LENGTH // 1024} KiB are accepted.",
        )
    rest = url[len(SCHEME) :].split("#", 1)[0]  # a fragment means nothing to mail
    to_part, _, query = rest.partition("?")
    fields: dict[str, list[str]] = {name: [] for name in _ADDRESS_FIELDS}
    fields["to"].extend(_split_addresses(_decode(to_part, "to")))
    texts: dict[str, str] = {}
    ignored: list[str] = []
    for pair in query.split("&") if query else []:
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name = _decode(raw_name, "field name").strip().lower()
        if name in _ADDRESS_FIELDS:
            fields[name].extend(_split_addresses(_decode(raw_value, name)))
        elif name in _TEXT_FIELDS and name not in texts:
            texts[name] = _decode(raw_value, name)
        elif name not in ignored:
            ignored.append(name)
    return MailtoDraft(
        to=tuple(fields["to"]),
        cc=tuple(fields["cc"]),
        bcc=tuple(fields["bcc"]),
        subject=_subject(texts.get("subject", "")),
        body=_body(texts.get("body", "")),
        ignored=tuple(ignored),
    )


def _decode(raw: str, what: str) -> str:
    """Percent-decode UTF-8 (RFC 6068 §2); ``+`` stays a plus sign, unlike in web forms."""
    if _ESCAPE.search(raw):
        raise InvalidInput(
            f"The mailto: link has a broken %-escape in its {what}.",
            hint="Each % must be followed by two hexadecimal digits.",
        )
    try:
        return unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"The mailto: link's {what} is not valid UTF-8.",
            hint="Non-ASCII text in a mailto: link must be percent-encoded UTF-8.",
        ) from None


def _split_addresses(value: str) -> list[str]:
    """Split an address list at commas outside quotes, angle brackets and comments."""
    _refuse_line_breaks(value, "address")
    if _CONTROL.search(value):
        raise HeaderInjection(
            "The mailto: link has control characters in an address.",
            hint="Check the link; addresses cannot contain control characters.",
        )
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    depth = angle = 0
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif char == '"' and not depth:
            quoted = not quoted
        elif not quoted and char in "()":
            depth = max(0, depth + (1 if char == "(" else -1))
        elif not quoted and not depth and char in "<>":
            angle = 1 if char == "<" else 0
        elif char == "," and not (quoted or depth or angle):
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _subject(value: str) -> str:
    _refuse_line_breaks(value, "subject")
    if _CONTROL.search(value):
        raise HeaderInjection(
            "The mailto: link's subject contains control characters.",
            hint="Check the link; a subject is one line of text.",
        )
    if _ENCODED_WORD.search(value):
        # RFC 6068 §6.2 allows MIME encoded-words in a subject; show the text they stand for.
        try:
            decoded = str(make_header(decode_header(value)))
        except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
            return value
        if "\r" not in decoded and "\n" not in decoded and not _CONTROL.search(decoded):
            return decoded
    return value


def _body(value: str) -> str:
    """Body text with line breaks as ``\\n`` (links encode them as %0D%0A)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        raise InvalidInput(
            "The mailto: link's body contains control characters.",
            hint="Check the link; only text, tabs and line breaks can go in a message body.",
        )
    return text


def _refuse_line_breaks(value: str, what: str) -> None:
    if "\r" in value or "\n" in value:
        raise HeaderInjection(
            f"The mailto: link puts a line break into the {what}.",
            hint="That is how extra mail headers are smuggled in; the link was not opened.",
        )
