"""`account add|edit --signature-file F --reply-to ADDR`: what an account adds to messages."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.core.accounts import identity
from app.core.delivery.addresses import validate_address
from app.core.errors import UnreadableFile
from app.core.store import Store


def add_identity_options(parser: argparse.ArgumentParser) -> None:
    """--signature-file and --reply-to (shared by add and edit)."""
    parser.add_argument(
        "--signature-file",
        metavar="FILE",
        help="UTF-8 text added under every message this account sends ('' to remove)",
    )
    parser.add_argument(
        "--reply-to", metavar="ADDR", help="default Reply-To address of this account ('' to remove)"
    )


def identity_from_args(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(signature, reply_to) from the options, read and checked before anything is stored;
    None for what was not given."""
    signature = None
    path = getattr(args, "signature_file", None)
    if path is not None:
        signature = "" if path == "" else _read_signature(path)
    reply_to = getattr(args, "reply_to", None)
    if reply_to:
        reply_to = validate_address(reply_to)
    return signature, reply_to


def store_identity(store: Store, account: str, signature: str | None, reply_to: str | None) -> None:
    """Keep what was given (nothing to do when neither option was)."""
    if signature is not None or reply_to is not None:
        identity.put(store, account, signature=signature, reply_to=reply_to)


def _read_signature(path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UnreadableFile(
            f"Cannot read the signature file {path}: {getattr(error, 'strerror', None) or error}.",
            hint="Give a UTF-8 text file.",
        ) from None
