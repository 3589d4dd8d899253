"""Mail merge without a server: templates, lists, checks, previews and one-transaction queueing."""

from __future__ import annotations

import email
import io
import time
from email import policy
from pathlib import Path

import pytest

from app.core.delivery import outbox, ratelimit
from app.core.delivery.merge import batch, progress
from app.core.delivery.merge.plan import check, preview
from app.core.delivery.merge.recipients import open_csv
from app.core.delivery.merge.template import load_template
from app.core.delivery.outbox import State
from app.core.errors import InvalidInput, UnreadableFile
from app.core.store import Store
from tests.merge.helpers import add_account, make_run, write_list, write_template

LIST = "email,name,order\nann@example.com,Ann <b>&,1001\nbob@example.com,,1002\n"


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def test_preview_is_the_personalised_message(relaydesk_home: Path, tmp_path: Path) -> None:
    with Store.open() as store:
        run = make_run(write_template(tmp_path), write_list(tmp_path, LIST), add_account(store))
        first, second = parsed(preview(run, 2).data), parsed(preview(run, 3).data)
    assert first["Subject"] == "Hello Ann <b>&, order 1001"
    assert first["To"].addresses[0].display_name == "Ann <b>&"
    assert first["To"].addresses[0].addr_spec == "ann@example.com"
    assert first["From"] == "Mail Desk <me@example.com>"
    assert first["X-Campaign"] == "spring-1001"
    assert "Grüße" in first.get_body(("plain",)).get_content()
    # Values are escaped in HTML, so a name cannot inject markup.
    assert "Ann &lt;b&gt;&amp;" in first.get_body(("html",)).get_content()
    # Fallbacks fill empty cells.
    assert second["Subject"] == "Hello friend, order 1002"
    assert "Dear customer" in second.get_body(("plain",)).get_content()
    assert b"\n" not in preview(run, 2).data.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("cp1252", ";"), ("latin-1", ",")],
)
def test_spreadsheet_encodings_and_separators(
    tmp_path: Path, encoding: str, separator: str
) -> None:
    text = f"E-Mail{separator}Name\nzoe@example.com{separator}Zoë Müller\n"
    if encoding == "latin-1":
        text += f"x@example.com{separator}\x81\n"  # a byte cp1252 leaves undefined
    listing = open_csv(write_list(tmp_path, text, encoding))
    rows = list(listing.rows())
    assert listing.columns == ("E-Mail", "Name")
    assert rows[0].values == {"e-mail": "zoe@example.com", "name": "Zoë Müller"}
    assert rows[0].number == 2


def test_every_problem_is_reported_per_row_and_nothing_is_queued(
    relaydesk_home: Path, tmp_path: Path
) -> None:
    listing = (
        "email,name,order\n"
        "ann@example.com,Ann,1\n"
        ",Nobody,2\n"
        "not-an-address,X,3\n"
        "ann@example.com,Again,4\n"
        "eve@example.com,Eve,\n"
        '"dan@example.com","Dan",5\n'
    )
    template = write_template(tmp_path, "Subject: {{order}} for {{name}}\r\n\r\nHi {{name}}\r\n")
    with Store.open() as store:
        run = make_run(template, write_list(tmp_path, listing), add_account(store))
        report = check(run)
        assert (report.rows, report.ready, report.problem_count) == (6, 2, 4)
        rows = {p.row: p.message for p in report.problems}
        assert rows[3] == "The email cell is empty."
        assert "not a valid email address" in rows[4]
        assert rows[5] == "Same address as row 2."
        assert rows[6] == "No value for order."
        with pytest.raises(InvalidInput, match="4 of 6 rows cannot be sent"):
            batch.queue(store, run, name="spring", face="cli")
        assert outbox.list_items(store) == []
        assert store.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0
        queued = batch.queue(store, run, name="spring", face="cli", skip_invalid=True)
        assert queued.queued == 2


def test_a_line_break_in_a_value_cannot_add_a_header(relaydesk_home: Path, tmp_path: Path) -> None:
    listing = 'email,name,order\nann@example.com,"Ann\r\nBcc: victim@example.com",1\n'
    with Store.open() as store:
        run = make_run(write_template(tmp_path), write_list(tmp_path, listing), add_account(store))
        report = check(run)
    assert report.ready == 0
    assert "line break" in report.problems[0].message


def test_missing_column_is_named_before_any_row(relaydesk_home: Path, tmp_path: Path) -> None:
    with Store.open() as store:
        account = add_account(store)
        run = make_run(
            write_template(tmp_path), write_list(tmp_path, "mail,name\na@b.com,A\n"), account
        )
        with pytest.raises(InvalidInput, match="no “email” column .*mail, name"):
            check(run)
        run = make_run(
            write_template(tmp_path),
            write_list(tmp_path, "mail,name\na@example.com,A\n"),
            account,
            to_column="mail",
        )
        with pytest.raises(
            InvalidInput, match=r"uses \{\{email\}\}, but the list has no such column"
        ):
            check(run)


