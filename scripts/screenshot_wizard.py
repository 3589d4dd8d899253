"""Screenshot every page of the account wizard: ``python scripts/screenshot_wizard.py OUTDIR``.

Runs against a local aiosmtpd server (trustme CA) so the test page shows a real
failed test (wrong password, with its hint) and a real passing one. Nothing is
stored outside a temporary RELAYDESK_HOME; passwords are not kept (no keyring writes).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 64
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="relaydesk-shots-") as temp:
        os.environ["RELAYDESK_HOME"] = str(Path(temp) / "home")
        return _shoot(out, Path(temp))


def _shoot(out: Path, temp: Path) -> int:
    import keyring
    import trustme
    from keyring.backends import SecretService, fail

    from app.ui.qt import QtWidgets
    from tests.support.secret_service import start_secret_service
    from tests.support.smtp_servers import start_server

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    server = start_server(mode="starttls", ca=trustme.CA(), tmp_path=temp)
    service = start_secret_service()
    os.environ.update(service.env)
    keyring.set_keyring(SecretService.Keyring())
    try:
        _walk(app, server, out, "")
        _edit(app, server, out)
        _found_via_mx(app, out)
        _found_in_database(app, out)
        _gmail(app, out, "")
        keyring.set_keyring(fail.Keyring())
        _gmail(app, out, "-no-keyring")
        keyring.set_keyring(SecretService.Keyring())
        app.setStyle("Fusion")
        app.setPalette(_dark_palette())
        _walk(app, server, out, "-dark")
    finally:
        service.stop()
        server.stop()
    return 0


def _walk(app: object, server: object, out: Path, suffix: str) -> None:
    from app.ui.wizard import AccountWizard
    from tests.support.smtp_servers import USERS

    wizard = AccountWizard(detector=_offline_detector({}))  # type: ignore[arg-type]
    wizard.show()
    page = wizard.address_page
    page.email.setText("alice@example.com")
    page.from_name.setText("Alice Example")
    page.account_name.setText("work")
    _save(app, wizard, out / f"wizard-1-address{suffix}.png")

    wizard.next()
    _wait_for_lookup(app, wizard)
    servers = wizard.server_page
    servers.host.setText(server.host)  # type: ignore[attr-defined]
    servers.on_host_edited(servers.host.text())  # as if typed
    servers.port.setValue(server.port)  # type: ignore[attr-defined]
    servers.ca_file.setText(str(server.ca_file))  # type: ignore[attr-defined]
    servers.username.setText("alice@example.test")
    _save(app, wizard, out / f"wizard-2-server{suffix}.png")

    wizard.next()
    wizard.password_page.password.setText("not the password")
    _save(app, wizard, out / f"wizard-3-password{suffix}.png")

    wizard.next()
    _wait_for_test(app, wizard)
    wizard.test_page.show_transcript.setChecked(True)
    _save(app, wizard, out / f"wizard-4-test-failed{suffix}.png")

    wizard.back()
    wizard.password_page.password.setText(USERS["alice@example.test"])
    wizard.next()
    _wait_for_test(app, wizard)
    wizard.test_page.show_transcript.setChecked(False)
    _save(app, wizard, out / f"wizard-4-test-passed{suffix}.png")
    wizard.reject()


def _edit(app: object, server: object, out: Path) -> None:
    """Edit mode: an account stored with a wrong port, fixed and tested again."""
    from app.core import accounts, secrets
    from app.core.accounts import Account, PasswordMode, Security
    from app.core.store import Store
    from app.ui.wizard import AccountWizard
    from tests.support.smtp_servers import USERS

    account = Account(
        "work",
        "alice@example.com",
        server.host,  # type: ignore[attr-defined]
        2525,
        Security.STARTTLS,
        username="alice@example.test",
        from_name="Alice Example",
        password_mode=PasswordMode.KEYRING,
        ca_file=str(server.ca_file),  # type: ignore[attr-defined]
    )
    with Store.open() as store:
        accounts.add_account(store, account)
    secrets.store_password("work", USERS["alice@example.test"])
    wizard = AccountWizard(account=account)
    wizard.show()
    _save(app, wizard, out / "wizard-edit-1-address.png")
    wizard.next()
    wizard.server_page.port.setValue(server.port)  # type: ignore[attr-defined]
    _save(app, wizard, out / "wizard-edit-2-server.png")
    wizard.next()
    _save(app, wizard, out / "wizard-edit-3-password.png")
    wizard.next()
    _wait_for_test(app, wizard)
    _save(app, wizard, out / "wizard-edit-4-test-passed.png")
    wizard.reject()
    with Store.open() as store:
        accounts.remove_account(store, "work")
    secrets.delete_password("work")


def _offline_detector(mx: dict[str, list[str]]) -> object:
    """Autodetection against a DNS answer table: no real domain is looked up."""
    from functools import partial

    from app.core.detect import detect
    from app.core.probe import Prober

    class Table:
        def mx(self, domain: str, timeout: float) -> list[str]:
            return mx.get(domain, [])

        def srv(self, name: str, timeout: float) -> list[object]:
            return []

    def refuse(host: str, port: int, timeout: float) -> object:
        raise ConnectionRefusedError(111, "Connection refused")

    return partial(
        detect, resolver=Table(), fetcher=lambda url, timeout: None, prober=Prober(connect=refuse)
    )


def _found_via_mx(app: object, out: Path) -> None:
    """Page 2 filled by autodetection: a DNS answer table, nothing looked up for real."""
    from app.ui.wizard import AccountWizard

    detector = _offline_detector({"example.org": ["example-org.mail.protection.outlook.com"]})
    wizard = AccountWizard(detector=detector)  # type: ignore[arg-type]
    wizard.show()
    wizard.address_page.email.setText("alice@example.org")
    wizard.address_page.from_name.setText("Alice Example")
    wizard.next()
    _wait_for_lookup(app, wizard)
    _save(app, wizard, out / "wizard-2-found-via-mx.png")
    wizard.reject()


def _found_in_database(app: object, out: Path) -> None:
    """Page 2 filled from the bundled provider database, its source and page shown."""
    from app.ui.wizard import AccountWizard

    wizard = AccountWizard(detector=_offline_detector({}))  # type: ignore[arg-type]
    wizard.show()
    wizard.address_page.email.setText("alice@web.de")
    wizard.address_page.from_name.setText("Alice Example")
    wizard.next()
    _wait_for_lookup(app, wizard)
    _save(app, wizard, out / "wizard-2-found-in-database.png")
    wizard.reject()


def _gmail(app: object, out: Path, suffix: str) -> None:
    from app.ui.wizard import AccountWizard

    wizard = AccountWizard()
    wizard.show()
    wizard.address_page.email.setText("ada.lovelace@gmail.com")
    _save(app, wizard, out / f"wizard-1-address-gmail{suffix}.png")
    wizard.next()
    wizard.next()
    _save(app, wizard, out / f"wizard-3-password-gmail{suffix}.png")
    wizard.reject()


def _dark_palette() -> object:
    from app.ui.qt import QtGui

    palette = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    colors = {
        role.Window: "#2b2b2b",
        role.WindowText: "#e6e6e6",
        role.Base: "#1e1e1e",
        role.AlternateBase: "#2b2b2b",
        role.Text: "#e6e6e6",
        role.Button: "#3a3a3a",
        role.ButtonText: "#e6e6e6",
        role.Highlight: "#3d6fb4",
        role.HighlightedText: "#ffffff",
        role.ToolTipBase: "#3a3a3a",
        role.ToolTipText: "#e6e6e6",
    }
    for which, color in colors.items():
        palette.setColor(which, QtGui.QColor(color))
    palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role.ButtonText, QtGui.QColor("#808080"))
    palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role.Text, QtGui.QColor("#808080"))
    palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role.WindowText, QtGui.QColor("#808080"))
    return palette


def _wait_for_lookup(app: object, wizard: object) -> None:
    import time

    deadline = time.monotonic() + 10
    while wizard.detector.running and time.monotonic() < deadline:  # type: ignore[attr-defined]
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def _wait_for_test(app: object, wizard: object) -> None:
    import time

    runner = wizard.test_page.runner  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while runner.running and time.monotonic() < deadline:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def _save(app: object, widget: object, path: Path) -> None:
    for _ in range(5):
        app.processEvents()  # type: ignore[attr-defined]
    widget.grab().save(str(path))  # type: ignore[attr-defined]
    print(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
