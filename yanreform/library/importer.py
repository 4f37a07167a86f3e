"""Importing into the library: stage, tag and embed in batches, then commit in one short transaction.

An import works in two phases so that it is atomic and never blocks other users for long:

1. *Stage.* The drafts of the input are tagged and embedded in batches of about ``batch_size`` initiatives
   and written to TEMP tables of this connection (SQLite keeps them in a temporary file, so memory holds one
   batch whatever the input size). The library itself is not touched: readers and other importers go on.
2. *Commit.* ``BEGIN IMMEDIATE`` takes the write lock (waiting up to the library's timeout for another
   writer), the content hash is checked again (another process may have imported the same file meanwhile),
   the collection id is fixed, the staged rows are copied with ``INSERT ... SELECT``, and ``COMMIT``.

A crash, Ctrl-C, a bad record or a model error before the commit leaves the library exactly as it was (the
TEMP tables vanish with the connection); a crash during the commit is rolled back by SQLite's journal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..corpus.agency import agency_kind, agency_place
from ..errors import LibraryBusyError
from .ingest import CaseDraft, Source, dumps, slug
from .schema import now, translate

if TYPE_CHECKING:
    from ..embed.encoder import Encoder
    from ..tagging.tagger import Tagger

__all__ = ["clear_stage", "commit_staged", "stage", "tag_batch", "tagger_key", "write_tags"]

log = logging.getLogger("yanreform")

_STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_cases (seq INTEGER PRIMARY KEY, suffix TEXT, source_id TEXT, "
    "agency TEXT, agencies TEXT, agency_kind TEXT, place TEXT, title TEXT, lead TEXT, outcome TEXT, "
    "text TEXT, line INTEGER, fields TEXT)",
    "CREATE TEMP TABLE IF NOT EXISTS stage_initiatives (n INTEGER PRIMARY KEY, case_seq INTEGER, "
    "seq INTEGER, suffix TEXT, heading TEXT, text TEXT, char_start INTEGER, char_end INTEGER, "
    "tagged INTEGER)",
    "CREATE TEMP TABLE IF NOT EXISTS stage_tags (ini_n INTEGER, code TEXT, score REAL, evidence TEXT)",
    "CREATE TEMP TABLE IF NOT EXISTS stage_vectors (ini_n INTEGER, model_id TEXT, dim INTEGER, data BLOB)",
)
_STAGE_TABLES = ("stage_cases", "stage_initiatives", "stage_tags", "stage_vectors")


def tagger_key(tagger: Tagger) -> tuple[str, dict[str, Any]]:
    """``(key, info)`` identifying a fitted tagger: the key is a SHA-256 prefix over its encoder model id,
    taxonomy hash, parameters and every learned array (attributes ending in ``_``), so a retrained or
    reconfigured head gets a new key even when its files keep their names. ``info`` is stored beside it."""
    h = hashlib.sha256()
    model_id = str(getattr(tagger, "model_id_", ""))
    tax = getattr(tagger, "taxonomy_", None)
    tax_hash = str(getattr(tax, "hash", ""))
    params = {
        k: v
        for k, v in tagger.get_params().items()
        if k not in ("taxonomy", "encoder", "segmenter") and isinstance(v, str | int | float | bool | None)
    }
    for part in (model_id, tax_hash, json.dumps(params, sort_keys=True)):
        h.update(part.encode("utf-8") + b"\0")
    for name in sorted(vars(tagger)):
        value = vars(tagger)[name]
        if name.endswith("_") and not name.startswith("_") and isinstance(value, np.ndarray):
            h.update(name.encode() + str(value.dtype).encode() + str(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
    key = h.hexdigest()[:16]
    info = {
        "model_id": model_id,
        "taxonomy_hash": tax_hash,
        "params": params,
        "info": getattr(tagger, "info_", {}),
    }
    return key, info


def tag_batch(
    texts: list[str], tagger: Tagger, encoder: Encoder | None, batch_size: int
) -> tuple[list[list[Any]], list[np.ndarray | None]]:
    """Tags and embeddings of ``texts``: the tagger's TagLists and one vector per text (None for an empty
    text). Each text is normalised and encoded once: the tagger's analyses keep their embeddings, which the
    library stores."""
    from ..text.analysis import Analyzer, analyses_of

    analyses = analyses_of(texts)
    tag_lists = tagger.tag_many(analyses, batch_size=batch_size)
    enc = encoder if encoder is not None else tagger.encoder
    if enc is None:
        from .._defaults import default_encoder

        enc = default_encoder()
    # already-embedded analyses are not encoded again; this only fills what the tagger did not keep
    E = Analyzer(encoder=enc).embed(analyses, batch_size=batch_size)
    vecs: list[np.ndarray | None] = [None if a.empty else E[i] for i, a in enumerate(analyses)]
    return [list(tl) for tl in tag_lists], vecs


def _batches(drafts: Iterable[CaseDraft], size: int) -> Iterator[list[CaseDraft]]:
    batch: list[CaseDraft] = []
    n = 0
    for d in drafts:
        batch.append(d)
        n += len(d.initiatives)
        if n >= size:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def clear_stage(conn: sqlite3.Connection) -> None:
    """Drop the staging tables (if any)."""
    for t in _STAGE_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS temp.{t}")


def stage(
    conn: sqlite3.Connection,
    source: Source,
    *,
    tagger: Tagger | None,
    encoder: Encoder | None,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Tag, embed and write the drafts of ``source`` to the TEMP staging tables; returns (cases,
    initiatives). ``tagger=None`` stages without tags or vectors (``Library.retag`` fills them later)."""
    clear_stage(conn)
    for ddl in _STAGE_DDL:
        conn.execute(ddl)
    n_cases = n_inis = 0
    for batch in _batches(source.drafts, batch_size):
        texts = [ini.text for d in batch for ini in d.initiatives]
        if tagger is not None and texts:
            tag_lists, vecs = tag_batch(texts, tagger, encoder, batch_size)
        else:
            tag_lists, vecs = [[] for _ in texts], [None] * len(texts)
        conn.execute("BEGIN")  # a transaction on the TEMP database only: the library is not locked
        try:
            k = 0
            for d in batch:
                conn.execute(
                    "INSERT INTO temp.stage_cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (d.seq, d.suffix, d.source_id, d.agency, dumps(d.agencies), agency_kind(d.agency),
                     agency_place(d.agency), d.title, d.lead, d.outcome, d.text, d.line,
                     dumps(d.fields) if d.fields else None),
                )  # fmt: skip
                for j, ini in enumerate(d.initiatives):
                    n_inis += 1
                    conn.execute(
                        "INSERT INTO temp.stage_initiatives VALUES (?,?,?,?,?,?,?,?,?)",
                        (n_inis, d.seq, j, ini.suffix, ini.heading, ini.text, ini.start, ini.end,
                         int(tagger is not None)),
                    )  # fmt: skip
                    conn.executemany(
                        "INSERT INTO temp.stage_tags VALUES (?,?,?,?)",
                        [
                            (n_inis, t.code, float(t.score), dumps([e.to_dict() for e in t.evidence]))
                            for t in tag_lists[k]
                        ],
                    )
                    v = vecs[k]
                    if v is not None and encoder is not None:
                        conn.execute(
                            "INSERT INTO temp.stage_vectors VALUES (?,?,?,?)",
                            (n_inis, encoder.model_id, int(v.shape[0]), _blob(v)),
                        )
                    k += 1
                n_cases += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if progress is not None:
            progress(len(texts))
    return n_cases, n_inis