def test_queue_is_one_batch_with_quota_slots_and_unsubscribes(
    relaydesk_home: Path, tmp_path: Path
) -> None:
    rows = "".join(f"user{n}@example.com,User {n},{n}\n" for n in range(5))
    with Store.open() as store:
        account = add_account(store)
        ratelimit.set_quota(store, account.name, ratelimit.Quota(per_hour=2))
        run = make_run(
            write_template(tmp_path), write_list(tmp_path, "email,name,order\n" + rows), account
        )
        run.unsubscribed = frozenset({"user3@example.com"})
        before = time.time()
        queued = batch.queue(store, run, name="spring", face="cli")
        items = outbox.list_items(store)
        assert queued.queued == len(items) == 4
        assert queued.report.skipped == 1
        # Two per hour: the 3rd and 4th wait an hour; the run says so up front.
        assert before + 3599 < queued.last_slot < time.time() + 3601
        assert outbox.due_items(store) == [items[0].id, items[1].id]
        state = progress.progress(store, queued.batch_id)
        assert state.total == 4 and state.counts == {"queued": 4}
        assert state.eta is not None and state.eta >= queued.last_slot
        out = io.StringIO()
        progress.export_results(store, queued.batch_id, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "row,address,result,outbox_id,detail"
    assert lines[4].startswith("5,user3@example.com,unsubscribed,")
    assert lines[1].startswith(f"2,user0@example.com,queued,{items[0].id}")


def test_pause_resume_and_cancel_the_rest(relaydesk_home: Path, tmp_path: Path) -> None:
    rows = "".join(f"user{n}@example.com,U,{n}\n" for n in range(3))
    with Store.open() as store:
        run = make_run(
            write_template(tmp_path),
            write_list(tmp_path, "email,name,order\n" + rows),
            add_account(store),
        )
        queued = batch.queue(store, run, name="x", face="gui")
        assert progress.pause(store, queued.batch_id, face="gui") == 3
        assert outbox.due_items(store) == []
        assert progress.progress(store, queued.batch_id).paused
        assert progress.resume(store, queued.batch_id, face="gui") == 3
        assert len(outbox.due_items(store)) == 3
        assert progress.cancel_rest(store, queued.batch_id, face="gui") == 3
        assert {i.state for i in outbox.list_items(store)} == {State.CANCELLED}


def test_cc_and_per_row_attachments_and_unsubscribe(relaydesk_home: Path, tmp_path: Path) -> None:
    (tmp_path / "invoice-1.pdf").write_bytes(b"%PDF-1.4 one")
    listing = (
        "email,name,order,cc,attachments\n"
        "ann@example.com,Ann,1,boss@example.com; team@example.com,invoice-1.pdf\n"
        "bob@example.com,Bob,2,,missing.pdf\n"
    )
    with Store.open() as store:
        run = make_run(
            write_template(tmp_path),
            write_list(tmp_path, listing),
            add_account(store),
            unsubscribe="https://example.com/leave?who={{email}}",
        )
        built = preview(run, 2)
        report = check(run)
    message = parsed(built.data)
    assert built.recipients == ("ann@example.com", "boss@example.com", "team@example.com")
    assert message["Cc"] == "boss@example.com, team@example.com"
    assert message["List-Unsubscribe"] == "<https://example.com/leave?who=ann%40example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    files = [(p.get_filename(), p.get_content()) for p in message.iter_attachments()]
    assert files == [("invoice-1.pdf", b"%PDF-1.4 one")]
    assert report.problems[0].row == 3 and "missing.pdf" in report.problems[0].message


def test_template_attachments_and_bad_template(tmp_path: Path) -> None:
    eml = (
        "Subject: Report for {{name}}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="m"\n\n--m\n'
        "Content-Type: text/plain\n\nHi {{name}}\n--m\n"
        'Content-Type: application/pdf\nContent-Disposition: attachment; filename="r.pdf"\n'
        "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--m--\n"
    )
    template = load_template(write_template(tmp_path, eml))
    assert [(a.filename, a.read()) for a in template.attachments] == [("r.pdf", b"%PDF-")]
    assert template.fields == {"name"}
    with pytest.raises(UnreadableFile, match="Cannot read the template"):
        load_template(tmp_path / "nope.eml")
    with pytest.raises(InvalidInput, match="does not look like a message"):
        load_template(write_template(tmp_path, ""))


@pytest.mark.parametrize(
    "address",
    [
        "ann@Example.COM",
        "a.b+tag@sub.example.org",
        "x@bücher.de",
        "a..b@example.com",
        "noat",
        "trailing.@example.com",
        "a@-bad-.com",
        "a@example.invalid",
        " ann@example.com ",
    ],
)
def test_the_fast_address_check_agrees_with_the_full_one(address: str) -> None:
    from app.core.delivery.addresses import validate_address
    from app.core.delivery.merge.render import quick_address

    try:
        expected: str | type[Exception] = validate_address(address)
    except InvalidInput:
        expected = InvalidInput
    if expected is InvalidInput:
        with pytest.raises(InvalidInput):
            quick_address(address)
    else:
        assert quick_address(address) == expected
