"""Build a message with large attachments into a spool file, never whole in memory.

The structure is exactly what ``message.build`` makes: the message is first built
with a short random stand-in for each large attachment, and the stand-in's one
base64 line is then replaced, in the file, by the real file encoded the way the
email package encodes it (57 bytes per 76-character line, CRLF after each line).
So the same draft, Message-ID and date give the same bytes either way.
"""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from app.core.delivery.message import (
    Attachment,
    Draft,
    _check_size,
    _unreadable,
    build,
    open_regular,
)
from app.core.errors import InvalidInput

SPOOL_THRESHOLD = 1_000_000  # a file attachment at least this large is streamed
_LINE_BYTES = 57  # raw bytes per base64 line (email.contentmanager, max_line_length 78)
_BLOCK = _LINE_BYTES * 16 * 1024  # read ~0.9 MB at a time, whole lines only


@dataclass(frozen=True)
class SpooledMessage:
    """A built message that lives in a spool file, with its envelope."""

    path: Path
    envelope_from: str
    recipients: tuple[str, ...]
    message_id: str
    subject: str
    needs_smtputf8: bool
    size: int


def should_spool(draft: Draft, threshold: int = SPOOL_THRESHOLD) -> bool:
    """True when some attachment is a file large enough to be streamed."""
    return any(_is_large(attachment, threshold) for attachment in draft.attachments)


def _is_large(attachment: Attachment, threshold: int) -> bool:
    if attachment.path is None:
        return False
    try:
        return attachment.path.stat().st_size >= threshold
    except OSError as error:
        raise _unreadable(attachment.path, error) from None


def encoded_size(size: int) -> int:
    """Bytes that ``size`` raw bytes take as CRLF-terminated base64 lines."""
    lines, rest = divmod(size, _LINE_BYTES)
    return lines * 78 + ((rest + 2) // 3 * 4 + 2 if rest else 0)


def build_to_spool(
    draft: Draft,
    *,
    sender: str,
    directory: Path,
    sender_name: str = "",
    message_id: str | None = None,
    date: datetime | None = None,
    max_size: int | None = None,
    threshold: int = SPOOL_THRESHOLD,
) -> SpooledMessage:
    """Validate and build ``draft`` into a new file in ``directory`` (0600)."""
    stand_ins: dict[bytes, tuple[Path, int]] = {}
    attachments = []
    for attachment in draft.attachments:
        if attachment.path is not None and _is_large(attachment, threshold):
            token = secrets.token_bytes(45)  # one 60-character base64 line, unique
            line = base64.b64encode(token) + b"\r\n"
            stand_ins[line] = (attachment.path, attachment.path.stat().st_size)
            attachment = replace(
                attachment, content_type=attachment.mime_type, path=None, data=token
            )
        attachments.append(attachment)
    skeleton = build(
        replace(draft, attachments=tuple(attachments)),
        sender=sender,
        sender_name=sender_name,
        message_id=message_id,
        date=date,
    )
    pieces = _split(skeleton.data, list(stand_ins))
    size = sum(len(p) for p in pieces) + sum(encoded_size(n) for _, n in stand_ins.values())
    _check_size(size, max_size)
    path = _write(directory, pieces, [stand_ins[line] for line in _order(skeleton.data, stand_ins)])
    return SpooledMessage(
        path=path,
        envelope_from=skeleton.envelope_from,
        recipients=skeleton.recipients,
        message_id=skeleton.message_id,
        subject=skeleton.subject,
        needs_smtputf8=skeleton.needs_smtputf8,
        size=size,
    )


def _order(data: bytes, stand_ins: dict[bytes, tuple[Path, int]]) -> list[bytes]:
    return sorted(stand_ins, key=data.find)


def _split(data: bytes, lines: list[bytes]) -> list[bytes]:
    """The skeleton cut around each stand-in line, in the order they appear."""
    pieces = []
    start = 0
    for line in sorted(lines, key=data.find):
        at = data.find(line, start)
        if at < 0 or data.count(line) != 1:
            raise InvalidInput(
                "The message could not be assembled.", hint="Try again; this is a bug if it stays."
            )
        pieces.append(data[start:at])
        start = at + len(line)
    pieces.append(data[start:])
    return pieces


def _write(directory: Path, pieces: list[bytes], files: list[tuple[Path, int]]) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = directory / f"{uuid.uuid4().hex}.eml"
    partial = final.with_suffix(".part")
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pieces[0])
            for (path, size), piece in zip(files, pieces[1:], strict=True):
                _encode_file(path, size, out)
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final


def _encode_file(path: Path, size: int, out: BinaryIO) -> None:
    """Base64 of the file in CRLF-terminated 76-character lines, a block at a time."""
    remaining = size
    try:
        with open_regular(path) as source:
            while remaining > 0:
                block = source.read(min(_BLOCK, remaining))
                if not block:
                    raise OSError(f"{path} got shorter while it was being attached")
                remaining -= len(block)
                encoded = base64.b64encode(block)
                out.write(
                    b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"
                )
    except OSError as error:
        raise _unreadable(path, error) from None


def remove(path: str | Path | None) -> None:
    """Delete a spool file that is no longer needed; a missing one is fine."""
    if path:
        Path(path).unlink(missing_ok=True)


def usage(directory: Path) -> tuple[int, int]:
    """How many spool files there are and how many bytes they take."""
    files = size = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0, 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False):
                files += 1
                size += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue  # removed while we looked
    return files, size