def _blob(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype="<f4").tobytes()


def _candidate_ids(base: str, year: int) -> Iterator[str]:
    yield base
    yield f"{base}-{year}"
    n = 2
    while True:
        yield f"{base}-{year}~{n}"
        n += 1


def commit_staged(
    conn: sqlite3.Connection,
    source: Source,
    *,
    year: int,
    source_label: str | None,
    name: str,
    key: tuple[str, dict[str, Any]] | None,
    where: str,
) -> tuple[str, bool]:
    """Copy the staged rows into the library in one transaction; returns ``(collection id, added)``.

    ``added`` is False when a collection with the same content hash is already there (another process may
    have imported it while this one was staging): nothing is written and its id is returned.

    Raises LibraryBusyError when another writer holds the lock longer than the connection's timeout.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        err = translate(exc, where)
        raise err if isinstance(err, LibraryBusyError) else exc from None
    try:
        row = conn.execute("SELECT id FROM collections WHERE sha256 = ?", (source.sha256,)).fetchone()
        if row is not None:
            conn.execute("ROLLBACK")
            return str(row[0]), False
        if key is not None:
            conn.execute(
                "INSERT OR IGNORE INTO models(key, model_id, info, first_used) VALUES (?,?,?,?)",
                (key[0], key[1]["model_id"], dumps(key[1]), now()),
            )
        tag_key = key[0] if key is not None else None
        base = slug(source.path.stem).replace("~", "_")
        for cid in _candidate_ids(base, year):
            conn.execute("SAVEPOINT pick")
            try:
                _copy(conn, cid, source, year, source_label, name, tag_key)
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK TO pick")
                conn.execute("RELEASE pick")
                continue
            conn.execute("RELEASE pick")
            break
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return cid, True


def _copy(
    conn: sqlite3.Connection,
    cid: str,
    source: Source,
    year: int,
    label: str | None,
    name: str,
    tag_key: str | None,
) -> None:
    conn.execute(
        "INSERT INTO collections(id, year, source, name, path, sha256, kind, encoding, header, imported_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        (cid, year, label, name, str(source.path.resolve()) if source.kind != "corpus" else str(source.path),
         source.sha256, source.kind, source.encoding,
         dumps(source.header), now()),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO cases(id, collection_id, seq, source_id, year, agency, agencies, agency_kind, place, "
        "title, lead, outcome, text, line, fields) SELECT :cid || suffix, :cid, seq, source_id, :year, "
        "agency, agencies, agency_kind, place, title, lead, outcome, text, line, fields "
        "FROM temp.stage_cases ORDER BY seq",
        {"cid": cid, "year": year},
    )
    conn.execute(
        "INSERT INTO initiatives(id, case_rid, seq, heading, text, char_start, char_end, tagged_by) "
        "SELECT :cid || si.suffix, c.rid, si.seq, si.heading, si.text, si.char_start, si.char_end, "
        "CASE WHEN si.tagged THEN :key END FROM temp.stage_initiatives si "
        "JOIN cases c ON c.collection_id = :cid AND c.seq = si.case_seq ORDER BY si.n",
        {"cid": cid, "key": tag_key},
    )
    conn.execute(
        "INSERT INTO tags(initiative_rid, code, score, evidence) "
        "SELECT i.rid, st.code, st.score, st.evidence FROM temp.stage_tags st "
        "JOIN temp.stage_initiatives si ON si.n = st.ini_n "
        "JOIN initiatives i ON i.id = :cid || si.suffix",
        {"cid": cid},
    )
    conn.execute(
        "INSERT INTO vectors(initiative_rid, model_id, dim, data) SELECT i.rid, sv.model_id, sv.dim, sv.data "
        "FROM temp.stage_vectors sv JOIN temp.stage_initiatives si ON si.n = sv.ini_n "
        "JOIN initiatives i ON i.id = :cid || si.suffix",
        {"cid": cid},
    )


def write_tags(
    conn: sqlite3.Connection,
    rows: list[tuple[Any, ...]],
    tag_lists: list[list[Any]],
    vecs: list[Any],
    key: tuple[str, dict[str, Any]],
    model_id: str,
    where: str,
) -> None:
    """Replace the tags and vectors of the initiatives ``rows`` (rid, text) in one transaction."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise translate(exc, where) from None
    try:
        conn.execute(
            "INSERT OR IGNORE INTO models(key, model_id, info, first_used) VALUES (?,?,?,?)",
            (key[0], key[1]["model_id"], dumps(key[1]), now()),
        )
        for (rid, _), tags, v in zip(rows, tag_lists, vecs, strict=True):
            conn.execute("DELETE FROM tags WHERE initiative_rid = ?", (rid,))
            conn.executemany(
                "INSERT INTO tags(initiative_rid, code, score, evidence) VALUES (?,?,?,?)",
                [(rid, t.code, float(t.score), dumps([e.to_dict() for e in t.evidence])) for t in tags],
            )
            conn.execute("DELETE FROM vectors WHERE initiative_rid = ?", (rid,))
            if v is not None:
                conn.execute(
                    "INSERT INTO vectors(initiative_rid, model_id, dim, data) VALUES (?,?,?,?)",
                    (rid, model_id, int(v.shape[0]), _blob(v)),
                )
            conn.execute("UPDATE initiatives SET tagged_by = ? WHERE rid = ?", (key[0], rid))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
