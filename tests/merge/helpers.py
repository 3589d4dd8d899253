"""Templates and lists the merge tests share."""

from __future__ import annotations

from pathlib import Path

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.delivery.merge.plan import MergeRun
from app.core.delivery.merge.recipients import open_csv
from app.core.delivery.merge.render import MergeOptions
from app.core.delivery.merge.template import load_template
from app.core.store import Store

TEMPLATE = """\
From: Whoever <whoever@example.com>
To: {{name|}} <{{email}}>
Subject: Hello {{name|friend}}, order {{order}}
X-Campaign: spring-{{order}}
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Dear {{name|customer}},
your order {{order}} is ready. Grüße!
--b1
Content-Type: text/html; charset=utf-8

<p>Dear {{name|customer}}, order <b>{{order}}</b></p>
--b1--
"""


def write_template(folder: Path, text: str = TEMPLATE) -> Path:
    path = folder / "template.eml"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    return path


def write_list(folder: Path, text: str, encoding: str = "utf-8", name: str = "list.csv") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def add_account(store: Store, host: str = "127.0.0.1", port: int = 2525) -> Account:
    account = Account(
        name="relay",
        email="me@example.com",
        host=host,
        port=port,
        security=Security.NONE,
        from_name="Mail Desk",
    )
    accounts.add_account(store, account)
    return account


def make_run(template: Path, csv_path: Path, account: Account, **options: object) -> MergeRun:
    listing = open_csv(csv_path)
    return MergeRun(
        load_template(template),
        listing.rows,
        listing.columns,
        account,
        MergeOptions(base_dir=csv_path.parent, **options),  # type: ignore[arg-type]
    )
