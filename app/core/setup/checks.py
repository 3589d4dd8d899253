"""The credential test: connect, TLS, EHLO, AUTH and MAIL FROM against the real server."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core import settings
from app.core.accounts.model import Account
from app.core.errors import RelayError
from app.core.setup.autofix import improve
from app.core.setup.probe import Prober
from app.core.smtp.session import BearerToken, SmtpSession, Step, Timeouts
from app.core.smtp.transcript import Transcript
from app.core.store import Store

# The checklist a person sees, in order; the session reports the first four itself.
CHECKS: tuple[tuple[str, str], ...] = (
    ("connect", "Connect"),
    ("tls", "Encrypt (TLS)"),
    ("ehlo", "Greet the server (EHLO)"),
    ("auth", "Authenticate"),
    ("sender", "Sender address accepted"),
)
_SESSION_STEP_TO_CHECK = {
    Step.CONNECT: "connect",
    Step.TLS: "tls",
    Step.EHLO: "ehlo",
    Step.AUTH: "auth",
    Step.MAIL: "sender",
}


@dataclass(frozen=True)
class CheckResult:
    """One ticked (or failed) line of the checklist."""

    check: str
    label: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class TestReport:
    """Everything `account test` learned."""

    account: Account
    results: list[CheckResult] = field(default_factory=list)
    error: RelayError | None = None
    transcript: Transcript = field(default_factory=Transcript)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failed",
            "account": self.account.name,
            "server": f"{self.account.host}:{self.account.port}",
            "security": self.account.security.value,
            "steps": [
                {
                    "step": r.check,
                    "label": r.label,
                    "ok": r.ok,
                    "ms": round(r.seconds * 1000, 1),
                    "detail": r.detail,
                }
                for r in self.results
            ],
            "server_facts": self.facts,
            **({"error": self.error.to_dict()} if self.error else {}),
        }


class _Checklist:
    """Turns the session's "step started" callbacks into finished checks with durations."""

    def __init__(self, account: Account, on_result: Callable[[CheckResult], None] | None):
        self._account = account
        self._on_result = on_result
        self.results: list[CheckResult] = []
        self._current: str | None = None
        self._started = time.monotonic()

    def start(self, check: str) -> None:
        if check == self._current:
            return
        self.finish(ok=True)
        self._current, self._started = check, time.monotonic()

    def finish(self, *, ok: bool, detail: str = "") -> None:
        if self._current is None:
            return
        label = dict(CHECKS)[self._current]
        result = CheckResult(self._current, label, ok, time.monotonic() - self._started, detail)
        self.results.append(result)
        self._current = None
        if self._on_result:
            self._on_result(result)


def run_test(
    account: Account,
    password: str | BearerToken | None,
    *,
    transcript: Transcript | None = None,
    timeouts: Timeouts | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    on_session: Callable[[SmtpSession], None] | None = None,
    prober: Prober | None = None,
    second_look: bool = True,
) -> TestReport:
    """Check that the account can log in and send as its address; never sends mail.

    On failure, ``second_look`` probes the other ports and modes (or fetches the
    untrusted certificate) so the error can offer a fix; ``prober`` sets how.
    """
    report = TestReport(account, transcript=transcript or Transcript())
    checklist = _Checklist(account, on_result)

    def on_step(step: Step) -> None:
        check = _SESSION_STEP_TO_CHECK.get(step)
        if check:
            checklist.start(check)

    session = SmtpSession(
        account, transcript=report.transcript, timeouts=timeouts or Timeouts(), on_step=on_step
    )
    if on_session:
        on_session(session)
    try:
        with session:
            session.open(password)
            report.facts = _facts(session)
            checklist.start("sender")
            session.check_sender(account.email)
            checklist.finish(ok=True, detail=account.email)
    except RelayError as error:
        checklist.finish(ok=False, detail=error.message)
        report.error = improve(error, account, prober) if second_look else error
        report.facts = report.facts or _facts(session)
    report.results = checklist.results
    return report


def _facts(session: SmtpSession) -> dict[str, Any]:
    return {
        "max_size": session.max_size,
        "smtputf8": session.supports_smtputf8,
        "pipelining": session.supports_pipelining,
        "auth_mechanisms": list(session.auth_mechanisms),
        "tls_version": session.tls_version,
        "certificate_sha256": session.peer_certificate_sha256,
    }


def remember_limits(store: Store, report: TestReport) -> None:
    """Keep what the server announced (its SIZE limit) so compose can warn before sending.

    Every face that tests an account calls this; sending learns the same in
    ``delivery`` when a session opens.
    """
    limit = report.facts.get("max_size")
    settings.learn_max_size(store, report.account.name, int(limit) if limit else None)
