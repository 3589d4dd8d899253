"""One row of a merge run, rendered into the exact bytes that will be queued.

Every check a row can fail is made here, so validating a run and queueing it
use the same code: an address that is not valid, a Cc that is not, a value
with a line break headed for a header, a field with no value and no fallback,
a per-row attachment that cannot be read.
"""

from __future__ import annotations

import html as html_module
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from app import __version__
from app.core.delivery.addresses import (
    ascii_address,
    check_header_value,
    dedupe_addresses,
    needs_smtputf8,
    parse_address_list,
    validate_address,
)
from app.core.delivery.merge import mime
from app.core.delivery.merge.fields import Piece, field_key
from app.core.delivery.merge.template import MergeTemplate
from app.core.delivery.message import Attachment, BuiltMessage, html_to_text
from app.core.errors import InvalidInput

_SPLIT = re.compile(r"[;|\n]")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The common shape of an address: dot-atom local part, ASCII domain. Its domain is
# checked once per run (most lists share a few domains); anything else takes the
# full validator.
_PLAIN_ADDRESS = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@({_LABEL}(?:\.{_LABEL})*)")


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    try:
        return validate_address(f"postmaster@{domain}").rpartition("@")[2]
    except InvalidInput:
        return None  # the full check on the real address says why


def quick_address(raw: str) -> str:
    """``validate_address`` for a list of thousands: the same answers, domains checked once."""
    text = raw.strip(" \t")
    match = _PLAIN_ADDRESS.fullmatch(text)
    if match is None or len(match.group(1)) > 64 or len(text) > 254:
        return validate_address(raw)
    domain = _checked_domain(match.group(2))
    return validate_address(raw) if domain is None else f"{match.group(1)}@{domain}"


@dataclass(frozen=True)
class MergeOptions:
    """Which columns hold what, and the optional unsubscribe link."""

    to_column: str = "email"
    cc_column: str = "cc"
    attachments_column: str = "attachments"
    # mailto: or https: link (placeholders allowed); https adds one-click (RFC 8058).
    unsubscribe: str | None = None
    base_dir: Path = field(default_factory=Path.cwd)  # per-row attachment paths are relative here


