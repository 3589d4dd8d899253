"""The scenes of scripts/take_screenshots.py, in the order a new user meets them."""

from __future__ import annotations

from typing import Any

from app.core.accounts.model import Security
from app.core.setup.detect import Candidate, Detection

SENT = [
    ("grace@example.org", "Slides for Monday", "Here are the slides."),
    ("charles@example.net", "Invoice 2026-117", "Please find the invoice attached."),
    ("mary@example.org", "Lunch on Friday?", "Are you free at one?"),
    ("charles@example.net", "Re: travel plans", "The train leaves at 8:40."),
    ("grace@example.org", "Meeting notes", "Notes from today's meeting."),
]


def finds(host: str, source: str, provider: str = "") -> Any:
    """A lookup answering as autoconfig or MX would for these (example) domains."""

    def detector(address: str) -> Detection:
        domain = address.rpartition("@")[2]
        found = Candidate(host, 587, Security.STARTTLS, None, source=source, provider=provider)
        trail = (f"{source}: {host} for {domain}",)
        return Detection(address, domain, (found,), trail)

    return detector


class Scenes:
    def __init__(self, shooter: Any) -> None:
        self.s = shooter

    def play(self) -> None:
        from app.ui.controller import Controller

        controller = Controller(run_outbox=False, on_quit=lambda: None)
        self.controller = controller
        controller.start()
        window = controller.window
        window.resize(1100, 680)
        window.move(60, 30)
        self.s.wait(lambda: controller.ready)
        self.s.shot("01-first-launch")
        self.setup()
        self.trust()
        self.compose()
        self.outbox()
        self.history()
        self.settings()
        self.quit_prompt()
        controller.shutdown()

    # -- setup ---------------------------------------------------------------------------
    def _setup_dialog(self, detector: Any) -> Any:
        from app.ui.wizard.setup_dialog import SetupDialog

        page = self.controller.window.accounts
        dialog = SetupDialog(page, detector=detector)
        dialog.account_saved.connect(page.on_wizard_account_saved)
        dialog.show()
        dialog.move(400, 150)
        return dialog

    def setup(self) -> None:
        known = self._setup_dialog(finds("smtp.example.com", "autoconfig"))
        known.from_name.setText("Ada Lovelace")
        known.email.setText("ada.lovelace@gmail.com")
        known.email.editingFinished.emit()
        known.password.setFocus()
        self.s.shot("02-setup-known-provider")
        known.reject()
        dialog = self._setup_dialog(finds("smtp.example.com", "autoconfig"))
        dialog.from_name.setText("Ada Lovelace")
        dialog.email.setText("ada@example.com")
        dialog.password.setText("correct horse battery staple")
        self.s.shot("02-setup-form")  # a domain no preset knows: looked up on Continue
        dialog.primary.click()
        self.s.wait(lambda: dialog.state == "passed")
        dialog.manual.username.setText("ada@example.com")
        self.s.shot("03-setup-works")
        dialog.primary.click()
        self.s.wait(lambda: not dialog.isVisible())

    def trust(self) -> None:
        from app.qt import QTimer, QtWidgets

        dialog = self._setup_dialog(finds("relay.corp.example", "mx", "Corp relay"))
        dialog.from_name.setText("Ada Lovelace")
        dialog.email.setText("ada@corp.example")
        dialog.password.setText("correct horse battery staple")
        dialog.primary.click()
        self.s.wait(lambda: dialog.state in ("failed", "passed"))
        self.s.shot("04-certificate-untrusted")

        def answer() -> None:
            box = QtWidgets.QApplication.activeModalWidget()
            box.move(330, 120)
            self.s.shot("05-certificate-trust")
            [button] = [
                b
                for b in box.findChildren(QtWidgets.QPushButton)
                if b.text() == "&Trust this certificate"
            ]
            button.click()

        QTimer.singleShot(300, answer)
        dialog.diagnosis.fix.click()
        self.s.wait(lambda: dialog.state == "passed")
        dialog.primary.click()
        self.s.wait(lambda: not dialog.isVisible())

    # -- writing and sending ------------------------------------------------------------
    def _send(self, to: str, subject: str, text: str) -> None:
        form = self.controller.window.compose
        form.to.set_text(to)
        form.subject.setText(subject)
        form.body.set_content(text)
        form.on_send_button_clicked()
        self.s.wait(lambda: not form.sending and form.status.text() != "Preparing the message…")

    def compose(self) -> None:
        window = self.controller.window
        window.show_page(0)
        form = window.compose
        for to, subject, text in SENT[:-1]:
            self._send(to, subject, text)
        self.s.settle(0.5)
        self.s.close_notifications()
        self._send(*SENT[-1])
        self.s.settle(1.0)
        self.s.shot("08-notification")  # the send's notification, top right, no tray
        self.s.close_notifications()
        from app.core.accounts import identity

        identity.put(self.controller.store, "example", signature="Ada Lovelace\nExample Ltd",
                     reply_to=None)  # fmt: skip
        self.controller.window.compose.reload_accounts()
        form.status.clear_text()
        form.to.set_text("grace@example.org")
        form.cc.set_text("charles@example.net")
        form.subject.setText("Quarterly report")
        form.body.set_content(
            "Hi Grace,\n\nthe figures for the quarter are attached.\n\n-- \nAda Lovelace\n"
            "Example Ltd"
        )
        report = self.s.temp / "Q3 report.pdf"
        report.write_bytes(b"%PDF-1.4\n" + bytes(180_000))
        form.attachments.add_paths([report])
        form.body.editor.setFocus()
        self.s.shot("06-compose")
        form.clear()
        form.attachments.clear()

    def outbox(self) -> None:
        window = self.controller.window
        self._send("accounts@example.net", "Signed contract", "The signed contract.")
        window.show_page(2)
        window.outbox.table.selectRow(0)
        self.s.shot("07-outbox-waiting")

    def history(self) -> None:
        window = self.controller.window
        window.show_page(1)
        window.history.table.selectRow(0)
        self.s.shot("09-history")

    def settings(self) -> None:
        from app.ui.settings.dialog import SettingsDialog

        dialog = SettingsDialog(self.controller.store, self.controller.window)
        dialog.show()
        dialog.move(330, 100)
        self.s.shot("10-settings")
        dialog.reject()
        window = self.controller.window
        window.show_page(3)
        window.accounts.table.selectRow(1)
        window.accounts.on_certificate_clicked()
        certificate = window.accounts.certificate_dialog
        certificate.move(330, 90)
        certificate.check.click()
        self.s.wait(certificate.check.isEnabled)  # enabled again once the server answered
        self.s.shot("11-certificate-review")
        certificate.reject()

    def quit_prompt(self) -> None:
        from app.qt import QTimer, QtWidgets

        def answer() -> None:
            box = QtWidgets.QApplication.activeModalWidget()
            self.s.shot("12-quit-with-waiting-message")
            box.reject()

        QTimer.singleShot(300, answer)
        self.controller.window.show_page(2)
        self.controller.quit()
