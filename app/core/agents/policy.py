"""What one caller (an agent, a script) may do through the send_email tool.

A policy is stored as JSON in the settings table under ``policy:<caller>``. A
caller without one gets :data:`DEFAULT_POLICY`'s rules: any account, any
recipient, modest quotas, base64 attachments up to the cap, and no attachment
read by path at all: an agent must not be able to mail out ``~/.ssh/id_rsa``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.accounts.model import Account
from app.core.delivery.addresses import address_key, validate_address
from app.core.delivery.message import attachment_path, require_regular
from app.core.errors import (
    AccountNotAllowed,
    AttachmentNotAllowed,
    AttachmentTooLarge,
    InvalidInput,
    RecipientNotAllowed,
    UnreadableFile,
)
from app.core.paths import default_paths
from app.core.store import Store

SETTING_PREFIX = "policy:"
TOOL_FACE = "tool"
TOOL_ACTION = "tool_call"
_CALLER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:+/-]{0,127}$")


@dataclass(frozen=True)
class Policy:
    """The rules for one caller. ``None`` in accounts/recipients means "any"."""

    caller: str
    accounts: tuple[str, ...] | None = None
    recipients: tuple[str, ...] | None = None  # "example.com", "*.example.com", "a@b.com"
    per_hour: int | None = 20
    per_day: int | None = 100
    max_attachment_size: int = 10_000_000
    attachment_dirs: tuple[str, ...] = field(default=())  # empty: no attachment by path

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape stored and shown by ``policy show --json``."""
        data = asdict(self)
        for key in ("accounts", "recipients", "attachment_dirs"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """Read a stored policy; unknown keys are ignored so old files keep loading."""

        def names(key: str) -> tuple[str, ...] | None:
            value = data.get(key)
            return None if value is None else tuple(str(v) for v in value)

        default = cls(caller=str(data["caller"]))
        return replace(
            default,
            accounts=names("accounts"),
            recipients=names("recipients"),
            per_hour=data.get("per_hour", default.per_hour),
            per_day=data.get("per_day", default.per_day),
            max_attachment_size=int(data.get("max_attachment_size", default.max_attachment_size)),
            attachment_dirs=names("attachment_dirs") or (),
        )

    def validate(self) -> None:
        """Raise InvalidInput when the rules cannot be applied."""
        check_caller(self.caller)
        for entry in self.recipients or ():
            _recipient_rule(entry)
        for limit in (self.per_hour, self.per_day):
            if limit is not None and limit < 0:
                raise InvalidInput("A quota cannot be negative.", hint="Use 0 to block sending.")
        if self.max_attachment_size < 0:
            raise InvalidInput("The attachment size cap cannot be negative.", hint="Use 0 bytes.")
        for directory in self.attachment_dirs:
            if not Path(directory).is_absolute():
                raise InvalidInput(
                    f"The attachment folder “{directory}” is not an absolute path.",
                    hint="Give the full path, e.g. /home/me/reports.",
                )


def check_caller(caller: str) -> str:
    """A caller id is a short token: letters, digits and ._@:+/-."""
    if not _CALLER.match(caller):
        raise InvalidInput(
            f"“{caller[:40]}” is not a usable caller id.",
            hint="Use up to 128 letters, digits, dots, dashes or underscores, e.g. “claude”.",
        )
    return caller


def _recipient_rule(entry: str) -> str:
    # Rules and recipients compare as address_key: ASCII-only case folding and IDNA
    # A-labels, so "strasse.de" never admits "straße.de" (another domain).
    if "@" in entry:
        return address_key(validate_address(entry))
    domain = entry.removeprefix("*.")
    ascii_domain = address_key(validate_address(f"postmaster@{domain}")).rpartition("@")[2]
    return f"*.{ascii_domain}" if entry.startswith("*.") else ascii_domain


# --- storage ---------------------------------------------------------------------------


def get_policy(store: Store, caller: str) -> Policy:
    """The caller's stored policy, or the default rules for it."""
    check_caller(caller)
    raw = store.get_setting(SETTING_PREFIX + caller)
    if raw is None:
        return Policy(caller=caller)
    return Policy.from_dict(json.loads(raw))


def has_policy(store: Store, caller: str) -> bool:
    """True when a policy was set for this caller (not just the defaults)."""
    return store.get_setting(SETTING_PREFIX + check_caller(caller)) is not None


def set_policy(store: Store, policy: Policy, *, face: str) -> None:
    """Store the caller's policy (attachment folders kept as absolute, resolved paths)."""
    dirs = tuple(str(Path(d).expanduser().resolve()) for d in policy.attachment_dirs)
    policy = replace(policy, attachment_dirs=dirs)
    policy.validate()
    store.set_setting(SETTING_PREFIX + policy.caller, json.dumps(policy.to_dict()))
    store.audit(face=face, action="policy_set", outcome="ok", detail={"caller": policy.caller})


def remove_policy(store: Store, caller: str, *, face: str) -> bool:
    """Forget the caller's policy (it falls back to the defaults); False if there was none."""
    cursor = store.execute("DELETE FROM settings WHERE key = ?", (SETTING_PREFIX + caller,))
    removed = cursor.rowcount > 0
    store.audit(
        face=face,
        action="policy_remove",
        outcome="ok" if removed else "absent",
        detail={"caller": caller},
    )
    return removed


def list_policies(store: Store) -> list[Policy]:
    """Every stored policy, by caller."""
    rows = store.execute(
        "SELECT value FROM settings WHERE key LIKE ? ESCAPE '\\' ORDER BY key",
        (SETTING_PREFIX.replace("_", "\\_") + "%",),
    ).fetchall()
    return [Policy.from_dict(json.loads(row["value"])) for row in rows]


# --- checks ----------------------------------------------------------------------------


def check_account(policy: Policy, account: Account) -> None:
    """AccountNotAllowed unless the policy lets the caller send as ``account``."""
    if policy.accounts is not None and account.name not in policy.accounts:
        allowed = ", ".join(policy.accounts) or "none"
        raise AccountNotAllowed(
            f"Caller “{policy.caller}” may not send through account “{account.name}”.",
            hint=f"Accounts allowed for this caller: {allowed}.",
            details={"account": account.name},
        )


def recipient_allowed(policy: Policy, address: str) -> bool:
    """True when ``address`` matches an allowed address or domain (or any is allowed)."""
    if policy.recipients is None:
        return True
    address = address_key(address)
    domain = address.rpartition("@")[2]
    for rule in (_recipient_rule(entry) for entry in policy.recipients):
        if "@" in rule and rule == address:
            return True
        if rule.startswith("*.") and (domain == rule[2:] or domain.endswith(rule[1:])):
            return True
        if domain == rule:
            return True
    return False


def check_recipients(policy: Policy, addresses: tuple[str, ...]) -> None:
    """RecipientNotAllowed naming every address outside the allowed list."""
    refused = [a for a in addresses if not recipient_allowed(policy, a)]
    if refused:
        allowed = ", ".join(policy.recipients or ()) or "nobody"
        raise RecipientNotAllowed(
            f"Caller “{policy.caller}” may not send to {', '.join(refused)}.",
            hint=f"This caller may send to: {allowed}. "
            f"Change it with: relaydesk policy set {policy.caller} --allow-recipient …",
            details={"refused": refused},
        )


def check_content_size(policy: Policy, filename: str, size: int) -> None:
    """AttachmentTooLarge above the policy's cap."""
    if size > policy.max_attachment_size:
        raise AttachmentTooLarge(
            f"The attachment “{filename}” is {size:,} bytes; caller “{policy.caller}” may "
            f"attach at most {policy.max_attachment_size:,} bytes.",
            hint="Send a smaller file or a link to it.",
            details={"filename": filename, "size": size, "max": policy.max_attachment_size},
        )


def _protected_dirs() -> list[Path]:
    # Relaydesk's own files are never attachable, even below an allowed folder.
    paths = default_paths()
    return [p.resolve() for p in (paths.config, paths.data, paths.state)]


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or path.is_relative_to(directory)


def resolve_attachment_path(policy: Policy, requested: str) -> Path:
    """The real path of an attachment the policy lets the caller read, else an error.

    Symlinks and ``..`` are resolved first, so a link inside an allowed folder
    that points elsewhere is refused. Hidden files and folders (names starting
    with a dot) are refused even inside an allowed folder.
    """
    if not policy.attachment_dirs:
        raise AttachmentNotAllowed(
            f"Caller “{policy.caller}” may not attach files by path.",
            hint="Send the file as base64 `content` with a `filename`, or allow a folder: "
            f"relaydesk policy set {policy.caller} --attachment-dir DIR",
            details={"path": requested},
        )
    real = Path(os.path.realpath(attachment_path(requested)))
    for allowed in (Path(os.path.realpath(d)) for d in policy.attachment_dirs):
        if not _inside(real, allowed):
            continue
        below = real.relative_to(allowed).parts
        hidden = any(part.startswith(".") for part in below)
        protected = any(_inside(real, p) for p in _protected_dirs())
        if hidden or protected:
            break
        return real
    raise AttachmentNotAllowed(
        f"Caller “{policy.caller}” may not attach “{requested}”: it is outside the allowed "
        "folders, hidden, or Relaydesk's own data.",
        hint="Allowed folders: " + ", ".join(policy.attachment_dirs),
        details={"path": requested},
    )


def read_attachment(policy: Policy, requested: str) -> tuple[str, bytes]:
    """(file name, bytes) of an allowed file, read without following a swapped-in link."""
    real = resolve_attachment_path(policy, requested)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(real, flags)
    except OSError as error:
        raise UnreadableFile(
            f"The attachment “{requested}” cannot be read: {error.strerror or error}.",
            hint="Check that the file exists and is readable.",
            details={"path": requested},
        ) from None
    try:
        _check_opened(policy, requested, real, fd)
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(policy.max_attachment_size + 1)
    finally:
        os.close(fd)
    check_content_size(policy, real.name, len(data))
    return real.name, data


def _check_opened(policy: Policy, requested: str, real: Path, fd: int) -> None:
    # Re-check what was actually opened: a folder in the path may have been swapped.
    opened = Path(f"/proc/self/fd/{fd}")
    if opened.exists() and Path(os.readlink(opened)) != real:
        raise AttachmentNotAllowed(
            f"The attachment “{requested}” changed while it was being opened.",
            hint="Try again; links are not followed out of allowed folders.",
            details={"path": requested},
        )
    info = require_regular(fd, Path(requested))
    if info.st_nlink > 1:
        # Another name for the same file may live anywhere (~/.ssh/id_rsa, Relaydesk's
        # own database): a folder check on this name proves nothing about it.
        raise AttachmentNotAllowed(
            f"The attachment “{requested}” is a hard link to a file that also has another "
            "name, possibly outside the allowed folders.",
            hint="Copy the file into the allowed folder instead of linking it.",
            details={"path": requested},
        )
    check_content_size(policy, real.name, info.st_size)
