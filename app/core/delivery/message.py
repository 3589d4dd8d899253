"""Build the exact bytes of a message from a draft.

``build()`` validates everything before building anything, so a bad address,
header or file is reported without a half-made message. The result is ready for
``DATA``: CRLF line endings only, no Bcc header.

SMTP extensions the caller must arrange: when ``BuiltMessage.needs_smtputf8``
is False the data is 7-bit clean (bodies quoted-printable or base64 where
needed, headers RFC 2047/2231-encoded, domains as IDNA A-labels) and needs no
extension. When it is True (a non-ASCII local part somewhere), headers are raw
UTF-8 and bodies may be 8bit: check that the server offers SMTPUTF8 (else raise
SmtpUtf8Unsupported) and send ``MAIL FROM`` with ``SMTPUTF8 BODY=8BITMIME``.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.headerregistry import Address, BaseHeader, Group, HeaderRegistry, MessageIDHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, cast

from app import __version__
from app.core.delivery.addresses import (
    ascii_address,
    check_header_value,
    dedupe_addresses,
    needs_smtputf8,
    parse_address_list,
    validate_address,
)
from app.core.errors import InvalidInput, MessageTooLarge, UnreadableFile
from app.core.limits import check_body
from app.core.sizes import megabytes

FALLBACK_TYPE = "application/octet-stream"
# mimetypes reports compression apart from the type ("x.tar.gz" → x-tar +
# gzip), but the bytes attached are the compressed ones.
_COMPRESSED_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
}
_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
_MIME_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}")
_MSG_ID = re.compile(r"<[^<>\s]+>")
_LINE_ENDING = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Attachment:
    """A file to attach: read from ``path`` at build time, or given as ``data``."""

    filename: str
    content_type: str | None = None
    path: Path | None = None
    data: bytes | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise InvalidInput(
                f"The attachment “{self.filename}” needs either a file or its contents.",
                hint="Give exactly one of path and data.",
            )

    @classmethod
    def from_path(cls, path: str | Path) -> Attachment:
        """An attachment for a file on disk; UnreadableFile if it cannot be read now.

        Only regular files: a device (``/dev/zero``) never ends, a FIFO blocks.
        """
        full = attachment_path(path)
        with open_regular(full):
            pass
        return cls(filename=full.name, path=full)

    @property
    def mime_type(self) -> str:
        """The content type to send: the given one, else guessed from the file name."""
        if self.content_type:
            return self.content_type
        guessed, encoding = mimetypes.guess_type(self.filename, strict=False)
        if encoding is not None:
            return _COMPRESSED_TYPES.get(encoding, FALLBACK_TYPE)
        if guessed is None or guessed.split("/")[0] in ("message", "multipart"):
            # message/* and multipart/* may not be base64-encoded (RFC 2046).
            return FALLBACK_TYPE
        return guessed

    def read(self) -> bytes:
        """The bytes to attach; UnreadableFile if the file went away or cannot be read."""
        if self.data is not None:
            return self.data
        assert self.path is not None  # __post_init__ guarantees one of the two
        with open_regular(self.path) as handle:
            try:
                return handle.read()
            except OSError as error:
                raise _unreadable(self.path, error) from None


def attachment_path(path: str | Path) -> Path:
    """The absolute path of an attachment; InvalidInput for a name no file can have."""
    text = str(path)
    if "\0" in text:
        raise UnreadableFile(
            "An attachment path contains a NUL byte, which no file name can hold.",
            hint="Check how the path was produced; give the file's real path.",
        )
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise UnreadableFile(
            "An attachment path is not valid text (it holds a lone surrogate).",
            hint="Give the file's real path.",
        ) from None
    return Path(path).expanduser().absolute()


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file (checked on what was opened).

    O_NONBLOCK keeps a FIFO from hanging the open; the check after it refuses
    devices, FIFOs, sockets and folders, whatever the name pointed at before.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise _unreadable(path, error) from None
    try:
        require_regular(fd, path)
    except UnreadableFile:
        os.close(fd)
        raise
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def require_regular(fd: int, path: Path) -> os.stat_result:
    """The status of the opened file; UnreadableFile unless it is a regular file.

    The one check every face uses (CLI, GUI, tool): a device never ends, a FIFO
    blocks, a folder has no bytes to attach.
    """
    try:
        info = os.fstat(fd)
    except OSError as error:
        raise _unreadable(path, error) from None
    if stat.S_ISDIR(info.st_mode):
        raise _unreadable(path, IsADirectoryError(path))
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(
            f"“{path}” is not a regular file (it is a device, pipe or socket).",
            hint="Attach an ordinary file; save the data to a file first if needed.",
            details={"path": str(path)},
        )
    return info


def _unreadable(path: Path, error: OSError) -> UnreadableFile:
    details = {"path": str(path)}
    if isinstance(error, FileNotFoundError):
        return UnreadableFile(
            f"The file “{path}” does not exist.",
            hint="Check the path and the spelling of the file name.",
            details=details,
        )
    if isinstance(error, IsADirectoryError):
        return UnreadableFile(
            f"“{path}” is a folder, not a file.",
            hint="Attach the files inside it, or compress the folder into one file first.",
            details=details,
        )
    if isinstance(error, PermissionError):
        return UnreadableFile(
            f"Relaydesk is not allowed to read “{path}”.",
            hint="Check the file's permissions, or copy it somewhere readable.",
            details=details,
        )
    return UnreadableFile(
        f"The file “{path}” cannot be read: {error.strerror or error}.",
        hint="Check that the file is still there and readable.",
        details=details,
    )


@dataclass(frozen=True)
class Draft:
    """What the person wrote; addresses are bare (validated by build())."""

    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    reply_to: tuple[str, ...] = ()
    in_reply_to: str | None = None


@dataclass(frozen=True)
class BuiltMessage:
    """The bytes to send after DATA and the envelope that goes with them."""

    data: bytes
    envelope_from: str
    recipients: tuple[str, ...]
    message_id: str
    subject: str
    needs_smtputf8: bool

    @property
    def size(self) -> int:
        """Size in bytes as transmitted (before dot-stuffing)."""
        return len(self.data)


class _TextExtractor(HTMLParser):
    """Plain text from HTML: tags dropped, entities unescaped, blocks on new lines."""

    _LINES = frozenset("br div dt dd li tr".split())
    _PARAGRAPHS = frozenset(
        "address article aside blockquote dl footer h1 h2 h3 h4 h5 h6 "
        "header hr ol p pre section table ul".split()
    )
    _HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._LINES or tag in self._PARAGRAPHS:
            self.parts.append("\n- " if tag == "li" else "\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._PARAGRAPHS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """A readable plain-text version of an HTML body (the text/plain alternative)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip() + "\n"


