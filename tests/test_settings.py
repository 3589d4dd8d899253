"""The settings registry: one table, typed values, clear refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core import settings
from app.core.errors import InvalidInput
from app.core.store import Store


@pytest.fixture
def store(relaydesk_home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        yield opened


def test_unset_settings_read_as_their_defaults(store: Store) -> None:
    assert settings.get(store, "retry_interval") == 30
    assert settings.get(store, "smtp_pipelining") is True
    assert settings.get(store, "retry_max_age_hours") == 48.0


def test_text_from_a_command_line_is_typed_and_kept(store: Store) -> None:
    assert settings.put(store, "smtp_chunking", "off") is False
    assert settings.put(store, "retry_interval", "120") == 120
    assert settings.get(store, "smtp_chunking") is False
    assert settings.get(store, "retry_interval") == 120


def test_a_value_of_the_wrong_kind_is_refused_and_the_old_one_kept(store: Store) -> None:
    settings.put(store, "retry_interval", 60)
    with pytest.raises(InvalidInput) as caught:
        settings.put(store, "retry_interval", "soon")
    assert "a whole number" in caught.value.hint
    with pytest.raises(InvalidInput) as caught:
        settings.put(store, "retry_interval", "1")
    assert "from 5 to 3600" in caught.value.hint
    assert settings.get(store, "retry_interval") == 60


def test_an_unknown_key_names_the_list_command(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        settings.get(store, "retry_intervall")
    assert "relaydesk settings list" in caught.value.hint


def test_reset_returns_to_the_default(store: Store) -> None:
    settings.put(store, "notifications", False)
    assert settings.reset(store, "notifications") is True
    assert settings.get(store, "notifications") is True


def test_the_learned_size_limit_is_per_account(store: Store) -> None:
    settings.learn_max_size(store, "work", 10_000_000)
    settings.learn_max_size(store, "home", None)
    assert settings.learned_max_size(store, "work") == 10_000_000
    assert settings.learned_max_size(store, "home") is None
