"""Only regular files are attached: devices, FIFOs and folders are refused on every face,
and a tool caller cannot reach a file outside its folders through a hard link."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.agent_helpers import add_account_cli
from tests.cli_runner import Cli
from tests.support.smtp_servers import RunningServer


@pytest.fixture
def server(smtp_server) -> RunningServer:
    return smtp_server(mode="starttls")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_cli_refuses_devices_fifos_and_folders_at_once(
    cli: Cli, server: RunningServer, fifo: Path, tmp_path: Path
) -> None:
    add_account_cli(cli, server)
    for path, words in (
        ("/dev/zero", "is not a regular file"),
        (str(fifo), "is not a regular file"),  # today's main waits forever here
        (str(tmp_path), "is a folder, not a file"),
    ):
        run = cli("send", "--to", "bob@example.com", "--subject", "s", "--attach", path,
                  timeout=20)  # fmt: skip
        assert run.code == 65, run.stderr
        assert words in run.stderr and "Traceback" not in run.stderr
    assert server.messages == []
    assert cli("outbox", "--json").json == []


def _call(cli: Cli, caller: str, *attachments: dict[str, str]) -> dict:
    request = {"name": "send_email", "arguments": {
        "to": "bob@example.com", "subject": "files", "attachments": list(attachments)
    }}  # fmt: skip
    run = cli("tool", "call", "--caller", caller, stdin=json.dumps(request), timeout=20)
    return {"code": run.code, **run.json}


def test_tool_refuses_hard_links_to_files_outside_its_folder(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    add_account_cli(cli, server)
    shared = tmp_path / "shared"
    shared.mkdir()
    secret = tmp_path / "ssh" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    os.link(secret, shared / "notes.txt")
    database = Path(cli.env["RELAYDESK_HOME"]) / "data" / "relaydesk.sqlite3"
    os.link(database, shared / "db.bin")
    (shared / "report.txt").write_text("quarterly numbers\n")
    assert cli("policy", "set", "bot", "--attachment-dir", str(shared)).code == 0

    for linked in ("notes.txt", "db.bin"):
        result = _call(cli, "bot", {"path": str(shared / linked)})
        assert result["code"] == 77, result
        assert result["error"]["code"] == "attachment_not_allowed"
        assert "hard link" in result["error"]["message"]
    assert server.messages == []
    # An ordinary file in the same folder still goes.
    assert _call(cli, "bot", {"path": str(shared / "report.txt")})["status"] == "sent"
    [received] = server.messages
    assert b"OPENSSH" not in received.data


def test_explicit_message_or_multipart_content_type_is_refused(
    cli: Cli, server: RunningServer
) -> None:
    add_account_cli(cli, server)
    for content_type in ("message/rfc822", "multipart/mixed", "Multipart/Alternative"):
        result = _call(cli, "default", {
            "content": "RnJvbTogeEB5Cgpib2R5Cg==", "filename": "x.eml",
            "content_type": content_type,
        })  # fmt: skip
        assert result["code"] == 65, result
        assert f"cannot be sent as {content_type}" in result["error"]["message"]
    assert server.messages == []
