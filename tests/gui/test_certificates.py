"""Trusting a self-signed company server in setup, then reviewing and removing it later."""

from __future__ import annotations

from app.core.accounts import model as accounts
from app.core.store import Store
from app.qt import QTimer, QtWidgets
from app.ui.wizard.window import AccountWizard
from tests.gui.test_wizard import Button, click, fill_address, fill_server, run_test_page
from tests.support.smtp_servers import USERS

LOGIN = "alice@example.test"


def grouped_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.count(":") == 7 and len(line) == 23]


def click_later(text: str, seen: list[QtWidgets.QWidget], name: str) -> None:
    def answer() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        assert dialog is not None and dialog.objectName() == name, dialog
        seen.append(dialog)
        buttons = dialog.findChildren(QtWidgets.QAbstractButton)
        [button] = [b for b in buttons if b.text().replace("&", "") == text]
        button.click()

    QTimer.singleShot(50, answer)


def test_trust_then_review_and_remove(qtbot, relaydesk_home, smtp_server, secret_service):
    server = smtp_server(mode="starttls", cert="untrusted")
    wizard = AccountWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    fill_address(qtbot, wizard, "alice@example.com")
    fill_server(qtbot, wizard, server, security="starttls")
    run_test_page(qtbot, wizard, USERS[LOGIN])

    panel = wizard.test_page.diagnosis
    assert "--ca-file" not in panel.hint.text()
    assert "fingerprint below" in panel.hint.text()
    facts = grouped_lines(panel.facts.text())
    assert len(facts) == 4  # 32 pairs, whole, in lines of 8
    assert panel.fix.text().replace("&", "") == "Review and trust this certificate…"

    seen: list[QtWidgets.QWidget] = []
    click_later("Trust this certificate", seen, "trust-certificate")
    with qtbot.waitSignal(wizard.test_page.runner.finished, timeout=15_000):
        panel.fix.click()
    [dialog] = seen
    labels = dialog.findChildren(QtWidgets.QLabel)
    shown = "\n".join(label.text() for label in labels)
    assert grouped_lines(shown) == facts  # the same fingerprint, in the same format
    assert "Issued to" in "\n".join(label.text() for label in labels)
    assert wizard.test_page.report is not None and wizard.test_page.report.ok
    with qtbot.waitSignal(wizard.account_saved, timeout=5000):
        click(qtbot, wizard, Button.FinishButton)
    with Store.open() as store:
        account = accounts.get_account(store, "work")
    assert account.pin_sha256

    from app.ui.accounts.certificate import CertificateDialog

    with Store.open() as store:
        view = CertificateDialog(store, account)
        qtbot.addWidget(view)
        view.show()
        text = "\n".join(label.text() for label in view.findChildren(QtWidgets.QLabel))
        assert "\n".join(facts) in text  # the pin, whole and in the same format
        assert "CA file:" in text  # the test server's CA file is trusted too
        view.check.click()
        qtbot.waitUntil(view.check.isEnabled, timeout=10_000)  # the server answered
        assert view.server_status.text() == "The server presents the trusted certificate."
        shown = "\n".join(label.text() for label in view.findChildren(QtWidgets.QLabel))
        assert shown.count("\n".join(facts)) == 2  # the pin, and the server's own now
        assert "Valid until" in shown

        click_later("Remove trust", [], "remove-trust")
        with qtbot.waitSignal(view.trust_removed, timeout=5000):
            view.remove.click()
        view.reject()
        assert accounts.get_account(store, "work").pin_sha256 is None
        [row] = [r for r in store.audit_rows() if r["action"] == "certificate_remove"]
        assert row["face"] == "gui" and row["detail"]["pin_sha256"] == account.pin_sha256
