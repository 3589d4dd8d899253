"""What a launch asks the running app for: window, tray start, quick send or a mail link."""

from __future__ import annotations

import pytest

from app.core.errors import HeaderInjection
from app.ui.application import message_for
from app.ui.compose import prefill


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "activate"),
        (["--minimised"], "minimised"),
        (["--quick-send"], "quick-send"),
        (["mailto:bob@example.com?subject=Hi"], "mailto:bob@example.com?subject=Hi"),
    ],
)
def test_launch_arguments_become_messages(argv: list[str], message: str) -> None:
    assert message_for(argv) == message


def test_mailto_prefill_keeps_plus_and_decodes_rfc6068() -> None:
    draft = prefill.from_mailto(
        "mailto:bob+tag@example.com?cc=carol@example.com&subject=Hello%20there&body=a%0D%0Ab"
    )
    assert draft.to == ["bob+tag@example.com"] and draft.cc == ["carol@example.com"]
    assert draft.subject == "Hello there" and draft.text == "a\nb"


def test_mailto_header_injection_is_refused() -> None:
    with pytest.raises(HeaderInjection):
        prefill.from_mailto("mailto:bob@example.com?subject=hi%0D%0ABcc:%20evil@example.com")
