"""The sendmail interface: an RFC 5322 message on standard input, into the outbox.

Behaves like msmtp or Postfix's ``sendmail`` for the options scripts use: ``-t``
takes recipients from To/Cc/Bcc, or Resent-To/Cc/Bcc in a resent message
(added to any given as arguments); names without a domain (``root``) go through
:mod:`app.core.delivery.aliases`; ``-i`` reads
to the end of input instead of stopping at a line holding a single dot, ``-f``
sets the envelope sender and ``-F`` the full name of a From header Relaydesk
adds when the message has none. The message is passed on as written apart from
line endings (all CRLF), Bcc/Resent-Bcc headers (removed) and a Date or
Message-ID header added when missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid
from typing import BinaryIO

from app.core.accounts import model as accounts
from app.core.accounts.model import Account
from app.core.delivery import aliases, outbox
from app.core.delivery.addresses import (
    ascii_address,
    dedupe_addresses,
    format_mailbox,
    needs_smtputf8,
    parse_address_list,
    split_address_list,
    validate_address,
)
from app.core.delivery.message import BuiltMessage
from app.core.errors import InvalidInput
from app.core.store import Store

FACE = "sendmail"
MAX_INPUT = 100_000_000  # refuse to spool more than this from a pipe
_LINE = re.compile(rb"\r\n|\r|\n")
_FIELD_NAME = re.compile(rb"^[\x21-\x39\x3b-\x7e]+$")
_STRIPPED = (b"bcc", b"resent-bcc")
LocalResolver = Callable[[list[str]], list[str]]  # recipients → addresses (aliases for root…)


@dataclass(frozen=True)
class SendmailOptions:
    """The command line of one ``relaydesk sendmail`` run."""

    recipients: tuple[str, ...] = ()
    extract_recipients: bool = False  # -t
    envelope_from: str | None = None  # -f
    full_name: str | None = None  # -F
    account: str | None = None  # --account


@dataclass(frozen=True)
class ParsedMessage:
    """The header fields (each with its continuation lines) and the body, CRLF-terminated."""

    fields: tuple[tuple[bytes, bytes], ...]  # (lower-case name, whole raw field incl. CRLF)
    body: bytes

    def values(self, name: str) -> list[str]:
        """Decoded values of every field called ``name``."""
        wanted = name.lower().encode()
        raw = b"".join(f for n, f in self.fields if n == wanted)
        parsed = BytesHeaderParser(policy=email_policy.default).parsebytes(raw + b"\r\n")
        return [str(value) for value in parsed.get_all(name, [])]

    def address_specs(self, *names: str) -> list[str]:
        """The addr-specs of the named address fields (groups included), not yet validated.

        A field is matched by its name whatever the spacing before the colon
        (``Cc :``, ``BCC :``), so no recipient a sender meant is dropped.
        """
        wanted = {n.lower().encode() for n in names}
        raw = b"".join(n + b":" + f.partition(b":")[2] for n, f in self.fields if n in wanted)
        parsed = BytesHeaderParser(policy=email_policy.default).parsebytes(raw + b"\r\n")
        found: list[str] = []
        for name in names:
            for header in parsed.get_all(name, []):
                found.extend(a.addr_spec for a in getattr(header, "addresses", ()) if a.addr_spec)
        return found

    def addresses(self, *names: str) -> tuple[str, ...]:
        """Validated bare addresses from the named address fields (groups included)."""
        return dedupe_addresses(validate_address(a) for a in self.address_specs(*names))

    def has(self, name: str) -> bool:
        return any(n == name.lower().encode() for n, _ in self.fields)


def read_message(stream: BinaryIO, *, ignore_dots: bool) -> bytes:
    """Standard input up to EOF, or (without -i) up to a line holding only a dot."""
    if ignore_dots:
        data = stream.read(MAX_INPUT + 1)
    else:
        lines: list[bytes] = []
        size = 0
        while line := stream.readline(MAX_INPUT + 1 - size):  # one endless line: capped too
            if line.rstrip(b"\r\n") == b".":
                break
            lines.append(line)
            size += len(line)
            if size > MAX_INPUT:
                break
        data = b"".join(lines)
    if len(data) > MAX_INPUT:
        raise InvalidInput(
            f"The message on standard input is larger than {MAX_INPUT // 1_000_000} MB.",
            hint="Send large files as a link instead.",
        )
    return data


def parse(data: bytes) -> ParsedMessage:
    """Split a message into header fields and body, normalising every line ending to CRLF."""
    lines = _LINE.split(data)
    if lines and lines[-1] == b"":
        lines.pop()
    if lines and lines[0].startswith(b"From "):  # an mbox separator, not a header
        lines.pop(0)
    fields: list[tuple[bytes, list[bytes]]] = []
    index = 0
    for index, line in enumerate(lines):
        if line == b"":
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1].append(line)
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not _FIELD_NAME.match(name.rstrip(b" \t")):
            raise InvalidInput(
                f"Line {index + 1} of the message is not a header field: "
                f"{line[:60].decode('utf-8', 'replace')!r}.",
                hint="A message starts with header lines such as “Subject: …”, then an "
                "empty line, then the body.",
            )
        fields.append((name.rstrip(b" \t").lower(), [line]))
    else:
        index = len(lines)
    body = b"".join(line + b"\r\n" for line in lines[index + 1 :])
    if not fields:
        raise InvalidInput(
            "The message has no header fields.",
            hint="Start it with at least a Subject: line and a To: line, then an empty line.",
        )
    return ParsedMessage(
        fields=tuple((name, b"".join(part + b"\r\n" for part in parts)) for name, parts in fields),
        body=body,
    )


def choose_account(store: Store, parsed: ParsedMessage, options: SendmailOptions) -> Account:
    """--account, else the account whose address is the From (or -f) address, else default."""
    if options.account:
        return accounts.get_account(store, options.account)
    candidates = list(parsed.addresses("From")) if parsed.has("from") else []
    if options.envelope_from:
        candidates.append(options.envelope_from)
    for address in candidates:
        found = accounts.find_account_by_email(store, address)
        if found is not None:
            return found
    return accounts.get_account(store, None)


def _header_recipients(parsed: ParsedMessage) -> list[tuple[str, str]]:
    """-t: (kind, addr-spec) from Resent-To/Cc/Bcc when the message was resent, else To/Cc/Bcc."""
    resent = any(parsed.has(f"resent-{kind}") for kind in ("to", "cc", "bcc"))
    prefix = "Resent-" if resent else ""
    return [
        (kind, spec)
        for kind in ("to", "cc", "bcc")
        for spec in parsed.address_specs(prefix + kind.capitalize())
    ]


def _recipients(
    parsed: ParsedMessage, options: SendmailOptions, local: LocalResolver
) -> dict[str, str]:
    """Validated recipients and their kind; local names (root) resolved by ``local``."""
    given = [("to", entry) for entry in split_address_list(options.recipients)]
    if options.extract_recipients:
        given += _header_recipients(parsed)
    kinds: dict[str, str] = {}
    seen: set[str] = set()
    for kind, entry in given:
        for address in parse_address_list(local([entry])):
            if address.casefold() not in seen:  # first mention wins: To before Bcc
                seen.add(address.casefold())
                kinds[address] = kind
    if not kinds:
        raise InvalidInput(
            "No recipients: none were given as arguments"
            + (" and the message has no To, Cc or Bcc." if options.extract_recipients else "."),
            hint="Name them after the options (relaydesk sendmail bob@example.com) or use -t "
            "to read them from the message's To, Cc and Bcc headers.",
        )
    return kinds


def _no_local_names(entries: list[str]) -> list[str]:
    return entries


def _added_fields(
    parsed: ParsedMessage, account: Account, options: SendmailOptions, now: datetime
) -> tuple[list[bytes], str]:
    """Header fields to add (From, Date, Message-ID) and the message's Message-ID."""
    utf8 = needs_smtputf8(account.email)
    policy = email_policy.SMTPUTF8 if utf8 else email_policy.SMTP
    added = EmailMessage(policy=policy)
    if not parsed.has("from"):
        name = options.full_name if options.full_name is not None else account.from_name
        added["From"] = format_mailbox(name, account.email)
    if not parsed.has("date"):
        added["Date"] = format_datetime(now.astimezone())
    existing = parsed.values("Message-ID")
    message_id = existing[0].strip() if existing else ""
    if not message_id:
        message_id = make_msgid(domain=ascii_address(account.email).rpartition("@")[2])
        added["Message-ID"] = message_id
    if not added.keys():
        return [], message_id
    # Serialised by the email package so a non-ASCII -F name is RFC 2047-encoded.
    block = added.as_bytes(policy=policy.clone(linesep="\r\n")).split(b"\r\n\r\n", 1)[0]
    lines = [block + b"\r\n"]
    return lines, message_id


