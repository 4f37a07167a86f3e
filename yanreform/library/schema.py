"""The case library's SQLite schema: tables, versions and migrations, and how a connection is opened.

SQLite through the standard library (:mod:`sqlite3`): one file, nothing to install, WAL journaling so readers
never wait for a writer, and atomic transactions. (SQLAlchemy Core would let the same schema run on
PostgreSQL, but the library is an embedded store by design: one office, one file, shipped with the package's
own dependencies; the SQL below is plain enough to port when a server is wanted.)

Tables (schema version :data:`SCHEMA_VERSION`):

``meta``
    key/value: ``schema_version``, ``created_by`` (yanreform version), ``created_at``.
``collections``
    one imported file: ``id`` (text, from the file name), ``year``, ``source``, ``name``, ``path``, ``sha256``
    of the file's bytes (unique: re-importing the same content is a no-op), ``kind`` (collection, docx, jsonl,
    csv, xlsx), ``encoding``, ``header`` (JSON list of the collection's header lines), ``imported_at``.
``cases``
    ``rid`` (integer key), ``id`` (``<collection id>-NN`` or ``<collection id>-<record id>``), the collection,
    ``seq`` (order in the file), ``source_id`` (its id in the input: the record id, or the case number
    ``01`` …), ``year``, ``agency``, ``agencies`` (JSON list), ``agency_kind``, ``place``, ``title``,
    ``lead``, ``outcome``, ``text`` (the case text; initiatives are slices of it), ``line`` (first line in the
    file), ``fields`` (JSON of the input record's other fields, for record inputs).
``initiatives``
    ``rid``, ``id``, the case, ``seq``, ``heading``, ``text``, ``char_start``/``char_end`` (offsets into the
    case text: ``case.text[char_start:char_end] == text``), ``tagged_by`` (the ``models`` key of the tagger
    that made its tags; NULL: not tagged yet).
``tags``
    per initiative and category: ``code``, ``score`` (calibrated, 0..1), ``evidence`` (JSON list of
    :meth:`yanreform.Evidence.to_dict`).
``vectors``
    per initiative: ``model_id`` of the encoder, ``dim``, ``data`` (float32 little-endian, L2-normalised).
``models``
    one row per tagger that made tags: ``key`` (fingerprint of the fitted head and its taxonomy), the encoder
    ``model_id``, ``info`` (JSON), ``first_used``.

Migrations: :data:`MIGRATIONS` maps a version to the step that upgrades it to the next one; opening an older
library runs the missing steps in one transaction. A library written by a newer yanreform (a higher version)
raises :class:`~yanreform.errors.LibraryFormatError` and is left untouched.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..errors import LibraryBusyError, LibraryFormatError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "connect",
    "create_schema",
    "now",
    "schema_version",
]

log = logging.getLogger("yanreform")

#: the schema version this yanreform writes
SCHEMA_VERSION = 2

# Version 1: the first layout. Kept verbatim: tests build a version-1 library from it to check the upgrade.
DDL_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    source TEXT,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    encoding TEXT,
    header TEXT NOT NULL DEFAULT '[]',
    imported_at TEXT NOT NULL
);
CREATE TABLE models (
    key TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    info TEXT NOT NULL,
    first_used TEXT NOT NULL
);
CREATE TABLE cases (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    year INTEGER NOT NULL,
    agency TEXT NOT NULL,
    agencies TEXT NOT NULL,
    agency_kind TEXT NOT NULL,
    title TEXT NOT NULL,
    lead TEXT NOT NULL,
    outcome TEXT NOT NULL,
    text TEXT NOT NULL,
    line INTEGER,
    fields TEXT
);
CREATE INDEX cases_collection ON cases(collection_id, seq);
CREATE INDEX cases_year ON cases(year);
CREATE TABLE initiatives (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    case_rid INTEGER NOT NULL REFERENCES cases(rid) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    tagged_by TEXT REFERENCES models(key)
);
CREATE INDEX initiatives_case ON initiatives(case_rid, seq);
CREATE INDEX initiatives_tagged_by ON initiatives(tagged_by);
CREATE TABLE tags (
    initiative_rid INTEGER NOT NULL REFERENCES initiatives(rid) ON DELETE CASCADE,
    code TEXT NOT NULL,
    score REAL NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (initiative_rid, code)
);
CREATE INDEX tags_code ON tags(code);
CREATE TABLE vectors (
    initiative_rid INTEGER PRIMARY KEY REFERENCES initiatives(rid) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    data BLOB NOT NULL
);
"""


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """Version 2 adds ``cases.place`` (the place the agency name starts with, for re-submission checks across
    retitled agencies), ``cases.source_id`` (the case's id in its input: record id or case number; filled
    from the case id for older rows) and an index on ``agency_kind`` (trends by kind of agency)."""
    from ..corpus.agency import agency_place

    conn.execute("ALTER TABLE cases ADD COLUMN place TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE cases ADD COLUMN source_id TEXT NOT NULL DEFAULT ''")
    conn.execute(
        "UPDATE cases SET source_id = substr(id, length(collection_id) + 2) "
        "WHERE id LIKE collection_id || '-%'"
    )
    rows = conn.execute("SELECT rid, agency FROM cases").fetchall()
    conn.executemany("UPDATE cases SET place = ? WHERE rid = ?", [(agency_place(a), r) for r, a in rows])
    conn.execute("CREATE INDEX cases_kind ON cases(agency_kind)")


