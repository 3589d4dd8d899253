"""Large attachments are built to a spool file: the same bytes as in memory, sent from the file."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery import outbox, spool
from app.core.delivery.attempts import SendOptions, queue_draft, send_item
from app.core.delivery.message import Attachment, Draft, build
from app.core.delivery.outbox import State
from app.core.errors import MessageTooLarge
from app.core.store import Store
from tests.support.fast_server import use_fast_server
from tests.support.smtp_servers import start_server

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def draft_with(*paths: Path) -> Draft:
    return Draft(
        to=("bob@example.com",),
        bcc=("carol@example.com",),
        subject="Files ☂",
        text="See attached.\n.a dot line\n",
        html="<p>See attached.</p>",
        attachments=(
            Attachment(filename="note.txt", data=b"small one\n"),
            *(Attachment.from_path(path) for path in paths),
        ),
    )


def in_memory(draft: Draft) -> bytes:
    random.seed(7)  # the MIME boundaries
    return build(draft, sender="alice@example.com", message_id="<m@example.com>", date=WHEN).data


def spooled(draft: Draft, directory: Path, threshold: int = 1) -> spool.SpooledMessage:
    random.seed(7)
    return spool.build_to_spool(
        draft,
        sender="alice@example.com",
        directory=directory,
        message_id="<m@example.com>",
        date=WHEN,
        threshold=threshold,
    )


@pytest.mark.parametrize("size", [0, 1, 2, 56, 57, 58, 114, 1000, 57 * 16 * 1024 + 5])
def test_spooled_bytes_equal_the_built_bytes(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    first, second = tmp_path / "a.bin", tmp_path / "photo.jpg"
    first.write_bytes(data)
    second.write_bytes(data[::-1] + b"x")
    draft = draft_with(first, second)
    result = spooled(draft, tmp_path / "spool")
    assert result.path.read_bytes() == in_memory(draft)
    assert result.size == result.path.stat().st_size
    assert result.recipients == ("bob@example.com", "carol@example.com")
    assert oct(result.path.stat().st_mode & 0o777) == "0o600"
    assert list((tmp_path / "spool").iterdir()) == [result.path]  # no partial file left


def test_small_attachments_are_not_spooled(tmp_path: Path) -> None:
    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 100)
    assert not spool.should_spool(draft_with(small))
    assert spool.should_spool(draft_with(small), threshold=100)


def test_size_limit_is_checked_before_writing(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 10_000)
    random.seed(7)
    with pytest.raises(MessageTooLarge):
        spool.build_to_spool(
            draft_with(big),
            sender="alice@example.com",
            directory=tmp_path / "spool",
            max_size=5_000,
            threshold=1,
        )
    assert not (tmp_path / "spool").exists() or not list((tmp_path / "spool").iterdir())


@pytest.mark.parametrize("chunking", [True, False])
def test_queued_large_message_is_sent_from_the_spool_file(
    relaydesk_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    ca: trustme.CA,
    tmp_path: Path,
    chunking: bool,
) -> None:
    use_fast_server(monkeypatch, ("PIPELINING", "CHUNKING"))
    server = start_server(mode="plain", users=None, ca=ca, tmp_path=tmp_path)
    big = tmp_path / "archive.zip"
    big.write_bytes(os.urandom(spool.SPOOL_THRESHOLD + 12_345))
    progress: list[tuple[int, int]] = []
    try:
        with Store.open() as store:
            account = Account(
                name="relay",
                email="alice@example.com",
                host=server.host,
                port=server.port,
                security=Security.NONE,
            )
            accounts.add_account(store, account)
            item_id = queue_draft(store, account, draft_with(big), face="cli")
            row = store.execute(
                "SELECT length(data) AS n, spool_path FROM outbox WHERE id = ?", (item_id,)
            ).fetchone()
            assert row["n"] == 0 and row["spool_path"]
            spool_file = Path(row["spool_path"])
            assert spool_file.parent == relaydesk_home / "data" / "spool"
            options = SendOptions(chunking=chunking, on_progress=lambda *p: progress.append(p))
            result = send_item(store, item_id, lambda _: None, options)
            assert result.state is State.SENT
            assert server.messages[0].data == spool_file.read_bytes()
            assert outbox.message_data(store, item_id) == spool_file.read_bytes()
            assert progress[-1][0] == progress[-1][1] >= spool_file.stat().st_size
            outbox.discard(store, _failed_copy(store, account, big), face="cli")
    finally:
        server.stop()
    assert len(list(spool_file.parent.iterdir())) == 1  # the discarded one's file is gone


def _failed_copy(store: Store, account: Account, big: Path) -> int:
    item_id = queue_draft(store, account, draft_with(big), face="cli")
    outbox.cancel(store, item_id, face="cli")
    return item_id


def test_orphaned_spool_files_are_swept_but_fresh_ones_kept(relaydesk_home: Path) -> None:
    with Store.open() as store:
        spool_dir = store.path.parent / "spool"
        spool_dir.mkdir(exist_ok=True)
        old, fresh, partial = (spool_dir / n for n in ("old.eml", "fresh.eml", "crash.part"))
        for path in (old, fresh, partial):
            path.write_bytes(b"x" * 10)
        long_ago = time.time() - 3 * 86400
        os.utime(old, (long_ago, long_ago))
        os.utime(partial, (long_ago, long_ago))
        outbox.recover(store)  # what every sender does as it starts
    assert not old.exists() and not partial.exists()
    assert fresh.exists()  # may be a message being written right now
