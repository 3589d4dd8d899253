"""Per-caller policy: storage, recipient rules, quotas from the audit log, attachment paths."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.agents import policy as policies
from app.core.agents.caller_quota import check_quota
from app.core.agents.policy import (
    AttachmentNotAllowed,
    AttachmentTooLarge,
    Policy,
    read_attachment,
    recipient_allowed,
)
from app.core.errors import CallerQuotaExceeded, InvalidInput
from app.core.store import Store


@pytest.fixture
def store(relaydesk_home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        yield opened


def test_default_policy_allows_no_path_attachments_and_caps_content(store: Store) -> None:
    policy = policies.get_policy(store, "agent")
    assert not policies.has_policy(store, "agent")
    assert policy.attachment_dirs == () and policy.accounts is None
    with pytest.raises(AttachmentNotAllowed, match="may not attach files by path"):
        read_attachment(policy, str(Path.home() / ".ssh" / "id_rsa"))
    policies.check_content_size(policy, "ok.bin", policy.max_attachment_size)
    with pytest.raises(AttachmentTooLarge):
        policies.check_content_size(policy, "big.bin", policy.max_attachment_size + 1)


def test_policy_round_trip_is_audited(store: Store) -> None:
    wanted = Policy(
        caller="ci-bot",
        accounts=("work",),
        recipients=("example.com", "*.corp.example", "boss@elsewhere.org"),
        per_hour=3,
        per_day=None,
        max_attachment_size=1000,
        attachment_dirs=("/srv/reports",),
    )
    policies.set_policy(store, wanted, face="cli")
    assert policies.get_policy(store, "ci-bot") == wanted
    assert [p.caller for p in policies.list_policies(store)] == ["ci-bot"]
    assert policies.remove_policy(store, "ci-bot", face="cli")
    assert policies.get_policy(store, "ci-bot") == Policy(caller="ci-bot")
    actions = [(row["action"], row["detail"]["caller"]) for row in store.audit_rows()]
    assert ("policy_set", "ci-bot") in actions and ("policy_remove", "ci-bot") in actions


@pytest.mark.parametrize("bad", ["", "has space", "x" * 200, "line\nbreak"])
def test_caller_ids_are_tokens(store: Store, bad: str) -> None:
    with pytest.raises(InvalidInput):
        policies.get_policy(store, bad)


def test_recipient_rules() -> None:
    policy = Policy(caller="a", recipients=("example.com", "*.corp.example", "boss@other.org"))
    assert recipient_allowed(policy, "anyone@example.com")
    assert recipient_allowed(policy, "Anyone@EXAMPLE.com")
    assert not recipient_allowed(policy, "x@sub.example.com")  # exact domain only
    assert not recipient_allowed(policy, "x@notexample.com")
    assert recipient_allowed(policy, "x@eu.corp.example") and recipient_allowed(
        policy, "x@corp.example"
    )
    assert not recipient_allowed(policy, "x@evilcorp.example")
    assert recipient_allowed(policy, "boss@other.org")
    assert not recipient_allowed(policy, "intern@other.org")
    assert recipient_allowed(Policy(caller="a"), "anyone@anywhere.org")
    assert not recipient_allowed(Policy(caller="a", recipients=()), "anyone@anywhere.org")


def test_quota_counts_only_this_callers_queued_messages(store: Store) -> None:
    policy = Policy(caller="bot", per_hour=2, per_day=3)

    def tool_row(caller: str, outbox_id: int | None) -> None:
        store.audit(
            face="tool", action="tool_call", outcome="sent", outbox_id=outbox_id,
            detail={"caller": caller},
        )  # fmt: skip

    tool_row("bot", 1)
    tool_row("other", 2)
    tool_row("bot", None)  # a rejected call or a dry run does not use the quota
    store.audit(
        face="cli", action="tool_call", outcome="sent", outbox_id=3, detail={"caller": "bot"}
    )
    check_quota(store, policy)
    tool_row("bot", 4)
    with pytest.raises(CallerQuotaExceeded, match="last hour; the limit is 2") as raised:
        check_quota(store, policy)
    assert raised.value.details == {"used": 2, "limit": 2, "window": "hour"}
    # Two hours later the hourly window is clear, the daily one is not yet full.
    check_quota(store, policy, now=time.time() + 2 * 3600)
    tool_row("bot", 5)
    with pytest.raises(CallerQuotaExceeded, match="last day"):
        check_quota(store, policy, now=time.time() + 2 * 3600)


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    allowed = tmp_path / "share"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "sub" / "report.pdf").write_bytes(b"%PDF-1.7 report")
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----")
    return allowed, outside


def test_path_inside_allowed_folder_is_read(tree: tuple[Path, Path]) -> None:
    allowed, _ = tree
    policy = Policy(caller="a", attachment_dirs=(str(allowed),))
    assert read_attachment(policy, str(allowed / "sub" / "report.pdf")) == (
        "report.pdf",
        b"%PDF-1.7 report",
    )
    small = Policy(caller="a", attachment_dirs=(str(allowed),), max_attachment_size=5)
    with pytest.raises(AttachmentTooLarge):
        read_attachment(small, str(allowed / "sub" / "report.pdf"))


def test_paths_escaping_the_allowed_folder_are_refused(tree: tuple[Path, Path]) -> None:
    allowed, outside = tree
    policy = Policy(caller="a", attachment_dirs=(str(allowed),))
    (allowed / "innocent.txt").symlink_to(outside / "id_rsa")
    (allowed / "linkdir").symlink_to(outside, target_is_directory=True)
    (allowed / ".ssh").mkdir()
    (allowed / ".ssh" / "id_rsa").write_text("secret")
    for attempt in (
        outside / "id_rsa",
        allowed / "innocent.txt",
        allowed / "linkdir" / "id_rsa",
        f"{allowed}/sub/../../private/id_rsa",
        allowed / ".ssh" / "id_rsa",
        "/etc/passwd",
    ):
        with pytest.raises(AttachmentNotAllowed):
            read_attachment(policy, str(attempt))


def test_relaydesk_data_is_never_attachable(relaydesk_home: Path, store: Store) -> None:
    policy = Policy(caller="a", attachment_dirs=(str(relaydesk_home.parent),))
    database = relaydesk_home / "data" / "relaydesk.sqlite3"
    assert database.exists()
    with pytest.raises(AttachmentNotAllowed):
        read_attachment(policy, str(database))


def test_folders_and_devices_are_not_attachments(tree: tuple[Path, Path]) -> None:
    allowed, _ = tree
    policy = Policy(caller="a", attachment_dirs=(str(allowed),))
    with pytest.raises(InvalidInput, match="not a regular file|folder"):
        read_attachment(policy, str(allowed / "sub"))
    fifo = allowed / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="not a regular file"):
        read_attachment(policy, str(fifo))  # must not block waiting for a writer


def test_stored_json_is_plain(store: Store) -> None:
    policies.set_policy(store, Policy(caller="b", recipients=("example.com",)), face="cli")
    raw = store.get_setting("policy:b")
    assert raw is not None and '"recipients": ["example.com"]' in raw


def test_rules_fold_ascii_case_only() -> None:
    policy = Policy(caller="a", recipients=("mσ@other.org", "kelvin.example", "boss@other.org"))
    assert recipient_allowed(policy, "mσ@OTHER.org")
    assert not recipient_allowed(policy, "mς@other.org")  # final sigma: casefold() made it σ
    # A domain compares as the name it is sent to: IDNA maps KELVIN SIGN to k, so this is it.
    assert recipient_allowed(policy, "x@\u212aelvin.example")
    assert not recipient_allowed(policy, "bosſ@other.org")  # long s: casefold() made it s
    assert recipient_allowed(policy, "Boss@Other.ORG")
