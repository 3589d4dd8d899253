"""GUI fixtures: an account on a real test server, and the running app's controller."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.accounts import secrets
from app.core.accounts.model import Account, PasswordMode, Security, add_account
from app.core.setup.detect import Detection
from app.core.store import Store
from app.ui.controller import Controller
from app.workers import detect_worker
from tests.support.keyring_guard import KeyringGuard
from tests.support.smtp_servers import USERS, RunningServer

USER = "alice@example.test"


def pytest_configure(config: pytest.Config) -> None:
    # The offscreen platform (no window manager) says this whenever a dialog fixes its
    # size; it is a limit of the test platform, not a problem in Relaydesk.
    config.addinivalue_line("qt_log_ignore", r"This plugin does not support propagateSizeHints\(\)")


def make_account(server: RunningServer, name: str = "work") -> Account:
    """Store an account for ``server`` with its password in the (real) keyring."""
    account = Account(
        name=name,
        email="alice@example.com",
        host=server.host,
        port=server.port,
        security=Security.STARTTLS,
        username=USER,
        from_name="Alice Example",
        password_mode=PasswordMode.KEYRING,
        ca_file=str(server.ca_file),
    )
    with Store.open() as store:
        add_account(store, account)
    secrets.store_password(name, USERS[USER])
    return account


def make_relay_account(host: str, port: int, name: str = "relay") -> Account:
    """A plain, unauthenticated relay account (for scripted servers)."""
    account = Account(
        name=name, email="alice@example.com", host=host, port=port, security=Security.NONE
    )
    with Store.open() as store:
        add_account(store, account)
    return account


def find_nothing(address: str) -> Detection:
    """A lookup that finds nothing at once (the test machine has no network)."""
    return Detection(address, address.rpartition("@")[2], ())


@pytest.fixture(autouse=True)
def offline_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GUI test looks a real domain up: the wizard's default lookup finds nothing."""
    monkeypatch.setattr(detect_worker, "default_detector", lambda: find_nothing)


def _forget_keyring_answer() -> None:
    module = sys.modules.get("app.workers.keyring_status")  # only once a window has asked
    status = getattr(module, "_status", None)
    if status is not None:
        status.forget()


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Qt objects left in reference cycles are freed here, on the GUI thread.

    Otherwise Python's cyclic collector frees them whenever it next runs, which may be in
    a test server's thread (aiosmtpd): deleting a QObject there can crash the process.
    """
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def keyring_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyringGuard]:
    """Every GUI test fails when the window calls the keyring on the GUI thread."""
    guard = KeyringGuard()
    guard.install(monkeypatch)
    _forget_keyring_answer()  # each test has its own keyring (or none)
    yield guard
    _forget_keyring_answer()
    if guard.offences:
        listed = "\n  ".join(str(call) for call in guard.offences)
        pytest.fail(f"the keyring was called on the GUI thread:\n  {listed}", pytrace=False)


@pytest.fixture
def server(smtp_server: Callable[..., RunningServer]) -> RunningServer:
    return smtp_server(mode="starttls")


@pytest.fixture
def account(relaydesk_home: Path, secret_service: dict[str, str], server: RunningServer) -> Account:
    return make_account(server)


@pytest.fixture
def make_controller(qtbot, relaydesk_home: Path) -> Iterator[Callable[..., Controller]]:
    """Factory for the app's controller (outbox runner off unless asked); shut down after."""
    made: list[Controller] = []

    def make(**kwargs) -> Controller:
        kwargs.setdefault("run_outbox", False)
        controller = Controller(on_quit=lambda: None, **kwargs)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        controller.shutdown()


@pytest.fixture
def controller(make_controller: Callable[..., Controller]) -> Controller:
    controller = make_controller()
    controller.start()
    return controller


@pytest.fixture
def notification_daemon(secret_service: dict[str, str], tmp_path: Path) -> Iterator[object]:
    """A desktop notification service on the test session bus, in its own process."""
    from tests.support.notification_daemon import RunningDaemon

    daemon = RunningDaemon(secret_service, tmp_path / "notifications.jsonl")
    yield daemon
    daemon.stop()
