"""The dependency rules of DESIGN.md, checked on the real modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.cli_runner import REPO

APP = REPO / "app"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_never_imports_qt() -> None:
    script = (
        "import importlib, pkgutil, sys\n"
        "import app.core\n"
        "for info in pkgutil.walk_packages(app.core.__path__, 'app.core.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'app.ui',"
        " 'app.workers')))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_core_sources_do_not_mention_qt() -> None:
    for path in (APP / "core").rglob("*.py"):
        modules = imported_modules(path)
        assert not {m for m in modules if m.startswith(("PySide6", "app.ui", "app.workers"))}, path


def test_widgets_do_not_talk_smtp_or_sqlite() -> None:
    for path in (APP / "ui").rglob("*.py"):
        modules = imported_modules(path)
        assert not modules & {"smtplib", "sqlite3", "socket", "ssl"}, path


def test_qt_is_imported_in_one_place() -> None:
    for folder in ("ui", "workers"):
        for path in (APP / folder).rglob("*.py"):
            if path.name == "qt.py":
                continue
            direct = {m for m in imported_modules(path) if m.startswith("PySide6")}
            assert not direct, f"{path} imports {direct}; import Qt from app.qt"


def test_window_frame_loads_without_the_send_path() -> None:
    """Issue 9: what runs before the first paint does not import the slow modules."""
    script = (
        "import sys\n"
        "import app.cli.main, app.ui.application, app.ui.controller\n"
        "slow = ('keyring', 'email_validator', 'dns', 'app.core.delivery.outbox',"
        " 'app.core.delivery.message', 'app.core.delivery.addresses', 'app.core.accounts.secrets',"
        " 'app.core.smtp', 'app.ui.compose.form',"
        " 'app.ui.compose.sending', 'app.workers.send_worker', 'app.cli.account_commands')\n"
        "bad = sorted(m for m in sys.modules if m.startswith(slow))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


HEAVY_FOR_THE_PARSER = (
    "dns", "email_validator", "smtplib", "ssl", "keyring", "sqlite3", "jsonschema", "mcp",
    "mcp_types", "pydantic", "anyio", "PySide6", "app.core.store", "app.core.delivery.message",
    "app.core.delivery.outbox", "app.core.delivery.attempts", "app.core.accounts.secrets",
    "app.core.agents.tool",
)  # fmt: skip


def test_the_parser_path_stays_light() -> None:
    """Issue 13: --version, --help and the sendmail/settings parsers import no heavy module.

    Scripts, cron and git start the CLI often; each of these cost 5-50 ms to import.
    """
    script = (
        "import contextlib, io, sys\n"
        "from app.cli import main\n"
        "for argv in (['--version'], ['--help'], ['sendmail', '--help'], ['settings', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main.run(argv) == 0, argv\n"
        f"heavy = {HEAVY_FOR_THE_PARSER!r}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_workers_depend_on_core_and_the_qt_shim_only() -> None:
    for path in (APP / "workers").rglob("*.py"):
        modules = imported_modules(path)
        assert not {m for m in modules if m.startswith(("app.ui", "app.cli"))}, path


def test_only_the_worker_base_starts_qt_threads() -> None:
    # One way to run a job off the GUI thread (app.workers.base): a window that makes its own
    # QThread can be closed while the thread runs, and Qt aborts the process.
    base = APP / "workers" / "base.py"
    for path in [*(APP / "ui").rglob("*.py"), *(APP / "workers").rglob("*.py")]:
        if path == base:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                called = node.func
                name = (
                    called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
                )
                assert name not in {"QThread", "moveToThread"}, f"{path}:{node.lineno} {name}"


def test_faces_use_only_public_core_names() -> None:
    for face in ("cli", "ui", "agents", "workers"):
        for path in (APP / face).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.core"):
                    private = [a.name for a in node.names if a.name.startswith("_")]
                    assert not private, f"{path} imports {private} from {node.module}"
                if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                    base = node.value
                    if isinstance(base, ast.Name) and base.id in _core_aliases(tree):
                        raise AssertionError(f"{path} uses {base.id}.{node.attr}")


def _core_aliases(tree: ast.Module) -> set[str]:
    """Local names bound to app.core modules (``from app.core import outbox``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.core"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


# smtplib.SMTP's state, not its documented interface: code that sets or reads these breaks
# silently when CPython changes how SMTP.ehlo()/starttls() work inside.
SMTPLIB_INTERNALS = {
    "esmtp_features", "ehlo_resp", "helo_resp", "does_esmtp", "ehlo_msg", "command_encoding",
    "_host", "local_hostname", "putcmd", "getreply", "has_extn", "_get_socket",
}  # fmt: skip


def test_no_module_relies_on_smtplib_internals() -> None:
    """Issue 17: smtplib only through its documented exception classes; no subclass of SMTP."""
    import smtplib

    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base) for base in node.bases}
                assert not bases & {"smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP", "SMTP"}, (
                    f"{path}: {node.name} subclasses smtplib"
                )
            if isinstance(node, ast.Attribute):
                assert node.attr not in SMTPLIB_INTERNALS, f"{path}:{node.lineno} .{node.attr}"
                if isinstance(node.ctx, ast.Store):
                    assert node.attr not in {"sock", "file"}, f"{path}:{node.lineno} .{node.attr} ="
                if isinstance(node.value, ast.Name) and node.value.id == "smtplib":
                    used = getattr(smtplib, node.attr, None)
                    assert isinstance(used, type) and issubclass(used, smtplib.SMTPException), (
                        f"{path}:{node.lineno} uses smtplib.{node.attr}, not an exception class"
                    )
            if isinstance(node, ast.ImportFrom) and node.module == "smtplib":
                raise AssertionError(f"{path}: import smtplib and name its exceptions in full")


SANS_IO = ("protocol.py", "transaction.py", "actions.py", "sasl.py", "reply.py", "transcript.py")


def test_the_smtp_protocol_core_does_no_io() -> None:
    """Issue 17: the wire rules are pure (h11 style); only transport.py touches the socket."""
    for name in SANS_IO:
        modules = imported_modules(APP / "core" / "smtp" / name)
        io = {"socket", "ssl", "select", "smtplib", "threading", "app.core.smtp.transport"}
        assert not modules & io, f"{name} imports {modules & io}"


# What reaches the keyring (a D-Bus call that may wait for an unlock prompt, or 25 s for
# a Secret Service that does not answer): windows hand these to a worker, never call them.
_KEYRING_MODULES = ("keyring", "app.core.accounts.secrets", "app.core.accounts.oauth2.tokens")
_KEYRING_CALLS = {
    "create_account",
    "update_account",
    "remove_account",
    "finish_sign_in",
    "keyring_usable",
    "ensure_keyring",
    "store_password",
    "get_password",
    "delete_password",
    "access_token",
}


def test_windows_leave_the_keyring_to_workers() -> None:
    """tests/gui's keyring guard catches the flows the tests drive; this catches the rest."""
    for path in (APP / "ui").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = {a.name for a in node.names if a.name.startswith(_KEYRING_MODULES)}
            elif isinstance(node, ast.ImportFrom) and node.module:
                full = {f"{node.module}.{a.name}" for a in node.names}
                found = {n for n in full if n.startswith(_KEYRING_MODULES)}
                found |= {a.name for a in node.names} & _KEYRING_CALLS
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                found = {node.func.attr} & _KEYRING_CALLS
            else:
                continue
            assert not found, f"{path.relative_to(REPO)}:{node.lineno} {sorted(found)}"