def _policy(*, utf8: bool) -> EmailPolicy[EmailMessage]:
    # In 3.11 In-Reply-To and References are unstructured: a long msg-id there
    # is folded into RFC 2047 encoded words, which breaks threading.
    registry = HeaderRegistry()
    # The registry mixes BaseHeader in itself; typeshed wants it already there.
    msg_id_header = cast("type[BaseHeader]", MessageIDHeader)
    registry.map_to_type("in-reply-to", msg_id_header)
    registry.map_to_type("references", msg_id_header)
    if utf8:
        return email_policy.SMTPUTF8.clone(header_factory=registry)
    # 7bit: bodies become QP/base64 where needed, so no 8BITMIME is required.
    return email_policy.SMTP.clone(header_factory=registry, cte_type="7bit")


def _msg_id(name: str, value: str) -> str:
    check_header_value(name, value)
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MSG_ID.fullmatch(value) or len(value) > 900:
        raise InvalidInput(
            f"The {name} “{value[:80]}” is not a valid message ID.",
            hint="A message ID looks like <unique-part@example.com>, without spaces.",
        )
    return value


def _validated_list(addresses: Iterable[str]) -> tuple[str, ...]:
    # An entry may hold a comma-separated list; a line break in one is refused.
    return parse_address_list(addresses, line_breaks_separate=False)


def _check_size(size: int, max_size: int | None) -> None:
    if max_size is None or size <= max_size:
        return
    shown, limit = megabytes(size), megabytes(max_size)
    if shown == limit:
        shown, limit = f"{size:,} bytes", f"{max_size:,} bytes"
    raise MessageTooLarge(
        f"The message is {shown}; the server accepts at most {limit}.",
        hint="Remove or shrink attachments (they grow by about a third when sent), "
        "or share a link to the files instead.",
        details={"size": size, "max_size": max_size},
    )


def _mailbox(address: str, name: str = "") -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name.strip(), username=local, domain=domain)


