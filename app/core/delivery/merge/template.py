"""A merge template: the message every row gets, with placeholders still in it.

Read from an RFC 5322 file (an .eml as mail programs save it) or made from a
draft. Headers that the account or the run decide (From, Date, Message-ID,
MIME structure, trace headers) are dropped; Subject, To, Cc, Reply-To and
custom headers keep their placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from pathlib import Path

from app.core.delivery.merge.fields import Piece
from app.core.delivery.message import Attachment
from app.core.errors import InvalidInput, UnreadableFile

# Headers never copied from the template file.
_DROPPED = {
    "from",
    "sender",
    "date",
    "message-id",
    "bcc",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "received",
    "return-path",
    "delivered-to",
    "user-agent",
    "x-mailer",
    "x-unsent",
    "dkim-signature",
    "in-reply-to",
    "references",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "to",
    "cc",
    "reply-to",
    "subject",
}


@dataclass(frozen=True)
class MergeTemplate:
    """Subject, bodies and attachments with placeholders; ``to`` defaults to the address."""

    subject: Piece
    text: Piece | None
    html: Piece | None
    to: Piece | None = None  # e.g. "{{name}} <{{email}}>"; None: the address column alone
    cc: Piece | None = None
    reply_to: Piece | None = None
    headers: tuple[tuple[str, Piece], ...] = ()
    attachments: tuple[Attachment, ...] = ()

    def pieces(self) -> list[Piece]:
        """Every placeholder-bearing text, for checking which fields are used."""
        found = [self.subject, *(value for _, value in self.headers)]
        found += [p for p in (self.text, self.html, self.to, self.cc, self.reply_to) if p]
        return found

    @property
    def fields(self) -> set[str]:
        """Every field key the template uses."""
        keys: set[str] = set()
        for piece in self.pieces():
            keys |= piece.fields
        return keys

    @classmethod
    def compose(
        cls,
        *,
        subject: str,
        text: str,
        html: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> MergeTemplate:
        """A template typed in place (the merge window's own editor)."""
        return cls(
            subject=Piece.parse(subject),
            text=Piece.parse(text),
            html=Piece.parse(html) if html else None,
            attachments=attachments,
        )


def load_template(path: str | Path) -> MergeTemplate:
    """Read an .eml template; UnreadableFile or InvalidInput with a hint on trouble."""
    file = Path(path).expanduser()
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise UnreadableFile(
            f"Cannot read the template “{file}” ({error.strerror}).",
            hint="Give the path of a message saved as .eml (File → Save As in most mail programs).",
        ) from None
    return parse_template(raw, name=file.name)


def parse_template(raw: bytes, *, name: str = "template") -> MergeTemplate:
    """The template in RFC 5322 bytes."""
    message = BytesParser(policy=email_policy.default).parsebytes(raw)
    subject = str(message.get("Subject", "") or "")
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    text = _content(plain) if plain is not None else None
    html = _content(rich) if rich is not None else None
    if not (text or html) or not message.keys():
        raise InvalidInput(
            f"“{name}” does not look like a message: no headers or no text.",
            hint="Save the template from your mail program as an .eml file, with a Subject "
            "line, a blank line and then the text.",
        )
    headers = tuple(
        (key, Piece.parse(str(value)))
        for key, value in message.items()
        if key.lower() not in _DROPPED and not key.lower().startswith("x-mozilla")
    )
    return MergeTemplate(
        subject=Piece.parse(subject),
        text=Piece.parse(text) if text is not None else None,
        html=Piece.parse(html) if html is not None else None,
        to=_optional(message, "To"),
        cc=_optional(message, "Cc"),
        reply_to=_optional(message, "Reply-To"),
        headers=headers,
        attachments=tuple(_attachments(message)),
    )


def _content(part: MIMEPart) -> str:
    content = part.get_content()
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _optional(message: EmailMessage, header: str) -> Piece | None:
    value = message.get(header)
    return Piece.parse(str(value)) if value is not None and str(value).strip() else None


def _attachments(message: EmailMessage) -> list[Attachment]:
    found = []
    for index, part in enumerate(message.iter_attachments(), start=1):
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        filename = part.get_filename() or f"attachment-{index}"
        found.append(Attachment(filename=filename, content_type=part.get_content_type(), data=data))
    return found
