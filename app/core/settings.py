"""Every user setting, declared once: core, the CLI and the Settings dialog read this table.

A setting has a key, a type, a default and the words shown for it. Values are
kept as text in the store's ``settings`` table under their key; ``get`` turns
them back into the declared type and ``put`` refuses a value of the wrong kind
with an ``InvalidInput`` that says what would be accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import InvalidInput

if TYPE_CHECKING:  # the store (sqlite3) loads only where a setting is read or written
    from app.core.store import Store

Value = bool | int | float | str


@dataclass(frozen=True)
class Setting:
    """One option: its key in the store, type, default, label (with a mnemonic) and help."""

    key: str
    kind: type
    default: Value
    label: str
    description: str
    minimum: float | None = None
    maximum: float | None = None
    in_dialog: bool = True  # shown on the Settings dialog's General page
    check: Callable[[str], str] | None = None  # text settings: normalise or raise InvalidInput

    def parse(self, raw: str) -> Value:
        """The typed value of ``raw`` text (CLI input or the stored form); InvalidInput if not."""
        text = raw.strip()
        try:
            if self.kind is bool:
                value: Value = _parse_bool(text)
            elif self.kind is int:
                value = int(text)
            elif self.kind is float:
                value = float(text)
            else:
                value = self.check(raw) if self.check is not None else raw
        except ValueError:
            raise InvalidInput(
                f"“{raw}” is not a valid value for {self.key}.",
                hint=f"{self.key} takes {_kind_words(self.kind)}.",
            ) from None
        self._check_range(value)
        return value

    def _check_range(self, value: Value) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInput(
                f"{value} is out of range for {self.key}.",
                hint=f"Use a number from {_number(low)} to {_number(high)}.",
            )

    def stored_form(self, value: Value) -> str:
        """The text kept in the store for ``value``."""
        if self.kind is bool:
            return "1" if value else "0"
        return str(value)


def _check_aliases_file(raw: str) -> str:
    from app.core.delivery import aliases  # reads and parses the file: only when it is being set

    return aliases.check_aliases_file(raw)


def _check_local_recipient(raw: str) -> str:
    from app.core.delivery import aliases

    return aliases.check_default_recipient(raw)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "close_to_tray",
        bool,
        False,
        "&Close to the tray",
        "Closing the window keeps Relaydesk running in the system tray.",
    ),
    Setting(
        "notifications",
        bool,
        True,
        "Show &notifications",
        "A desktop notification when a message was sent or failed.",
    ),
    Setting(
        "start_minimised",
        bool,
        False,
        "Start &minimised",
        "Start in the tray (or minimised) instead of showing the window.",
    ),
    Setting(
        "retry_interval",
        int,
        30,
        "Check the outbox every (&seconds)",
        "How often queued and retrying messages are looked at.",
        minimum=5,
        maximum=3600,
    ),
    Setting(
        "retry_max_age_hours",
        float,
        48.0,
        "Give up retrying after (&hours)",
        "A message that could not be delivered for this long is marked failed.",
        minimum=0.01,
        maximum=24 * 30,
        in_dialog=False,
    ),
    Setting(
        "spool_retention_days",
        float,
        3.0,
        "Keep sent messages' files for (&days)",
        "Large sent messages are kept this long so they can be sent again from History; "
        "failed and possibly sent ones are kept until you retry or discard them.",
        minimum=0,
        maximum=365,
        in_dialog=False,
    ),
    Setting(
        "smtp_pipelining",
        bool,
        True,
        "Use SMTP &pipelining",
        "Send several commands at once where the server offers PIPELINING.",
        in_dialog=False,
    ),
    Setting(
        "smtp_chunking",
        bool,
        True,
        "Use SMTP c&hunking",
        "Send message data with BDAT where the server offers CHUNKING.",
        in_dialog=False,
    ),
    Setting(
        "detect_online_lookup",
        bool,
        False,
        "&Ask Thunderbird's online provider database",
        "When setting up an address nothing else recognises, send its domain (never the "
        "whole address) to autoconfig.thunderbird.net. Off by default: the same database "
        "ships with Relaydesk, so asking online only finds providers added since.",
    ),
    Setting(
        "aliases_file",
        str,
        "",
        "Aliases f&ile",
        "Recipients without a domain (root, backup) are looked up in this file, in the "
        "/etc/aliases format (name: address, address). Empty: no aliases file.",
        check=_check_aliases_file,
    ),
    Setting(
        "local_recipient",
        str,
        "",
        "Mail for local &users goes to",
        "Where a recipient without a domain goes when no alias names it (cron mails root). "
        "Empty: the sending account's own address.",
        check=_check_local_recipient,
    ),
)
_BY_KEY = {setting.key: setting for setting in SETTINGS}

# Historical spellings: the GUI's options were stored with a "ui:" prefix.
_LEGACY_PREFIX = {"close_to_tray", "notifications", "start_minimised", "retry_interval"}


def setting(key: str) -> Setting:
    """The declared setting ``key``; InvalidInput naming the known keys if there is none."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise InvalidInput(
            f"There is no setting called “{key}”.",
            hint="See them all with: relaydesk settings list",
        ) from None


def _stored_key(key: str) -> str:
    return f"ui:{key}" if key in _LEGACY_PREFIX else key


def get(store: Store, key: str) -> Value:
    """The typed value of one setting (its default when never set or unreadable)."""
    declared = setting(key)
    raw = store.get_setting(_stored_key(key))
    if raw is None:
        return declared.default
    if declared.kind is str:  # checked when set; a file that went away since is not "unset"
        return raw
    try:
        return declared.parse(raw)
    except InvalidInput:
        return declared.default


def put(store: Store, key: str, value: Value | str, *, face: str | None = None) -> Value:
    """Check and store one setting; returns the typed value kept.

    With ``face`` (gui, cli…) a change of value is written to the audit log.
    """
    declared = setting(key)
    typed = declared.parse(value) if isinstance(value, str) else value
    if isinstance(typed, str) and declared.kind is not str:
        raise InvalidInput(f"{key} takes {_kind_words(declared.kind)}.", hint="")
    if not isinstance(typed, str):
        declared._check_range(typed)
    before = get(store, key)
    store.set_setting(_stored_key(key), declared.stored_form(typed))
    if face is not None and before != typed:
        _audit(store, face, key, before, typed)
    return typed


def reset(store: Store, key: str, *, face: str | None = None) -> Value:
    """Forget the stored value of ``key``; returns its default."""
    declared = setting(key)
    before = get(store, key)
    store.delete_setting(_stored_key(key))
    if face is not None and before != declared.default:
        _audit(store, face, key, before, declared.default)
    return declared.default


def _audit(store: Store, face: str, key: str, before: Value, after: Value) -> None:
    store.audit(
        face=face,
        action="setting_change",
        outcome="ok",
        detail={"key": key, "from": before, "to": after},
    )


# --- facts learned from servers (not user settings, but kept in the same table) ---


def _max_size_key(account: str) -> str:
    return f"max_size:{account}"


def learned_max_size(store: Store, account: str) -> int | None:
    """The server's SIZE limit learned by the last test or send, if any."""
    raw = store.get_setting(_max_size_key(account))
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else None


def learn_max_size(store: Store, account: str, limit: int | None) -> None:
    """Remember the SIZE limit a server announced (nothing when it announced none)."""
    if limit:
        store.set_setting(_max_size_key(account), str(limit))


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _kind_words(kind: type) -> str:
    return {bool: "on or off", int: "a whole number", float: "a number"}.get(kind, "text")


def _number(value: float | None) -> str:
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() else str(value)
