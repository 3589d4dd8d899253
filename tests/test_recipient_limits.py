"""More recipients than a server takes in one transaction, and the per-message cap.

The server here behaves like Postfix (FACTS.md): ``452 4.5.3 Error: too many
recipients`` past its per-transaction limit, and ``421`` (then hang-up) after
too many errors in one session.
"""

from __future__ import annotations

import email
from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery import history, outbox
from app.core.delivery.attempts import SendOptions, queue_draft, send_item
from app.core.delivery.message import Draft
from app.core.delivery.outbox import MAX_RECIPIENTS, RecipientStatus, State
from app.core.store import Store
from tests.agent_helpers import add_relay_cli
from tests.cli_runner import Cli
from tests.support.smtp_servers import RecordingHandler

LIMIT = 1000  # Postfix's smtpd_recipient_limit default
HARD_ERRORS = 20  # Postfix's smtpd_hard_error_limit default


class PostfixLimits(RecordingHandler):
    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[int, int] = {}
        self.rcpt_commands = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.rcpt_commands += 1
        if len(envelope.rcpt_tos) < LIMIT:
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 Ok"
        errors = self.errors[id(session)] = self.errors.get(id(session), 0) + 1
        if errors > HARD_ERRORS:
            server.loop.call_soon(server.transport.close)
            return "421 4.7.0 Error: too many errors"
        return "452 4.5.3 Error: too many recipients"


def no_password(_account: Account) -> str | None:
    return None


def test_fifteen_hundred_recipients_go_out_in_two_transactions(
    relaydesk_home: Path, smtp_server
) -> None:
    handler = PostfixLimits()
    server = smtp_server(mode="plain", users=None, handler=handler)
    everyone = tuple(f"user{n}@example.com" for n in range(1500))
    with Store.open() as store:
        account = Account(
            name="relay",
            email="me@example.com",
            host="127.0.0.1",
            port=server.port,
            security=Security.NONE,
        )
        accounts.add_account(store, account)
        item_id = queue_draft(
            store, account, Draft(bcc=everyone, subject="all hands", text="hi"), face="cli"
        )
        result = send_item(store, item_id, no_password, SendOptions(face="cli"))
        item = outbox.get_item(store, item_id)
        rows = [e for e in history.search(store, limit=10) if e.outbox_id == item_id]

    assert result.state is State.SENT and result.error is None
    assert [len(m.rcpt_tos) for m in server.messages] == [1000, 500]
    assert sorted(a for m in server.messages for a in m.rcpt_tos) == sorted(everyone)
    ids = {email.message_from_bytes(m.data)["Message-ID"] for m in server.messages}
    assert len(ids) == 1  # the same message, in two transactions
    assert {r.status for r in item.recipients} == {RecipientStatus.ACCEPTED}
    assert sorted(len(e.recipients) for e in rows) == [500, 1000]
    # Only one RCPT past the limit was spent (the 452 that ended the first transaction).
    assert handler.rcpt_commands <= 1500 + 100


def test_a_server_that_takes_no_recipient_now_defers_without_misleading_words(
    relaydesk_home: Path, smtp_server
) -> None:
    class Full(RecordingHandler):
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "452 4.5.3 Error: too many recipients"

    server = smtp_server(mode="plain", users=None, handler=Full())
    with Store.open() as store:
        account = Account(
            name="relay",
            email="me@example.com",
            host="127.0.0.1",
            port=server.port,
            security=Security.NONE,
        )
        accounts.add_account(store, account)
        item_id = queue_draft(
            store, account, Draft(to=("a@example.com",), subject="x", text="y"), face="cli"
        )
        result = send_item(store, item_id, no_password, SendOptions(face="cli"))
    assert result.state is State.RETRYING
    assert result.deferred == {"a@example.com": "452 4.5.3 Error: too many recipients"}


def test_more_recipients_than_the_cap_is_refused_with_one_clear_line(cli: Cli, smtp_server) -> None:
    server = smtp_server(mode="plain", users=None)
    add_relay_cli(cli, server.port)
    many = [f"u{n}@example.com" for n in range(MAX_RECIPIENTS + 1)]
    run = cli("send", "--bcc", *many, "--subject", "too many", "--text", "x", "--json")
    assert run.code == 65, run.stderr
    error = run.json["error"]
    assert f"{MAX_RECIPIENTS:,}" in error["message"] and "merge" in error["hint"]
    assert "Traceback" not in run.stderr
    assert cli("outbox", "list", "--json").json == [] and server.messages == []
