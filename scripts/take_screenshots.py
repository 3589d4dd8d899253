"""Screenshot every Relaydesk window: ``python scripts/take_screenshots.py [OUTDIR]``.

Runs the real windows against a local aiosmtpd server and a throwaway Secret
Service, in a temporary RELAYDESK_HOME. Default OUTDIR: docs/screenshots.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="relaydesk-shots-") as temp:
        os.environ["RELAYDESK_HOME"] = str(Path(temp) / "home")
        return _shoot(out, Path(temp))


def _wait(app, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def _save(app, widget, path: Path) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.02)
    widget.grab().save(str(path))
    print(path)


def _shoot(out: Path, temp: Path) -> int:
    import keyring
    import trustme
    from keyring.backends import SecretService

    from app.ui.application import make_application
    from tests.support.secret_service import start_secret_service
    from tests.support.smtp_servers import start_server

    app = make_application()
    app.setStyle("Fusion")
    server = start_server(mode="starttls", ca=trustme.CA(), tmp_path=temp)
    service = start_secret_service()
    os.environ.update(service.env)
    keyring.set_keyring(SecretService.Keyring())
    try:
        _prepare(server)
        _windows(app, server, out, temp)
    finally:
        service.stop()
        server.stop()
    return 0


def _prepare(server) -> None:
    from app.core import outbox, secrets
    from app.core.accounts import Account, PasswordMode, Security, add_account, get_account
    from app.core.delivery import queue_draft
    from app.core.errors import ConnectionRefused, RecipientRefused
    from app.core.message import Draft
    from app.core.outbox import State
    from app.core.store import Store
    from tests.support.smtp_servers import USERS

    with Store.open() as store:
        add_account(
            store,
            Account(
                "work",
                "alice@example.com",
                server.host,
                server.port,
                Security.STARTTLS,
                username="alice@example.test",
                from_name="Alice Example",
                password_mode=PasswordMode.KEYRING,
                ca_file=str(server.ca_file),
            ),
        )
        add_account(
            store,
            Account(
                "home",
                "alice.home@example.org",
                "smtp.example.org",
                465,
                Security.TLS,
                username="alice.home",
                password_mode=PasswordMode.ASK,
            ),
        )
        secrets.store_password("work", USERS["alice@example.test"])
        store.set_setting("max_size:work", str(10_000_000))
        _history(store)
        work = get_account(store, "work")
        failed = queue_draft(
            store,
            work,
            Draft(to=("nobody@example.net",), subject="Contract draft v3", text="..."),
            face="gui",
        )
        outbox.set_state(
            store,
            failed,
            State.FAILED,
            error=RecipientRefused(
                "The server refused every recipient (nobody@example.net: 550 5.1.1 no such user).",
                hint="Check the addresses for typos; nothing was sent.",
            ),
        )
        later = queue_draft(
            store,
            work,
            Draft(to=("team@example.com",), subject="Weekly status", text="..."),
            face="cli",
        )
        outbox.set_state(
            store,
            later,
            State.RETRYING,
            next_attempt_at=time.time() + 1800,
            error=ConnectionRefused(
                "smtp.example.com refused the connection.", hint="Relaydesk tries again later."
            ),
        )


def _history(store) -> None:
    people = ["bob@example.com", "carol@example.org", "dave@example.net", "erin@example.com"]
    subjects = [
        "Quarterly report",
        "Lunch on Friday?",
        "Invoice 2024-117",
        "Re: travel plans",
        "Slides for Monday",
        "Meeting notes",
        "Photos from the trip",
        "Welcome aboard",
    ]
    now = time.time()
    with store.transaction() as db:
        for i in range(40):
            to = people[i % len(people)]
            subject = subjects[i % len(subjects)]
            recipients = json.dumps(
                [{"address": to, "status": "accepted", "reply": "250 2.0.0 OK queued"}]
            )
            db.execute(
                "INSERT INTO history (outbox_id, account, message_id, subject, envelope_from,"
                " recipients, search_text, final_reply, size, sent_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    1000 + i,
                    "work",
                    f"<{i}.shot@example.com>",
                    subject,
                    "alice@example.com",
                    recipients,
                    f"{subject} {to}".casefold(),
                    "250 2.0.0 OK queued",
                    2_000 + 1_337 * i,
                    now - 3600 * (40 - i) * 7,
                ),
            )


def _windows(app, server, out: Path, temp: Path) -> None:
    from app.ui.controller import Controller

    controller = Controller(run_outbox=False, on_quit=lambda: None)
    controller.start()
    window = controller.window
    window.resize(1000, 680)
    form = window.compose
    form.to.set_text("bob@example.com")
    form.subject.setText("Quarterly report")
    form.body.set_content("Hi Bob,\n\nthe report is attached.\n\nAlice")
    report = temp / "Q3-report.pdf"
    report.write_bytes(b"%PDF-1.4\n" + os.urandom(240_000))
    form.attachments.add_paths([report])
    form.on_send_button_clicked()
    _wait(app, lambda: server.messages and not form.sending)
    _save(app, window, out / "main-compose-sent.png")

    form.to.set_text("bob@example.com, carol@@example")
    form.subject.setText("Lunch on Friday?")
    form.body.set_content("Are you free?")
    _save(app, window, out / "compose-invalid-address.png")

    window.show_page(1)
    window.history.table.selectRow(0)
    _save(app, window, out / "history.png")
    window.show_page(2)
    window.outbox.table.selectRow(0)
    _save(app, window, out / "outbox-failed.png")
    window.show_page(3)
    window.accounts.table.selectRow(0)
    window.accounts.on_test_clicked()
    _wait(app, lambda: not window.accounts.tests.running)
    _save(app, window, out / "accounts.png")

    controller.show_quick_send()
    dialog = controller.quick_send
    dialog.to.set_text("carol@example.org")
    dialog.subject.setText("Running late")
    dialog.text.setPlainText("Ten minutes, sorry!")
    _save(app, dialog, out / "quick-send.png")

    from app.ui.settings import SettingsDialog

    settings = SettingsDialog(controller.store, window)
    settings.show()
    _save(app, settings, out / "settings.png")
    settings.reject()
    _policy_settings(app, controller, window, temp, out)

    if controller.tray.available:
        controller.tray.menu.popup(window.mapToGlobal(window.rect().center()))
        _save(app, controller.tray.menu, out / "tray-menu.png")
        controller.tray.menu.hide()

    app.setPalette(_dark_palette())
    window.show_page(0)
    _save(app, window, out / "compose-invalid-address-dark.png")
    window.show_page(1)
    _save(app, window, out / "history-dark.png")
    controller.shutdown()


def _policy_settings(app, controller, window, temp: Path, out: Path) -> None:
    from app.core import policy
    from app.core.policy import Policy
    from app.ui.settings import SettingsDialog

    reports = temp / "reports"
    reports.mkdir(exist_ok=True)
    policy.set_policy(
        controller.store,
        Policy(
            caller="claude",
            accounts=("work",),
            recipients=("example.com", "boss@example.org"),
            per_hour=5,
            per_day=40,
            max_attachment_size=2_500_000,
            attachment_dirs=(str(reports),),
        ),
        face="gui",
    )
    policy.set_policy(controller.store, Policy(caller="cron-backup"), face="gui")
    settings = SettingsDialog(controller.store, window)
    settings.tabs.setCurrentWidget(settings.policies)
    settings.show()
    _save(app, settings, out / "settings-tool-callers.png")
    settings.reject()


def _dark_palette():
    from app.ui.qt import QtGui

    palette = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    for key, colour in {
        role.Window: "#2b2b2b",
        role.WindowText: "#e6e6e6",
        role.Base: "#1e1e1e",
        role.AlternateBase: "#262626",
        role.Text: "#e6e6e6",
        role.Button: "#353535",
        role.ButtonText: "#e6e6e6",
        role.Highlight: "#2f7de1",
        role.HighlightedText: "#ffffff",
        role.ToolTipBase: "#353535",
        role.ToolTipText: "#e6e6e6",
        role.PlaceholderText: "#8c8c8c",
    }.items():
        palette.setColor(key, QtGui.QColor(colour))
    disabled = QtGui.QPalette.ColorGroup.Disabled
    for key in (role.Text, role.ButtonText, role.WindowText):
        palette.setColor(disabled, key, QtGui.QColor("#7a7a7a"))
    palette.setColor(disabled, role.Button, QtGui.QColor("#2f2f2f"))
    return palette


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
