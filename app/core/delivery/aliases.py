"""Local recipients: ``root`` and other names without a domain, as cron and daemons write them.

A name is looked up in the aliases file (setting ``aliases_file``, the
``/etc/aliases`` format msmtp also reads: ``name: address, other-name``; ``#``
comments; indented continuation lines; a ``default:`` entry for every other
name), then sent to the ``local_recipient`` setting, and when that is empty to
the sending account's own address — so cron mail to root reaches the person who
set Relaydesk up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from app.core import settings
from app.core.delivery.addresses import split_address_list, validate_address
from app.core.errors import InvalidInput

if TYPE_CHECKING:
    from app.core.store import Store

DEFAULT_ENTRY = "default"
MAX_FILE_SIZE = 1_000_000
MAX_DEPTH = 8  # alias → alias chains; deeper means a loop or a mistake
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9._+-]+$")
_UNSUPPORTED = ("|", "/", ":include:")  # pipes, files and includes: a local MTA's business

Aliases = dict[str, tuple[str, ...]]


def is_local_name(text: str) -> bool:
    """True for a recipient without a domain, such as ``root`` or ``backup-admin``."""
    return "@" not in text and bool(_LOCAL_NAME.match(text.strip()))


def parse_aliases(text: str, *, source: str = "aliases file") -> Aliases:
    """``{name: (targets…)}`` from /etc/aliases text; InvalidInput naming a bad line."""
    entries: Aliases = {}
    logical: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[:1] in (" ", "\t") and logical:
            logical[-1] = (logical[-1][0], logical[-1][1] + " " + line.strip())
        else:
            logical.append((number, line.strip()))
    for number, line in logical:
        name, colon, targets = line.partition(":")
        name = name.strip().lower()
        if not colon or not _LOCAL_NAME.match(name):
            raise InvalidInput(
                f"Line {number} of the {source} is not “name: address, …”: {line[:60]!r}.",
                hint="Each entry is a local name, a colon and addresses separated by commas.",
            )
        kept = [t for t in split_address_list(targets) if not t.startswith(_UNSUPPORTED)]
        entries[name] = tuple(kept)
    return entries


def read_aliases(path: str) -> Aliases:
    """Parse the aliases file at ``path``; InvalidInput when it cannot be read."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_SIZE:
            raise InvalidInput(
                f"The aliases file {path} is larger than {MAX_FILE_SIZE // 1000} KB.",
                hint="Point aliases_file at a small /etc/aliases-style file.",
            )
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InvalidInput(
            f"The aliases file {path} cannot be read ({error.strerror or error}).",
            hint="Name a readable file in the /etc/aliases format, or leave the setting "
            "empty (relaydesk settings reset aliases_file).",
        ) from None
    return parse_aliases(text, source=f"aliases file {path}")


def check_aliases_file(raw: str) -> str:
    """The setting's value: empty, or the absolute path of a readable, well-formed file."""
    if not raw.strip():
        return ""
    path = str(Path(raw.strip()).expanduser().absolute())
    for targets in read_aliases(path).values():
        for target in targets:
            if not is_local_name(target):
                validate_address(target)
    return path


def check_default_recipient(raw: str) -> str:
    """The setting's value: empty (the account's own address) or one valid address."""
    return validate_address(raw) if raw.strip() else ""


def _expand(name: str, aliases: Aliases, depth: int) -> list[str]:
    """Addresses (with or without domain) a local name stands for; [] when it has no alias."""
    targets = aliases.get(name.lower())
    if targets is None or depth > MAX_DEPTH:
        return []
    found: list[str] = []
    for target in targets:
        if is_local_name(target) and target.lower() != name.lower():
            found.extend(_expand(target, aliases, depth + 1) or [target])
        else:
            found.append(target)
    return found


def resolve(store: Store, account_email: str, recipients: Iterable[str]) -> list[str]:
    """Each recipient as an address: local names through the aliases, then the default."""
    wanted = list(recipients)
    if not any(is_local_name(r) for r in wanted):
        return wanted
    path = str(settings.get(store, "aliases_file"))
    aliases = read_aliases(path) if path else {}
    fallback = str(settings.get(store, "local_recipient")) or account_email
    resolved: list[str] = []
    for recipient in wanted:
        if not is_local_name(recipient):
            resolved.append(recipient)
            continue
        expanded = _expand(recipient, aliases, 0) or _expand(DEFAULT_ENTRY, aliases, 0)
        resolved.extend(t for t in expanded if not is_local_name(t))
        if not expanded or all(is_local_name(t) for t in expanded):
            resolved.append(fallback)
    return resolved
