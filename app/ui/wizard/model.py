"""What the account wizard's pages share, typed.

Each page is given the wizard as an ``AccountDraft``: the choices made on the
earlier pages (``choices()``) and the few steps only the wizard takes (looking
an address up, testing, saving, applying a fix). A page never reaches into
another page or into the wizard beyond this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.core.accounts.credentials import FixedToken
from app.core.accounts.model import Account
from app.core.setup.checks import TestReport
from app.core.setup.fixes import Fix
from app.core.setup.presets import Preset
from app.core.smtp.session import Timeouts


@dataclass(frozen=True)
class Choices:
    """What the address and server pages hold now, as the later pages read it."""

    email: str
    account_name: str
    preset: Preset
    host: str
    username: str
    sign_in_wanted: bool = False  # handed over to sign in: the sign-in arrives chosen


class AccountDraft(Protocol):
    """The account being set up, as the wizard's pages see it (``AccountWizard`` is one)."""

    @property
    def test_timeouts(self) -> Timeouts | None:
        """How long the test waits for each step; None: the core's defaults."""
        ...

    def choices(self) -> Choices:
        """The address, provider, server and username chosen so far."""
        ...

    def name_problem(self, name: str) -> tuple[str, str] | None:
        """(message, hint) when ``name`` cannot be used for a new account."""
        ...

    def address_confirmed(self, email: str) -> None:
        """The address page was left with ``email``: look its settings up if needed."""
        ...

    def show_detection(self, email: str) -> None:
        """Tell the server page what the lookup for ``email`` has found so far."""
        ...

    def build_account(self) -> Account:
        """The account as entered so far (not yet validated or stored)."""
        ...

    def password(self) -> str | FixedToken | None:
        """The password (or fresh sign-in) for the test, memory only."""
        ...

    def record_test(self, report: TestReport) -> None:
        """Audit one finished test."""
        ...

    def apply_fix(self, fix: Fix) -> None:
        """Put a diagnosis's fix into the pages (a pin only with the person's consent)."""
        ...

    def save(self) -> bool:
        """True once the account is stored; otherwise storing starts (on a worker) and the
        wizard closes itself when it is done, or shows why not."""
        ...


@dataclass(frozen=True)
class Handover:
    """What the one-page setup passes on when the assistant takes over (to sign in)."""

    email: str
    from_name: str
    preset: str | None = None  # the provider found for the address, if any
    sign_in: bool = False  # arrive with "sign in instead of a password" chosen
