"""The row types of the diagnosis catalogue: when a row applies and what it says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.core.accounts.model import Account, Security
from app.core.errors import ConfigError, RelayError
from app.core.setup.presets import Preset
from app.core.setup.providers import find_preset
from app.core.smtp.reply import Reply
from app.core.smtp.steps import Step

ANY_STEP = frozenset(Step)
PLAIN_FIRST = frozenset({Security.STARTTLS, Security.NONE})
ANY_SECURITY = frozenset(Security)


def at(*steps: Step) -> frozenset[Step]:
    """The steps a row applies to."""
    return frozenset(steps)


@dataclass(frozen=True, kw_only=True)
class Row:
    """What the user is told when a row matches."""

    error: type[RelayError]
    message: str
    hint: str = ""
    steps: frozenset[Step] = ANY_STEP
    security: frozenset[Security] = ANY_SECURITY
    providers: frozenset[str] | None = None  # preset ids this row is for
    preset_auth: frozenset[str] | None = None  # or: presets whose login is of these kinds

    def applies(self, step: Step, account: Account) -> bool:
        return (
            step in self.steps
            and account.security in self.security
            and self._fits_provider(preset_of(account))
        )

    def _fits_provider(self, preset: Preset | None) -> bool:
        if self.providers is not None and (preset is None or preset.id not in self.providers):
            return False
        return self.preset_auth is None or (preset is not None and preset.auth in self.preset_auth)


def preset_of(account: Account) -> Preset | None:
    """The account's provider preset, or None (no preset, or one that no longer exists)."""
    if not account.preset:
        return None
    try:
        return find_preset(account.preset)  # curated, or a provider of the bundled database
    except ConfigError:
        return None


@dataclass(frozen=True, kw_only=True)
class ReplyRow(Row):
    """Matches a server reply by code pattern ("535", "4xx"), enhanced code and text."""

    code: str
    enhanced: str | None = None  # prefix of the RFC 3463 code, e.g. "5.7.139"
    text: str | None = None  # case-insensitive part of the reply text

    def matches(self, step: Step, reply: Reply, account: Account) -> bool:
        code = f"{reply.code:03d}"
        return (
            self.applies(step, account)
            and len(code) == len(self.code)
            and all(want in ("x", got) for want, got in zip(self.code, code, strict=True))
            and (self.enhanced is None or (reply.enhanced or "").startswith(self.enhanced))
            and (self.text is None or self.text.lower() in reply.text.lower())
        )


@dataclass(frozen=True, kw_only=True)
class ExceptionRow(Row):
    """Matches an exception by type and an optional test."""

    kind: type[BaseException] | tuple[type[BaseException], ...]
    when: Callable[[BaseException], bool] | None = None

    def matches(self, step: Step, failure: BaseException, account: Account) -> bool:
        return (
            self.applies(step, account)
            and isinstance(failure, self.kind)
            and (self.when is None or self.when(failure))
        )
