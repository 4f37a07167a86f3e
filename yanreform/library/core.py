"""The case library: every year's collections in one SQLite file, tagged, embedded and searchable.

:class:`Library` is the facade: import files (:meth:`~Library.add`), list and read cases, search them, retag
them after a model update, export them, find re-submissions and near-duplicates, and count categories by year
and kind of agency. The storage layout and its versions are in :mod:`yanreform.library.schema`; importing in
:mod:`.importer`; reading in :mod:`.store`.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._resources import cache_dir
from ..errors import InputError, ModelError, UnknownCaseError, check_batch_size, check_k
from . import importer, store
from .ingest import Source, check_year, open_source
from .records import Collection, LibraryCase, LibraryHit, NearDuplicate, RetagStats
from .schema import connect, translate

if TYPE_CHECKING:
    import pandas as pd

    from ..corpus import Corpus
    from ..embed.encoder import Encoder
    from ..search.index import CaseIndex
    from ..tagging.tagger import Tagger

__all__ = ["DEFAULT_NAME", "Library", "ProgressLike"]

log = logging.getLogger("yanreform")

#: file name of the default library in ``$YANREFORM_HOME``
DEFAULT_NAME = "library.sqlite"

#: ``True`` (a progress bar on stderr), ``False``/``None`` (none), or a callable taking the number of
#: initiatives just done
ProgressLike = bool | Callable[[int], Any] | None


class Library:
    """A case library: collections by year, cases, initiatives with offsets, tags with evidence and the model
    that made them, and embeddings, in one SQLite file.

    Args:
        path: the library file; None = ``$YANREFORM_HOME/library.sqlite``. It is created (with its folder) on
            the first write; reading a library that does not exist yet shows an empty one.
        tagger: tags initiatives on import and :meth:`retag`; None = ``Tagger.default()`` when first needed.
        encoder: embeds initiatives and search queries; None = the tagger's encoder (the shared default
            encoder for the default tagger). It must be the model the tagger was trained on.
        timeout: seconds a write waits for another process's write lock before LibraryBusyError.

    Use as a context manager (or call :meth:`close`). Safe to share between threads of one process (calls
    are serialised); several processes may read while one writes (WAL), and writers take turns.

    Raises:
        InputError: ``path`` is a folder.
        LibraryFormatError: an existing file is not a yanreform library, is damaged or has a newer schema.
        ModelError: ``tagger`` and ``encoder`` are of different models.
    """

    def __init__(
        self,
        path: str | PathLike[str] | None = None,
        *,
        tagger: Tagger | None = None,
        encoder: Encoder | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else cache_dir() / DEFAULT_NAME
        if self.path.is_dir():
            raise InputError(
                f"{self.path}: is a folder; a library is a file (e.g. {self.path / DEFAULT_NAME})"
            )
        self.timeout = float(timeout)
        self._tagger = tagger
        self._encoder = encoder
        if tagger is not None and encoder is not None:
            want = getattr(tagger, "model_id_", None)
            if want is not None and want != encoder.model_id:
                raise ModelError(
                    f"the tagger was trained on embeddings of {want!r} but the encoder is "
                    f"{encoder.model_id!r}"
                )
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._empty: sqlite3.Connection | None = None
        self._closed = False
        self._vec_cache: tuple[Any, ...] | None = None
        if self.path.exists():
            self._conn = connect(self.path, timeout=self.timeout)  # format errors surface here

    # ---------------------------------------------------------------- connection and components

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise InputError(f"{self.path}: the library is closed")
        if self._conn is None and self.path.exists():
            self._conn = connect(self.path, timeout=self.timeout)
        if self._conn is not None:
            return self._conn
        if self._empty is None:  # nothing written yet: an empty library, without creating the file
            self._empty = connect(None)
        return self._empty

    def _writer(self) -> sqlite3.Connection:
        if self._closed:
            raise InputError(f"{self.path}: the library is closed")
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create {self.path.parent} ({exc.strerror or exc})") from None
            self._conn = connect(self.path, timeout=self.timeout)
        return self._conn

    @property
    def tagger(self) -> Tagger:
        """The tagger (the shipped default, loaded on first use, if none was given)."""
        if self._tagger is None:
            from ..tagging.tagger import Tagger

            self._tagger = Tagger.default(encoder=self._encoder)
        return self._tagger

    @property
    def encoder(self) -> Encoder:
        """The encoder of initiative and query embeddings (the tagger's if none was given)."""
        if self._encoder is None:
            enc = self._tagger.encoder if self._tagger is not None else None
            if enc is None:
                from .._defaults import default_encoder

                enc = default_encoder()
            self._encoder = enc
        return self._encoder

    @property
    def categories(self) -> dict[str, tuple[str, str]]:
        """Category code -> (Chinese name, English name), in taxonomy order: the tagger's taxonomy when a
        tagger was given or loaded, else the shipped one (no model is loaded for this)."""
        return self._names()

    def _names(self) -> dict[str, tuple[str, str]]:
        """Category code -> (name, English name), from the tagger's taxonomy or the shipped one."""
        tax = getattr(self._tagger, "taxonomy_", None)
        if tax is None:
            from .._defaults import default_taxonomy

            tax = default_taxonomy()
        return {c.code: (c.name, c.name_en) for c in tax}

    def _invalidate(self) -> None:
        self._vec_cache = None

    # ---------------------------------------------------------------- import

    def add(
        self,
        path: str | PathLike[str],
        *,
        year: int,
        source: str | None = None,
        tag: bool = True,
        batch_size: int = 256,
        progress: ProgressLike = None,
        text_column: str = "text",
        id_column: str | None = None,
        skip_bad: bool = False,
    ) -> str:
        """Import a file as one collection of ``year``; returns the collection id.

        ``path``: a collection ``.txt``, a ``.docx`` submission, or records (``.jsonl``, ``.csv``/``.tsv``,
        ``.xlsx``; ``text_column``/``id_column`` name their fields; see :mod:`yanreform.library.ingest`).
        ``source``: a free label kept with the collection. ``tag=False`` stores text only (tag later with
        :meth:`retag`). Initiatives are tagged and embedded in batches of ``batch_size``; ``progress``: True
        for a bar on stderr, or a callable given the number of initiatives done per batch.

        The import is one transaction: an error or interruption leaves the library as it was. A file whose
        content (SHA-256 of its bytes) is already in the library is not imported again: the existing
        collection's id is returned (and a year that differs is logged as a warning).

        Raises:
            InputError: bad year or batch size, missing or unreadable file, unknown file type, missing column,
                a bad record (unless ``skip_bad``), a file without records.
            ParseError: a collection without case structure or in an unknown encoding.
            LibraryBusyError: another process kept the write lock longer than ``timeout``.
            ModelError: the tagger or encoder cannot be loaded.
        """
        y = check_year(year)
        check_batch_size(batch_size)
        src = open_source(path, text_column=text_column, id_column=id_column, skip_bad=skip_bad)
        return self._import(src, year=y, label=source, name=src.path.stem, tag=tag, batch_size=batch_size,
                            progress=progress)  # fmt: skip

    def add_corpus(
        self,
        corpus: Corpus,
        *,
        year: int,
        source: str | None = None,
        name: str | None = None,
        tag: bool = True,
        batch_size: int = 256,
        progress: ProgressLike = None,
    ) -> str:
        """Import a parsed :class:`yanreform.Corpus` (e.g. ``load_corpus()``) as one collection (as
        :meth:`add`).

        ``name`` (default: the corpus name) gives the collection id; the content hash is taken over the cases'
        agency, title and text, so the same corpus is imported once.
        """
        import hashlib

        from .ingest import _drafts_of_corpus, dumps

        y = check_year(year)
        check_batch_size(batch_size)
        cases = list(corpus)
        if not cases:
            raise InputError("the corpus has no cases")
        h = hashlib.sha256()
        for c in cases:
            h.update(dumps([c.agency, c.title, c.text]).encode("utf-8"))
        label = name or getattr(corpus, "name", None) or "corpus"
        src = Source(Path(label), "corpus", h.hexdigest(), _drafts_of_corpus(cases))
        return self._import(src, year=y, label=source, name=label, tag=tag, batch_size=batch_size,
                            progress=progress)  # fmt: skip

    def _import(
        self, src: Source, *, year: int, label: str | None, name: str, tag: bool, batch_size: int,
        progress: ProgressLike,
    ) -> str:  # fmt: skip
        with self._lock:
            conn = self._writer()
            row = conn.execute("SELECT id, year FROM collections WHERE sha256 = ?", (src.sha256,)).fetchone()
            if row is not None:
                if int(row[1]) != year:
                    log.warning(
                        "%s: the same content is already in the library as collection %s of year %s; "
                        "nothing imported (remove it first to import it as %s)",
                        src.path, row[0], row[1], year,
                    )  # fmt: skip
                else:
                    log.info(
                        "%s: already in the library as collection %s; nothing imported", src.path, row[0]
                    )
                return str(row[0])
            tagger = self.tagger if tag else None
            encoder = self.encoder if tag else None
            key = importer.tagger_key(tagger) if tagger is not None else None
            bar, update = _progress(progress, unit="initiative")
            try:
                n_cases, n_inis = importer.stage(
                    conn, src, tagger=tagger, encoder=encoder, batch_size=batch_size, progress=update
                )
                if n_cases == 0:
                    raise InputError(f"{src.path}: no records to import")
                cid, added = importer.commit_staged(
                    conn, src, year=year, source_label=label, name=name, key=key, where=str(self.path)
                )
            except sqlite3.DatabaseError as exc:
                raise translate(exc, str(self.path)) from None
            finally:
                if bar is not None:
                    bar.close()
                with contextlib.suppress(sqlite3.Error):  # a dead connection took its TEMP tables along
                    importer.clear_stage(conn)
            self._invalidate()
        if added:
            skipped = f", {src.skipped:,} bad records skipped" if src.skipped else ""
            log.info("%s: imported as collection %s (%d): %d cases, %d initiatives%s", src.path, cid, year,
                     n_cases, n_inis, skipped)  # fmt: skip
        else:
            log.info(
                "%s: imported meanwhile by another process as collection %s; nothing added", src.path, cid
            )
        return cid

    # ---------------------------------------------------------------- reading

    def collections(self) -> list[Collection]:
        """Every collection (by year, then id) with its case and initiative counts."""
        with self._lock:
            return store.collections(self._reader())

    def cases(
        self,
        year: int | Iterable[int] | None = None,
        *,
        collection: str | None = None,
        agency_kind: str | None = None,
    ) -> list[LibraryCase]:
        """The stored cases (with initiatives and tags), by year, collection and position; optionally of
        ``year`` (one or several), one ``collection`` and/or one ``agency_kind``."""
        years = (
            None
            if year is None
            else (check_year(year) if isinstance(year, int) else [check_year(y) for y in year])
        )
        where = store.CaseFilter(year=years, collection=collection, agency_kind=agency_kind)
        with self._lock:
            return store.load_cases(self._reader(), where, self._names())

    def case(self, case_id: str) -> LibraryCase:
        """One stored case with its initiatives and tags.

        Raises UnknownCaseError (an InputError and a KeyError) naming the id, with similar ids if any.
        """
        with self._lock:
            conn = self._reader()
            found = store.load_cases(conn, store.CaseFilter(ids=[str(case_id)]), self._names())
            if found:
                return found[0]
            stem = str(case_id)[: max(4, len(str(case_id)) // 2)]
            near = [r[0] for r in conn.execute("SELECT id FROM cases WHERE id LIKE ? LIMIT 3", (stem + "%",))]
        hint = f"; similar ids: {', '.join(near)}" if near else ""
        raise UnknownCaseError(f"no case {case_id!r} in the library {self.path}{hint}")

    def __len__(self) -> int:
        with self._lock:
            return int(self._reader().execute("SELECT COUNT(*) FROM cases").fetchone()[0])

    def __contains__(self, case_id: object) -> bool:
        with self._lock:
            row = self._reader().execute("SELECT 1 FROM cases WHERE id = ?", (str(case_id),)).fetchone()
        return row is not None

    def years(self) -> list[int]:
        """The years with at least one collection, ascending."""
        with self._lock:
            return [
                int(r[0]) for r in self._reader().execute("SELECT DISTINCT year FROM collections ORDER BY 1")
            ]

    def __repr__(self) -> str:
        if self._closed:
            return f"Library({str(self.path)!r}, closed)"
        with self._lock:
            conn = self._reader()
            nc = conn.execute("SELECT COUNT(*) FROM collections").fetchone()[0]
            n = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        return f"Library({str(self.path)!r}, {nc} collections, {n} cases)"

    # ---------------------------------------------------------------- changes

    def remove(self, collection: str) -> int:
        """Delete a collection with its cases, initiatives, tags and vectors (one transaction); returns the
        number of cases removed. Raises InputError for an unknown collection id (naming the known ones)."""
        with self._lock:
            conn = self._writer()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if (
                        conn.execute("SELECT 1 FROM collections WHERE id = ?", (collection,)).fetchone()
                        is None
                    ):
                        known = [r[0] for r in conn.execute("SELECT id FROM collections ORDER BY year, id")]
                        raise InputError(
                            f"no collection {collection!r} in {self.path} "
                            f"(collections: {', '.join(known) or 'none'})"
                        )
                    n = conn.execute(
                        "SELECT COUNT(*) FROM cases WHERE collection_id = ?", (collection,)
                    ).fetchone()[0]
                    conn.execute("DELETE FROM collections WHERE id = ?", (collection,))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                raise translate(exc, str(self.path)) from None
            self._invalidate()
        log.info("removed collection %s (%d cases)", collection, n)
        return int(n)

    def retag(
        self, *, force: bool = False, batch_size: int = 256, progress: ProgressLike = None
    ) -> RetagStats:
        """Tag and embed again the initiatives whose tags are stale: made by another tagger than this
        library's (a model update), never made (imported with ``tag=False``), or whose embedding is of another
        encoder model; ``force=True`` redoes all.

        Works in batches of ``batch_size``, each committed on its own: an interrupted retag keeps the batches
        done, and running it again continues with the rest. ``progress`` as for :meth:`add`.
        """
        check_batch_size(batch_size)
        tagger, encoder = self.tagger, self.encoder
        key = importer.tagger_key(tagger)
        stats = RetagStats(key=key[0])
        with self._lock:
            conn = self._writer()
            total = conn.execute("SELECT COUNT(*) FROM initiatives").fetchone()[0]
            stale_sql = (
                "(? OR i.tagged_by IS NULL OR i.tagged_by != ? OR NOT EXISTS (SELECT 1 FROM vectors v "
                "WHERE v.initiative_rid = i.rid AND v.model_id = ?))"
            )
            params = (int(force), key[0], encoder.model_id)
            todo = conn.execute(f"SELECT COUNT(*) FROM initiatives i WHERE {stale_sql}", params).fetchone()[0]
            stats.checked, stats.skipped = int(total), int(total - todo)
            bar, update = _progress(progress, unit="initiative", total=todo)
            last = -1
            try:
                while True:
                    rows = conn.execute(
                        f"SELECT i.rid, i.text FROM initiatives i WHERE i.rid > ? AND {stale_sql} "
                        "ORDER BY i.rid LIMIT ?",
                        (last, *params, batch_size),
                    ).fetchall()
                    if not rows:
                        break
                    tag_lists, vecs = importer.tag_batch([r[1] for r in rows], tagger, encoder, batch_size)
                    importer.write_tags(conn, rows, tag_lists, vecs, key, encoder.model_id, str(self.path))
                    last = rows[-1][0]
                    stats.retagged += len(rows)
                    self._invalidate()
                    if update is not None:
                        update(len(rows))
            finally:
                if bar is not None:
                    bar.close()
        return stats

    # ---------------------------------------------------------------- search, index, dupes, trends, export

    def search(
        self,
        text: str,
        *,
        k: int = 10,
        year: int | Iterable[int] | None = None,
        category: str | None = None,
        collection: str | None = None,
        fast: bool = False,
    ) -> list[LibraryHit]:
        """The ``k`` cases most related to ``text``, each with its best-matching initiative (see
        :func:`yanreform.library.search.search`); filters: ``year`` (one or several), ``category`` (a code or
        Chinese name the initiative is tagged with), ``collection``. ``fast``: characters only (the bigram
        side over every initiative in scope; no model loaded, no torch imported).

        Raises TypeError for a non-str text, InputError for an empty text, a bad ``k`` or an unknown category.
        """
        from .search import search

        check_k(k)
        with self._lock:
            return search(self, text, k=k, year=year, category=category, collection=collection, fast=fast)

    def index(self, *, year: int | Iterable[int] | None = None, before: int | None = None) -> CaseIndex:
        """A :class:`yanreform.CaseIndex` of the stored cases (all, of ``year``, or of years before
        ``before``) with this library's encoder and tagger: ``recommend``/``explain``, and ``yanreform similar
        --library``.

        Raises InputError when no case matches.
        """
        from ..search.index import CaseIndex

        years = None if year is None else ([year] if isinstance(year, int) else list(year))
        with self._lock:
            cases = store.load_cases(
                self._reader(), store.CaseFilter(year=years, before=before), self._names()
            )
        if not cases:
            raise InputError(
                f"{self.path}: no cases to index" + (" for that selection" if years or before else "")
            )
        return CaseIndex.from_corpus([c.to_case() for c in cases], encoder=self.encoder, tagger=self.tagger)

    def near_duplicates(
        self,
        *,
        year: int | None = None,
        threshold: float | None = None,
        level: Literal["case", "initiative", "both"] = "both",
    ) -> list[NearDuplicate]:
        """Pairs of cases or initiatives that are one project submitted again or one text reused, best first.

        ``year``: only pairs with a side of that year; ``threshold``: minimum score in [0, 1] (default
        :data:`yanreform.library.dupes.DEFAULT_THRESHOLD`); ``level``: whole cases, initiatives, or both (an
        initiative pair is reported only when its cases are not already a pair). See
        :mod:`yanreform.library.dupes` for the method. Needs no model: embeddings are the stored ones.
        """
        from .dupes import library_near_duplicates

        with self._lock:
            return library_near_duplicates(self, year=year, threshold=threshold, level=level)

    def trends(
        self,
        *,
        by: Literal["year", "agency_kind"] = "agency_kind",
        unit: Literal["case", "initiative"] = "case",
    ) -> pd.DataFrame:
        """Category counts and shares by year (``by="year"``) or by year and kind of agency (default), as a
        long pandas DataFrame; see :func:`yanreform.library.trends.trends`."""
        from .trends import trends

        with self._lock:
            return trends(self._reader(), self._names(), by=by, unit=unit)

    def export(
        self,
        out: str | PathLike[str],
        *,
        format: Literal["jsonl", "csv", "xlsx"] | None = None,
        year: int | None = None,
        collection: str | None = None,
    ) -> int:
        """Write one row per initiative (case fields, heading, text, categories, scores, evidence) to ``out``
        as JSONL, CSV or XLSX (default: from the suffix), atomically; returns the number of rows. See
        :func:`yanreform.library.export.export`."""
        from .export import export

        with self._lock:
            return export(self, out, format=format, year=year, collection=collection)

    # ---------------------------------------------------------------- lifetime

    def close(self) -> None:
        """Close the database connection (idempotent); later calls raise InputError."""
        with self._lock:
            for conn in (self._conn, self._empty):
                if conn is not None:
                    conn.close()
            self._conn = self._empty = None
            self._closed = True
            self._vec_cache = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _progress(
    progress: ProgressLike, *, unit: str, total: int | None = None
) -> tuple[Any, Callable[[int], Any] | None]:
    """``(bar to close or None, update callable or None)`` for a ``progress`` argument."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
        return bar, bar.update
    if callable(progress):
        return None, progress
    raise InputError(f"progress must be True, False, None or a callable, got {type(progress).__name__}")