def build_message(
    parsed: ParsedMessage,
    account: Account,
    options: SendmailOptions,
    *,
    now: datetime | None = None,
    local: LocalResolver = _no_local_names,
) -> tuple[BuiltMessage, dict[str, str]]:
    """The bytes to transmit (Bcc removed, Date/Message-ID added) and recipient kinds."""
    kinds = _recipients(parsed, options, local)
    sender = validate_address(options.envelope_from or account.email)
    added, message_id = _added_fields(parsed, account, options, now or datetime.now())
    kept = [raw for name, raw in parsed.fields if name not in _STRIPPED]
    data = b"".join(kept + added) + b"\r\n" + parsed.body
    subjects = parsed.values("Subject")
    return (
        BuiltMessage(
            data=data,
            envelope_from=sender,
            recipients=tuple(kinds),
            message_id=message_id,
            subject=subjects[0] if subjects else "",
            needs_smtputf8=any(needs_smtputf8(a) for a in (sender, *kinds)),
        ),
        kinds,
    )


def queue_message(store: Store, data: bytes, options: SendmailOptions) -> int:
    """Validate and commit the message to the outbox; returns the outbox item id."""
    parsed = parse(data)
    account = choose_account(store, parsed, options)
    built, kinds = build_message(
        parsed,
        account,
        options,
        local=lambda entries: aliases.resolve(store, account.email, entries),
    )
    return outbox.enqueue(store, account, built, face=FACE, kinds=kinds)