def _set_body(msg: EmailMessage, draft: Draft, files: list[tuple[Attachment, bytes]]) -> None:
    text = draft.text
    if draft.html is not None and not text.strip():
        text = html_to_text(draft.html)
    msg.set_content(text)
    if draft.html is not None:
        msg.add_alternative(draft.html, subtype="html")
    for attachment, content in files:
        maintype, _, subtype = attachment.mime_type.partition("/")
        msg.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # make_mixed()/make_alternative() leave a MIME-Version header in sub-parts.
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]


def _read_attachments(attachments: Iterable[Attachment]) -> list[tuple[Attachment, bytes]]:
    files = []
    for attachment in attachments:
        check_header_value("attachment file name", attachment.filename)
        if not attachment.filename.strip():
            raise InvalidInput("An attachment has no file name.", hint="Give it a file name.")
        if not _MIME_TYPE.fullmatch(attachment.mime_type):
            raise InvalidInput(
                f"“{attachment.mime_type[:80]}” is not a valid content type "
                f"for the attachment “{attachment.filename}”.",
                hint="Use a type like application/pdf, or leave it out to guess.",
            )
        if attachment.mime_type.split("/")[0].lower() in ("message", "multipart"):
            # RFC 2046: these may not be base64-encoded, and their bytes would be parsed as
            # MIME structure by the receiver: an attachment is always an opaque part.
            raise InvalidInput(
                f"An attachment cannot be sent as {attachment.mime_type[:80]} "
                f"(“{attachment.filename}”).",
                hint="Leave content_type out, or use application/octet-stream; to forward an "
                "email, attach the .eml file.",
            )
        files.append((attachment, attachment.read()))
    return files


def build(
    draft: Draft,
    *,
    sender: str,
    sender_name: str = "",
    message_id: str | None = None,
    date: datetime | None = None,
    max_size: int | None = None,
) -> BuiltMessage:
    """Validate the draft and build the message; nothing is built on bad input.

    ``message_id`` is reused on resend so receivers can drop duplicates.
    ``max_size`` is the server's SIZE limit in bytes (MessageTooLarge above it).
    """
    check_body(draft.text, "message text")
    check_body(draft.html, "HTML text")
    sender = validate_address(sender)
    to, cc, bcc = _validated_list(draft.to), _validated_list(draft.cc), _validated_list(draft.bcc)
    reply_to = _validated_list(draft.reply_to)
    recipients = dedupe_addresses(to + cc + bcc)
    if not recipients:
        raise InvalidInput(
            "No recipients: the message has nobody to go to.",
            hint="Add at least one address in To, Cc or Bcc.",
        )
    check_header_value("subject", draft.subject)
    check_header_value("sender name", sender_name)
    in_reply_to = None if draft.in_reply_to is None else _msg_id("In-Reply-To", draft.in_reply_to)
    if message_id is not None:
        message_id = _msg_id("Message-ID", message_id)
    files = _read_attachments(draft.attachments)

    utf8 = any(needs_smtputf8(a) for a in (sender, *recipients, *reply_to))
    if not utf8:
        # Without SMTPUTF8, non-ASCII domains travel as IDNA A-labels.
        sender, to, cc = ascii_address(sender), _ascii(to), _ascii(cc)
        reply_to, recipients = _ascii(reply_to), dedupe_addresses(_ascii(recipients))
    if message_id is None:
        message_id = make_msgid(domain=ascii_address(sender).rpartition("@")[2])
    when = (date or datetime.now()).astimezone()

    policy = _policy(utf8=utf8)
    msg = EmailMessage(policy=policy)
    msg["From"] = _mailbox(sender, sender_name)
    msg["To"] = [_mailbox(a) for a in to] if to else Group("undisclosed-recipients")
    if cc:
        msg["Cc"] = [_mailbox(a) for a in cc]
    if reply_to:
        msg["Reply-To"] = [_mailbox(a) for a in reply_to]
    msg["Subject"] = draft.subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    if in_reply_to is not None:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg["MIME-Version"] = "1.0"
    msg["User-Agent"] = f"Relaydesk/{__version__}"
    _set_body(msg, draft, files)

    # Headers are checked and bodies are re-encoded by the email package, but
    # a bare CR or LF anywhere is an SMTP smuggling vector: make every one CRLF.
    data = _LINE_ENDING.sub(b"\r\n", msg.as_bytes(policy=policy.clone(linesep="\r\n")))
    _check_size(len(data), max_size)
    return BuiltMessage(
        data=data,
        envelope_from=sender,
        recipients=recipients,
        message_id=message_id,
        subject=draft.subject,
        needs_smtputf8=utf8,
    )


def _ascii(addresses: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(ascii_address(a) for a in addresses)
