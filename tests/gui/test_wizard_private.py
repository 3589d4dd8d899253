"""Issue 13: the account wizard takes a company address (corp.local) without a dead end."""

from __future__ import annotations

import os

import pytest

from tests.gui.test_wizard import Button, click, fill_server, retype, run_test_page, wizard  # noqa: F401
from tests.support.smtp_servers import USERS

pytestmark = pytest.mark.gui


def test_corp_local_address_is_accepted_and_tested(qtbot, wizard, smtp_server, secret_service):  # noqa: F811
    page = wizard.address_page
    qtbot.keyClicks(page.email, "alice@corp.local")
    qtbot.keyClicks(page.from_name, "Alice Example")
    retype(qtbot, page.account_name, "corp")
    click(qtbot, wizard, Button.NextButton)
    assert wizard.currentPage() is wizard.server_page, page.error.text()
    if os.environ.get("RELAYDESK_SCREENSHOTS"):
        wizard.grab().save(os.environ["RELAYDESK_SCREENSHOTS"] + "/wizard-corp-local.png")

    server = smtp_server(mode="starttls")
    fill_server(qtbot, wizard, server, security="starttls")
    run_test_page(qtbot, wizard, USERS["alice@example.test"])
    checklist = wizard.test_page.checklist
    results = {checklist.topLevelItem(i).text(1) for i in range(checklist.topLevelItemCount())}
    assert results == {"OK"}
    with qtbot.waitSignal(wizard.account_saved, timeout=5000) as saved:
        click(qtbot, wizard, Button.FinishButton)
    assert saved.args == ["corp"]
