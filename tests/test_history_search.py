"""History search finds what people type (parts of addresses too), fast or not."""

from __future__ import annotations

import pytest

from app.core import store as store_module
from app.core.delivery import history
from app.core.store import Store

ROWS = [
    ("Quarterly report Q3", ["jane.doe@vandelay.example", "ops@acme.example"]),
    ("Invoice 100% paid", ["billing_team@acme.example"]),
    ('The "big" offer', ["Jürgen.Groß@beispiel.example"]),
    ("Re: lunch", ["bob@club.example"]),
]


def record(store: Store, subject: str, to: list[str], n: int = 0) -> int:
    return history.record(
        store,
        outbox_id=n,
        account="work",
        message_id=f"<{n}@example.com>",
        subject=subject,
        envelope_from="alice@example.com",
        recipients=[{"address": a, "status": "accepted", "reply": "250 OK"} for a in to],
        final_reply="250 OK",
        size=100,
    )


@pytest.fixture
def store(relaydesk_home) -> Store:
    with Store.open() as opened:
        for n, (subject, to) in enumerate(ROWS):
            record(opened, subject, to, n)
        yield opened


def subjects(store: Store, query: str) -> list[str]:
    return sorted(entry.subject for entry in history.search(store, query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("doe@vand", ["Quarterly report Q3"]),  # part of an address
        ("VANDELAY", ["Quarterly report Q3"]),  # any case
        ("@acme", ["Invoice 100% paid", "Quarterly report Q3"]),
        ("q3", ["Quarterly report Q3"]),  # shorter than the index can look up
        ("re", ["Quarterly report Q3", "Re: lunch"]),
        ("acme report", ["Quarterly report Q3"]),  # every word must appear
        ("acme lunch", []),
        ("100%", ["Invoice 100% paid"]),  # LIKE wildcards are plain characters
        ("g_team", ["Invoice 100% paid"]),
        ("10_%", []),
        ('"big"', ['The "big" offer']),  # FTS5 syntax is plain text too
        ("groß@", ['The "big" offer']),
        ("GROSS", ['The "big" offer']),  # casefolded: ß is ss
        ("", sorted(subject for subject, _ in ROWS)),
    ],
)
def test_search_finds_substrings(store: Store, query: str, expected: list[str]) -> None:
    assert subjects(store, query) == expected
    assert history.count(store, query) == len(expected)


def test_index_and_full_scan_agree(relaydesk_home, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever path a query takes, it finds the same rows in the same order."""
    with Store.open() as store:
        for n in range(300):
            to = ["old@former-employer.example"] if n < 60 else [f"user{n % 7}@acme.example"]
            record(store, f"Weekly summary {n}", to, n)
        queries = ["former-employer", "user3", "weekly 12", "acme summary", "summary", "nothing"]
        monkeypatch.setattr(history, "SPARSE", 10)
        monkeypatch.setattr(history, "WALK", 50)
        choices: list[bool] = []
        use_index = history._use_index
        monkeypatch.setattr(
            history, "_use_index", lambda *a: choices.append(use_index(*a)) or choices[-1]
        )
        indexed = [
            (history.search(store, q, limit=20, offset=5), history.count(store, q)) for q in queries
        ]
        paths_taken = set(choices)
        monkeypatch.setattr(history, "_match", lambda words: None)
        scanned = [
            (history.search(store, q, limit=20, offset=5), history.count(store, q)) for q in queries
        ]
    assert paths_taken == {True, False}  # the index and the walk newest first
    assert indexed == scanned
    assert [total for _, total in indexed] == [60, 34, 13, 240, 300, 0]


def test_index_follows_deletes_and_updates(store: Store) -> None:
    [entry] = history.search(store, "jane.doe")
    store.execute("UPDATE history SET search_text = 'renamed' WHERE id = ?", (entry.id,))
    assert history.search(store, "jane.doe") == []
    assert [e.id for e in history.search(store, "renamed")] == [entry.id]
    store.execute("DELETE FROM history WHERE id = ?", (entry.id,))
    assert history.search(store, "renamed") == []


def test_upgrade_indexes_existing_history(relaydesk_home, monkeypatch: pytest.MonkeyPatch) -> None:
    """History written before the index existed is found after the upgrade."""
    shipped = store_module.MIGRATIONS
    monkeypatch.setattr(store_module, "MIGRATIONS", shipped[:2])
    with Store.open() as old:
        record(old, "Before the upgrade", ["carol@vandelay.example"])
    monkeypatch.setattr(store_module, "MIGRATIONS", shipped)
    with Store.open() as upgraded:
        assert upgraded.schema_version == len(shipped)
        [entry] = history.search(upgraded, "carol@vand")
        assert entry.subject == "Before the upgrade"
        indexed = upgraded.execute(
            "SELECT COUNT(*) FROM history_search WHERE history_search MATCH '\"carol\"'"
        ).fetchone()[0]
        assert indexed == 1


def test_search_works_where_sqlite_has_no_trigram_index(
    relaydesk_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(store_module.OPTIONAL_MIGRATIONS, 3, lambda _connection: False)
    with Store.open() as opened:
        assert not opened.has_search_index
        assert opened.schema_version == len(store_module.MIGRATIONS)
        for n, (subject, to) in enumerate(ROWS):
            record(opened, subject, to, n)
        assert [e.subject for e in history.search(opened, "vandelay")] == ["Quarterly report Q3"]
        assert history.count(opened, "acme") == 2
