"""SQLite storage: schema, migrations and the low-level connection rules.

One connection per thread. The file is created 0600 inside a 0700 directory
before SQLite first opens it; WAL journal, ``synchronous=FULL`` so a committed
outbox state survives a power cut, and a busy timeout so the GUI, the CLI and
a sendmail call can share the file.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import DatabaseCorrupt, DataUnwritable, RelayError, StorageError
from app.core.paths import Paths, default_paths

BUSY_TIMEOUT_MS = 10_000

# Each entry moves the schema one version forward; never edit a shipped entry.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        security TEXT NOT NULL,
        username TEXT,
        from_name TEXT NOT NULL DEFAULT '',
        password_mode TEXT NOT NULL,
        ca_file TEXT,
        pin_sha256 TEXT,
        allow_plaintext_auth INTEGER NOT NULL DEFAULT 0,
        preset TEXT,
        timeout REAL NOT NULL DEFAULT 30,
        is_default INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        message_id TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        envelope_from TEXT NOT NULL,
        data BLOB NOT NULL,
        size INTEGER NOT NULL,
        smtputf8 INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        step TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        next_attempt_at REAL,
        last_error TEXT,
        face TEXT NOT NULL,
        owner_pid INTEGER
    );
    CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
    CREATE TABLE outbox_recipients (
        outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        address TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'to',
        status TEXT NOT NULL DEFAULT 'pending',
        reply TEXT,
        updated_at REAL,
        PRIMARY KEY (outbox_id, address)
    );
    CREATE TABLE history (
        id INTEGER PRIMARY KEY,
        outbox_id INTEGER NOT NULL,
        account TEXT NOT NULL,
        message_id TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        envelope_from TEXT NOT NULL,
        recipients TEXT NOT NULL,
        search_text TEXT NOT NULL,
        final_reply TEXT,
        size INTEGER NOT NULL,
        sent_at REAL NOT NULL
    );
    CREATE INDEX history_sent_at ON history(sent_at);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        face TEXT NOT NULL,
        action TEXT NOT NULL,
        account TEXT,
        outbox_id INTEGER,
        outcome TEXT NOT NULL,
        detail TEXT
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: a large message lives in a spool file; ``data`` is then empty.
    """
    ALTER TABLE outbox ADD COLUMN spool_path TEXT;
    """,
    # 3: a trigram index over history.search_text, so substring search need not scan
    # every row; triggers keep it in step with any write to history.
    """
    CREATE VIRTUAL TABLE history_search USING fts5(
        search_text, content='history', content_rowid='id', tokenize='trigram'
    );
    CREATE TRIGGER history_search_insert AFTER INSERT ON history BEGIN
        INSERT INTO history_search (rowid, search_text) VALUES (new.id, new.search_text);
    END;
    CREATE TRIGGER history_search_delete AFTER DELETE ON history BEGIN
        INSERT INTO history_search (history_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
    END;
    CREATE TRIGGER history_search_update AFTER UPDATE OF search_text ON history BEGIN
        INSERT INTO history_search (history_search, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        INSERT INTO history_search (rowid, search_text) VALUES (new.id, new.search_text);
    END;
    INSERT INTO history_search (history_search) VALUES ('rebuild');
    """,
    # 4: an OAuth2 account's sign-in settings (endpoints, scopes, client ID: no secret) and
    # whether it must sign in again. Tokens live in the keyring only.
    """
    CREATE TABLE account_oauth2 (
        account TEXT PRIMARY KEY,
        settings TEXT NOT NULL,
        needs_signin INTEGER NOT NULL DEFAULT 1,
        signed_in_at REAL,
        updated_at REAL NOT NULL
    );
    """,
    # 5: slots a tool call holds against its caller's quota while it sends (caller_quota).
    """
    CREATE TABLE quota_holds (
        id INTEGER PRIMARY KEY,
        caller TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX quota_holds_caller ON quota_holds(caller, at);
    """,
    # 6: drafts saved while they are written (restored after a crash), and what each
    # account adds to its messages (signature, default Reply-To).
    """
    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        account TEXT,
        to_addrs TEXT NOT NULL DEFAULT '',
        cc_addrs TEXT NOT NULL DEFAULT '',
        bcc_addrs TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        html TEXT,
        updated_at REAL NOT NULL
    );
    CREATE TABLE identities (
        account TEXT PRIMARY KEY REFERENCES accounts(name) ON DELETE CASCADE,
        signature TEXT NOT NULL DEFAULT '',
        reply_to TEXT NOT NULL DEFAULT ''
    );
    """,
    # 7: merge runs. A batch groups the outbox items of one run; batch_rows keeps each
    # CSV row's fate (queued as an item, or skipped and why) for the results export.
    """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        account TEXT NOT NULL,
        face TEXT NOT NULL,
        total INTEGER NOT NULL DEFAULT 0,
        paused INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN batch_id INTEGER;
    CREATE INDEX outbox_batch ON outbox(batch_id, state);
    CREATE TABLE batch_rows (
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        row_number INTEGER NOT NULL,
        address TEXT NOT NULL,
        outbox_id INTEGER,
        note TEXT,
        PRIMARY KEY (batch_id, row_number)
    );
    """,
)


def _is_storage_failure(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return any(
        phrase in text
        for phrase in ("disk is full", "readonly", "read-only", "disk i/o", "unable to open")
    )


_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_UNWRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")
_UNWRITABLE_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)


def unusable_data_error(error: BaseException, path: Path) -> RelayError | None:
    """DatabaseCorrupt or DataUnwritable when ``error`` says so; None for anything else.

    These are not "disk full": freeing space would not help, so they get their own
    message and exit code (78, a setup problem) instead of StorageError's 75.
    """
    name = str(getattr(error, "sqlite_errorname", "") or "")
    text = str(error).lower()
    if name.startswith(_CORRUPT) or "malformed" in text or "not a database" in text:
        return DatabaseCorrupt(
            f"Relaydesk's database {path} is damaged ({error}).",
            hint="Move the file aside (keep it: `sqlite3 FILE .recover` may save its history) "
            "and run Relaydesk again to start a new one; add the accounts again. "
            "Passwords stay in the keyring.",
            details={"path": str(path)},
        )
    read_only = name.startswith(_UNWRITABLE) or "readonly" in text or "read-only" in text
    if read_only or (isinstance(error, OSError) and error.errno in _UNWRITABLE_ERRNOS):
        return DataUnwritable(
            f"Relaydesk cannot write its data in {path.parent} ({error}).",
            hint=f"Make the folder and the files in it writable for you (chmod u+w "
            f"{path.parent}), or point RELAYDESK_HOME at a folder you own. Nothing was sent.",
            details={"path": str(path)},
        )
    return None


def storage_error(error: sqlite3.Error | OSError, path: Path) -> RelayError:
    """Turn a low-level write failure into a message a person can act on."""
    unusable = unusable_data_error(error, path)
    if unusable is not None:
        return unusable
    return StorageError(
        f"Relaydesk cannot write its data file {path}: {error}.",
        hint="Free some disk space or make the folder writable, then try again. Nothing was sent.",
    )


@dataclass
class Store:
    """An open database: one per thread."""

    connection: sqlite3.Connection
    path: Path

    @classmethod
    def open(cls, paths: Paths | None = None) -> Store:
        """Open (creating and migrating if needed) the database."""
        paths = paths or default_paths()
        try:
            paths.ensure()
            _create_private(paths.database)
            connection = sqlite3.connect(
                paths.database, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except (OSError, sqlite3.Error) as error:
            raise storage_error(error, paths.database) from error
        connection.row_factory = sqlite3.Row
        store = cls(connection, paths.database)
        try:
            store._configure()
            store._migrate()
        except sqlite3.Error as error:
            connection.close()
            raise storage_error(error, paths.database) from error
        return store

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _configure(self) -> None:
        execute = self.connection.execute
        execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        execute("PRAGMA journal_mode = WAL")
        execute("PRAGMA synchronous = FULL")
        execute("PRAGMA foreign_keys = ON")

    def _migrate(self) -> None:
        version = self.connection.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            needs = OPTIONAL_MIGRATIONS.get(number)
            wanted = needs is None or needs(self.connection)
            with self.transaction():
                for statement in _statements(script) if wanted else ():
                    self.connection.execute(statement)
                self.connection.execute(f"PRAGMA user_version = {number}")

    @property
    def has_search_index(self) -> bool:
        """Whether history has its trigram index (not on an SQLite without FTS5 trigram)."""
        row = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'history_search'"
        ).fetchone()
        return row is not None

    @property
    def schema_version(self) -> int:
        return int(self.connection.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; storage failures become StorageError."""
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise storage_error(error, self.path) from error
        try:
            yield self.connection
        except sqlite3.DatabaseError as error:
            self._rollback()
            if _is_storage_failure(error) or unusable_data_error(error, self.path):
                raise storage_error(error, self.path) from error
            raise
        except BaseException:
            self._rollback()
            raise
        try:
            self.connection.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise storage_error(error, self.path) from error

    def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (SQLITE_FULL); ROLLBACK would then fail.
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def execute(
        self, sql: str, parameters: tuple[Any, ...] | dict[str, Any] = ()
    ) -> sqlite3.Cursor:
        """Run one statement outside an explicit transaction (autocommit)."""
        try:
            return self.connection.execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            if _is_storage_failure(error) or unusable_data_error(error, self.path):
                raise storage_error(error, self.path) from error
            raise

    # --- audit -----------------------------------------------------------
    def audit(
        self,
        *,
        face: str,
        action: str,
        outcome: str,
        account: str | None = None,
        outbox_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one row to the audit log."""
        self.execute(
            "INSERT INTO audit (at, face, action, account, outbox_id, outcome, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                face,
                action,
                account,
                outbox_id,
                outcome,
                json.dumps(detail, ensure_ascii=False) if detail else None,
            ),
        )

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit rows first."""
        rows = self.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        result = []
        for row in rows:
            item = dict(row)
            item["detail"] = json.loads(item["detail"]) if item["detail"] else None
            result.append(item)
        return result

    # --- settings --------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete_setting(self, key: str) -> None:
        self.execute("DELETE FROM settings WHERE key = ?", (key,))


def _has_fts5_trigram(connection: sqlite3.Connection) -> bool:
    """FTS5 with the trigram tokenizer needs SQLite 3.34 built with FTS5."""
    try:
        connection.execute(
            "CREATE VIRTUAL TABLE temp.probe_trigram USING fts5(x, tokenize='trigram')"
        )
    except sqlite3.OperationalError:
        return False
    connection.execute("DROP TABLE temp.probe_trigram")
    return True


# Migrations that only run where SQLite can do them; elsewhere the version still moves on
# and the code does without (history search scans instead of using the index).
OPTIONAL_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], bool]] = {3: _has_fts5_trigram}


def _statements(script: str) -> Iterator[str]:
    """The complete statements of ``script`` (a trigger body holds ``;`` of its own)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it (no umask window)."""
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)