#: version -> the step that upgrades a library of that version to the next one (run inside one transaction)
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}


def now() -> str:
    """The current UTC time as ISO 8601 (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def create_schema(conn: sqlite3.Connection, *, version: int = SCHEMA_VERSION) -> None:
    """Create the tables of ``version`` (the current one by default) in an empty database, in one transaction.

    Older versions are made from :data:`DDL_V1` plus the migrations up to ``version`` (how tests build an old
    library).
    """
    from .. import __version__

    conn.execute("BEGIN IMMEDIATE")
    try:
        if schema_version(conn, "") is not None:  # another process created it while we waited for the lock
            conn.execute("ROLLBACK")
            return
        for stmt in _statements(DDL_V1):
            conn.execute(stmt)
        for v in range(1, version):
            MIGRATIONS[v](conn)
        conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [("schema_version", str(version)), ("created_by", __version__), ("created_at", now())],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """The statements of a DDL script (``executescript`` would commit the open transaction)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def schema_version(conn: sqlite3.Connection, where: str) -> int | None:
    """The schema version stored in the library, None for an empty database.

    Raises LibraryFormatError (naming ``where``) for a database that is not a yanreform library or whose
    version field is damaged.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    if "meta" not in tables:
        raise LibraryFormatError(
            f"{where}: an SQLite database but not a yanreform library (no 'meta' table; tables: "
            f"{', '.join(sorted(tables)[:8])})"
        )
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise LibraryFormatError(
            f"{where}: damaged library: no valid schema_version in its meta table"
        ) from None


def _migrate(conn: sqlite3.Connection, found: int, where: str) -> None:
    if found > SCHEMA_VERSION:
        raise LibraryFormatError(
            f"{where}: library schema version {found} was written by a newer yanreform (this one reads "
            f"versions up to {SCHEMA_VERSION}); upgrade yanreform to open it"
        )
    if found < 1:
        raise LibraryFormatError(f"{where}: damaged library: schema_version {found}")
    if found == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # another process may have upgraded it while we waited for the lock
        current = schema_version(conn, where) or found
        for v in range(current, SCHEMA_VERSION):
            log.info("%s: upgrading the library schema from version %d to %d", where, v, v + 1)
            MIGRATIONS[v](conn)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def connect(path: Path | None, *, timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the library at ``path``, or an empty in-memory one for ``path=None``.

    The connection is in autocommit mode (transactions are explicit), with WAL journaling, foreign keys on,
    and a busy timeout of ``timeout`` seconds: a writer waits that long for another writer's lock. The
    schema is created in an empty file and upgraded in an older one.

    Raises:
        LibraryFormatError: the file is not an SQLite database or not a yanreform library, is damaged, or has
            a newer schema.
        LibraryBusyError: another process held the write lock longer than ``timeout`` (creating or upgrading).
    """
    where = str(path) if path is not None else ":memory:"
    try:
        conn = sqlite3.connect(
            where, timeout=timeout, isolation_level=None, check_same_thread=False, cached_statements=256
        )
    except sqlite3.Error as exc:
        raise LibraryFormatError(f"{where}: cannot open the library ({exc})") from None
    # Two processes opening a new file at once can meet in SQLite's deadlock avoidance (switching to WAL needs
    # an exclusive lock), which answers "database is locked" at once instead of waiting: every step here is
    # idempotent, so the set-up is retried until ``timeout`` has passed.
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        try:
            _set_up(conn, path, where)
            return conn
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc) and time.monotonic() + pause < deadline:
                time.sleep(pause)  # create_schema and _migrate roll back their own transaction
                pause = min(pause * 2, 0.5)
                continue
            conn.close()
            raise translate(exc, where) from None
        except BaseException:
            conn.close()
            raise


def _set_up(conn: sqlite3.Connection, path: Path | None, where: str) -> None:
    """Pragmas, and the schema created or upgraded (see :func:`connect`)."""
    conn.execute("PRAGMA foreign_keys = ON")
    found = schema_version(conn, where)
    if found is not None and found > SCHEMA_VERSION:
        _migrate(conn, found, where)  # raises before anything (WAL included) touches the file
    if path is not None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("%s: WAL journaling unavailable (%s); readers will wait for writers", where, mode)
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed import
    if found is None:
        create_schema(conn)
        found = schema_version(conn, where)
    _migrate(conn, found or SCHEMA_VERSION, where)


def _is_busy(exc: sqlite3.Error) -> bool:
    msg = str(exc)
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg)


def translate(exc: sqlite3.Error, where: str) -> Exception:
    """The yanreform error for an SQLite error: LibraryBusyError for a held lock, LibraryFormatError for a
    file that is not a (sound) database, the exception itself otherwise."""
    msg = str(exc)
    if _is_busy(exc):
        return LibraryBusyError(
            f"{where}: another process is writing to the library and held its lock too long ({msg}); "
            "try again when it has finished"
        )
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in msg or "malformed" in msg):
        return LibraryFormatError(f"{where}: not a yanreform library, or a damaged one ({msg})")
    if isinstance(exc, sqlite3.OperationalError) and "readonly" in msg:
        return LibraryFormatError(f"{where}: the library is read-only here ({msg})")
    return exc