@dataclass
class Renderer:
    """Renders rows of one run for one sender; caches the template's attachment parts."""

    template: MergeTemplate
    sender: str
    sender_name: str = ""
    options: MergeOptions = field(default_factory=MergeOptions)

    def __post_init__(self) -> None:
        self.sender = ascii_address(validate_address(self.sender))
        self._from = header_from(self.sender_name, self.sender)
        self._domain = self.sender.rpartition("@")[2]
        self._pieces = self.template.pieces()
        self._needed = sorted(set().union(*(p.needed() for p in self._pieces)))
        self._unsubscribe = Piece.parse(self.options.unsubscribe or "")
        if self.options.unsubscribe is not None:
            _check_link(self.options.unsubscribe)
        self._fixed_parts = [_part(a) for a in self.template.attachments]
        self._row_parts: dict[Path, bytes] = {}
        self._to_name, self._to_address = _split_mailbox(self.template.to)
        self._to_key = field_key(self.options.to_column)
        self._cc_key = field_key(self.options.cc_column)
        self._files_key = field_key(self.options.attachments_column)

    def render(self, values: dict[str, str]) -> BuiltMessage:
        """The message for one row; InvalidInput (naming the problem) if the row cannot go."""
        missing = [key for key in self._needed if not values.get(key, "").strip()]
        if missing:
            names = ", ".join(missing)
            raise InvalidInput(
                f"No value for {names}.",
                hint="Fill in the cell, or give the placeholder a fallback: {{"
                + missing[0]
                + "|…}}.",
            )
        address = self._address(values)
        cc = self._cc(values)
        subject = self.template.subject.render(values)
        check_header_value("subject", subject)
        lines = [self._from, mime.header("To", self._to(values, address))]
        if cc:
            lines.append(mime.header("Cc", ", ".join(cc)))
        if self.template.reply_to is not None:
            reply_to = parse_address_list(self.template.reply_to.render(values))
            lines.append(mime.header("Reply-To", ", ".join(_ascii(reply_to))))
        message_id = make_msgid(domain=self._domain)
        lines += [
            mime.header("Subject", subject),
            mime.header("Date", _date_now()),
            mime.header("Message-ID", message_id),
            b"MIME-Version: 1.0\r\n",
            mime.header("User-Agent", f"Relaydesk/{__version__}"),
        ]
        lines += self._unsubscribe_headers(values)
        for name, piece in self.template.headers:
            value = piece.render(values)
            check_header_value(name, value)
            lines.append(mime.header(name, value))
        lines.append(self._body(values))
        return BuiltMessage(
            data=b"".join(lines),
            envelope_from=self.sender,
            recipients=dedupe_addresses((address, *cc)),
            message_id=message_id,
            subject=subject,
            needs_smtputf8=False,
        )

    def _address(self, values: dict[str, str]) -> str:
        raw = values.get(self._to_key, "")
        if not raw.strip():
            raise InvalidInput(
                f"The {self.options.to_column} cell is empty.",
                hint="Fill in the address or remove the row.",
            )
        return self._plain(quick_address(raw))

    def _plain(self, address: str) -> str:
        if address.isascii():
            return address
        if needs_smtputf8(address):
            raise InvalidInput(
                f"“{address}” has a non-ASCII name before the @.",
                hint="Send to this person with a single message (relaydesk send); merge runs "
                "need plain ASCII mailbox names.",
            )
        return ascii_address(address)

    def _cc(self, values: dict[str, str]) -> tuple[str, ...]:
        raw = values.get(self._cc_key, "")
        if not raw.strip():
            return ()
        return tuple(self._plain(a) for a in parse_address_list(raw.replace(";", ",")))

    def _to(self, values: dict[str, str], address: str) -> str:
        if self._to_name is None:
            return address
        name = self._to_name.render(values).strip()
        check_header_value("To", name)
        if self._to_address is not None:
            named = self._to_address.render(values).strip()
            if named.lower() != address.lower() and self._plain(named).lower() != address.lower():
                raise InvalidInput(
                    "The template's To line does not name this row's address.",
                    hint="Write the To line as {{name}} <{{email}}>, or leave it out.",
                )
        return formataddr((name, address), charset="utf-8")

    def _unsubscribe_headers(self, values: dict[str, str]) -> list[bytes]:
        if not self.options.unsubscribe:
            return []
        link = self._unsubscribe.render(values, escape=lambda v: quote(v, safe=""))
        _check_link(link)
        found = [mime.header("List-Unsubscribe", f"<{link}>")]
        if link.startswith("https://"):
            found.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
        return found

    def _body(self, values: dict[str, str]) -> bytes:
        html = None
        if self.template.html is not None:
            html = self.template.html.render(values, escape=html_module.escape)
        if self.template.text is not None:
            text = self.template.text.render(values)
        else:
            text = html_to_text(html or "")
        return mime.body(text, html, [*self._fixed_parts, *self._row_attachments(values)])

    def _row_attachments(self, values: dict[str, str]) -> list[bytes]:
        raw = values.get(self._files_key, "")
        parts = []
        for name in (n.strip() for n in _SPLIT.split(raw)):
            if not name:
                continue
            path = (self.options.base_dir / Path(name).expanduser()).resolve()
            part = self._row_parts.get(path)
            if part is None:
                part = _part(Attachment.from_path(path))
                if len(self._row_parts) >= 16:  # keep memory flat when every row differs
                    self._row_parts.clear()
                self._row_parts[path] = part
            parts.append(part)
        return parts


def _date_now() -> str:
    """The Date header value, formatted once a second (a run makes thousands)."""
    second = int(time.time())
    if _DATE[0] != second:
        _DATE[:] = [second, format_datetime(datetime.now().astimezone())]
    return str(_DATE[1])


_DATE: list[object] = [0, ""]


def _check_link(link: str) -> None:
    check_header_value("unsubscribe link", link)
    if not link.startswith(("mailto:", "https://", "http://")) or not link.isascii():
        raise InvalidInput(
            f"The unsubscribe link “{link[:80]}” is not a mailto: or https: address.",
            hint="Use e.g. mailto:leave@example.com or https://example.com/unsubscribe?u={{id}}",
        )


def _split_mailbox(to: Piece | None) -> tuple[Piece | None, Piece | None]:
    """The display-name and address parts of a To template like ``{{name}} <{{email}}>``."""
    if to is None:
        return None, None
    text = to.source.strip()
    if text.endswith(">") and "<" in text:
        name, _, address = text[:-1].rpartition("<")
        return Piece.parse(name.strip().strip('"')), Piece.parse(address)
    return Piece.parse(""), to  # an address alone: it must be this row's


def header_from(name: str, address: str) -> bytes:
    """The From field for the account."""
    check_header_value("sender name", name)
    return mime.header("From", formataddr((name.strip(), address), charset="utf-8"))


def _part(attachment: Attachment) -> bytes:
    check_header_value("attachment file name", attachment.filename)
    return mime.attachment_part(attachment.filename, attachment.mime_type, attachment.read())


def _ascii(addresses: tuple[str, ...]) -> list[str]:
    return [ascii_address(a) for a in addresses]
