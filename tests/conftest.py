"""Shared fixtures: real SMTP servers, a real Secret Service, a fresh RELAYDESK_HOME."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import trustme
from keyring.backend import KeyringBackend
from keyring.backends import SecretService as SecretServiceBackend
from keyring.backends import fail

from tests.cli_runner import Cli, cli_env
from tests.support.secret_service import no_keyring_env, start_secret_service
from tests.support.smtp_servers import RunningServer, start_scripted_server, start_server

# Before anything imports Qt: widgets run without a display unless a caller chose otherwise.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

StartServer = Callable[..., RunningServer]
StartScripted = Callable[[Callable[[socket.socket], None]], tuple[str, int]]


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """One test CA for the session; servers' "trusted" certificates come from it."""
    return trustme.CA()


@pytest.fixture
def smtp_server(ca: trustme.CA, tmp_path: Path) -> Iterator[StartServer]:
    """Factory: ``smtp_server(mode=..., ...)`` starts a server; all are stopped at teardown."""
    servers: list[RunningServer] = []

    def start(**kwargs: Any) -> RunningServer:
        server = start_server(ca=ca, tmp_path=tmp_path, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def scripted_server() -> Iterator[StartScripted]:
    """Factory: ``scripted_server(script) -> (host, port)``; stopped at teardown."""
    stops: list[Callable[[], None]] = []

    def start(script: Callable[[socket.socket], None]) -> tuple[str, int]:
        host, port, stop = start_scripted_server(script)
        stops.append(stop)
        return host, port

    yield start
    for stop in stops:
        stop()


def _apply_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, str]:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


@contextlib.contextmanager
def _keyring_backend(backend: KeyringBackend) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def secret_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A running Secret Service; in-process keyring uses it. Yields the full child env."""
    # Swap the backend before touching the env, so the backend restored afterwards was
    # resolved against the outer environment, not this temporary one.
    with _keyring_backend(SecretServiceBackend.Keyring()):
        service = start_secret_service()
        try:
            yield _apply_env(monkeypatch, service.env)
        finally:
            service.stop()


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A session with no usable keyring (no D-Bus). Yields the full child env."""
    root = tmp_path / "no-keyring"
    root.mkdir()
    with _keyring_backend(fail.Keyring()):
        yield _apply_env(monkeypatch, no_keyring_env(root))


@pytest.fixture
def relaydesk_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh, empty RELAYDESK_HOME for this test."""
    home = tmp_path / "relaydesk-home"
    home.mkdir()
    monkeypatch.setenv("RELAYDESK_HOME", str(home))
    return home


@pytest.fixture
def cli(secret_service: dict[str, str], tmp_path: Path) -> Cli:
    """Runs the real `relaydesk` entry point in a subprocess with a fresh home and keyring."""
    home = tmp_path / "home"
    home.mkdir()
    return Cli(cli_env(secret_service, home))
