"""The batch engine: records in, exactly one output record per input record, in input order.

* :func:`mark_duplicates` turns a repeated id into an error record naming the first occurrence
  (``file:line``); the record still comes out, so records in == records out.
* :func:`tag_partition` is the pure unit of work a runner calls per partition: records -> output dicts
  (:func:`output_record`), tagging the good ones with one :func:`~yanreform.tagging.documents.tag_documents`
  call (long texts in passages). A text whose tagging raises becomes an error record; failures that are not
  about one text (the model cannot load, the disk fails, Ctrl-C) stop the run.
* :func:`tag_records` streams to a callback (stdout); :func:`run_partitions` commits partition by
  partition into a :class:`~yanreform.batch.output.PartStore` (crash-safe files, ``--resume``), skipping the
  partitions already committed. Memory holds one partition.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import InputError, ModelError, check_batch_size
from ..io.records import Record
from ..tagging.documents import EVIDENCE_CAP, LONG_THRESHOLD, DocumentTags, tag_documents

if TYPE_CHECKING:
    from ..tagging.records import TagList
    from ..tagging.tagger import Tagger
    from .output import PartStore

__all__ = [
    "Progress",
    "TagOptions",
    "TagStats",
    "mark_duplicates",
    "output_record",
    "plural",
    "run_partitions",
    "tag_partition",
    "tag_records",
]

log = logging.getLogger("yanreform")

# failures that are not about one text: they stop the run instead of becoming error records
_FATAL = (KeyboardInterrupt, SystemExit, MemoryError, ModelError, OSError)

#: output keys of our own; an input field of that name is written as ``input_<name>``
RESERVED = frozenset({"id", "tags", "error", "text", "passages"})


class Progress(Protocol):
    """What the engine needs of a progress bar (tqdm has it)."""

    def update(self, n: int) -> Any: ...


def plural(n: int, word: str, words: str | None = None) -> str:
    """``"1 record"``, ``"2 records"``, ``"1,234 records"``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


@dataclass
class TagStats:
    """Counts of a batch run: records read, tagged, errors (bad records, duplicates, failed tagging),
    skipped (already committed by an earlier, interrupted run)."""

    records: int = 0
    tagged: int = 0
    errors: int = 0
    skipped: int = 0

    def add(self, other: TagStats) -> None:
        """Add another run's counts to these."""
        self.records += other.records
        self.tagged += other.tagged
        self.errors += other.errors
        self.skipped += other.skipped

    def summary(self) -> str:
        """One line for a person: ``"3 records: 2 tagged, 1 error"`` (``, 5 kept from the interrupted run``
        when resumed)."""
        s = f"{plural(self.records, 'record')}: {self.tagged:,} tagged, {plural(self.errors, 'error')}"
        if self.skipped:
            s += f", {self.skipped:,} kept from the interrupted run"
        return s


@dataclass(frozen=True)
class TagOptions:
    """What goes into each output record, and how long texts are tagged.

    ``keep``: input fields to carry (None: all of them except ``exclude``; ``()``: none); ``exclude``: the
    fields never carried by default (the text and id columns); ``with_text``: add the text as ``text``;
    ``long_threshold`` / ``evidence_cap``: see :func:`~yanreform.tagging.documents.tag_documents`;
    ``batch_size``: texts per ``tag_many`` encoding batch.
    """

    keep: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    with_text: bool = False
    long_threshold: int = LONG_THRESHOLD
    evidence_cap: int = EVIDENCE_CAP
    batch_size: int = 256


def output_record(
    record: Record,
    tags: TagList | None = None,
    error: str | None = None,
    *,
    options: TagOptions | None = None,
) -> dict[str, Any]:
    """The output dict of one record: ``id``, the kept input fields, ``text`` (``with_text``), then ``tags``
    (:meth:`Tag.to_dict`, plus ``evidence_omitted`` where the long-text cap left spans out; ``passages``:
    how many passages a long text was tagged in) or ``error``."""
    opts = options or TagOptions()
    out: dict[str, Any] = {"id": record.id}
    fields = record.fields or record.meta
    names: Iterable[str] = (
        opts.keep if opts.keep is not None else (k for k in fields if k not in opts.exclude)
    )
    for k in names:
        if k in fields:
            out[f"input_{k}" if k in RESERVED else k] = fields[k]
    if opts.with_text:
        out["text"] = record.text
    if error is not None:
        out["error"] = error
        return out
    omitted = tags.omitted if isinstance(tags, DocumentTags) else {}
    dicts = []
    for t in tags or ():
        d = t.to_dict()
        if omitted.get(t.code):
            d["evidence_omitted"] = omitted[t.code]
        dicts.append(d)
    out["tags"] = dicts
    if isinstance(tags, DocumentTags):
        out["passages"] = len(tags.passages)
    return out


def mark_duplicates(records: Iterable[Record], seen: dict[str, str] | None = None) -> Iterator[Record]:
    """The records, with every repeat of an id (compared as ``str``) turned into an error record naming
    where the id was first seen; the repeat keeps its fields. ``seen``: id -> where, shared across calls."""
    first = {} if seen is None else seen
    for r in records:
        key = str(r.id)
        where = first.get(key)
        if where is None:
            first[key] = r.where
            yield r
        else:
            msg = f"duplicate id {r.id!r}: first at {where} ({r.where})"
            yield Record(r.id, None, r.where, msg, r.meta, r.fields)


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())


def _tag_texts(tagger: Tagger, texts: list[str], opts: TagOptions) -> list[TagList | BaseException]:
    """Tags for each text; when the batch call fails, tag one by one so a single bad text fails alone."""

    def run(ts: list[str]) -> list[TagList]:
        return tag_documents(
            tagger,
            ts,
            batch_size=opts.batch_size,
            threshold=opts.long_threshold,
            evidence_cap=opts.evidence_cap,
            show_progress=False,
        )

    try:
        return list(run(texts))
    except _FATAL:
        raise
    except Exception as exc:
        batch_exc = exc
        log.warning("tagging a batch of %d failed (%s); retrying its texts one by one", len(texts), exc)
    out: list[TagList | BaseException] = []
    for t in texts:
        try:
            out.append(run([t])[0])
        except _FATAL:
            raise
        except Exception as exc:
            out.append(exc)
    same = [x for x in out if isinstance(x, BaseException) and str(x) == str(batch_exc)]
    if len(texts) > 1 and len(same) == len(texts):
        # every text fails the same way: the tagger (its model, its cache folder) is broken, not the texts
        raise batch_exc
    return out


def tag_partition(
    records: Sequence[Record], tagger: Tagger, *, options: TagOptions | None = None
) -> tuple[list[dict[str, Any]], TagStats]:
    """Tag one partition: ``(output records, counts)``, one output record per input record, in order.

    Pure (no I/O): a local worker process or a Dask task can run it. Raises what stops a run (model
    errors, OSError, KeyboardInterrupt); a text whose tagging fails becomes an error record.
    """
    opts = options or TagOptions()
    check_batch_size(opts.batch_size)
    todo = [r for r in records if r.ok]
    results = _tag_texts(tagger, [r.text for r in todo], opts) if todo else []  # type: ignore[misc]
    by_pos = {id(r): res for r, res in zip(todo, results, strict=True)}
    stats = TagStats()
    out: list[dict[str, Any]] = []
    for r in records:
        stats.records += 1
        res = by_pos.get(id(r))
        if not r.ok:
            out.append(output_record(r, error=r.error or "bad record", options=opts))
            stats.errors += 1
        elif isinstance(res, BaseException):
            msg = f"tagging failed: {type(res).__name__}: {_one_line(res)} ({r.where})"
            out.append(output_record(r, error=msg, options=opts))
            stats.errors += 1
        else:
            out.append(output_record(r, res, options=opts))
            stats.tagged += 1
    return out, stats


def _batched(it: Iterable[Record], n: int) -> Iterator[list[Record]]:
    it = iter(it)
    while batch := list(itertools.islice(it, n)):
        yield batch


def tag_records(
    records: Iterable[Record],
    tagger: Tagger,
    write: Callable[[dict[str, Any]], None],
    *,
    batch_size: int = 256,
    options: TagOptions | None = None,
    progress: Progress | None = None,
    after_batch: Callable[[], None] | None = None,
) -> TagStats:
    """Tag a stream of records in batches and ``write`` one output dict per record, in input order.

    Repeated ids become error records (:func:`mark_duplicates`). ``after_batch`` runs after each batch is
    written; ``progress.update(n)`` after each batch. Returns the counts. Raises InputError for a bad
    ``batch_size``.
    """
    check_batch_size(batch_size)
    stats = TagStats()
    for batch in _batched(mark_duplicates(records), batch_size):
        out, st = tag_partition(batch, tagger, options=options)
        for rec in out:
            write(rec)
        stats.add(st)
        if after_batch is not None:
            after_batch()
        if progress is not None:
            progress.update(len(batch))
    return stats


def skip_committed(store: PartStore, start: int, batch: Sequence[Record], stats: TagStats) -> bool:
    """Whether the partition at ``start`` is already in ``store`` (a resumed run): then its records are
    counted as read and skipped. Raises InputError when that part holds another number of records than the
    input now has there (the input changed since the interrupted run)."""
    if not store.is_committed(start):
        return False
    info = store.parts[start]
    if info.records != len(batch):
        raise InputError(
            f"cannot resume {store.out}: part at record {start:,} holds {info.records:,} records, "
            f"the input now {len(batch):,}"
        )
    stats.records += len(batch)
    stats.skipped += len(batch)
    return True


def run_partitions(
    records: Iterable[Record],
    tagger: Tagger,
    store: PartStore,
    *,
    options: TagOptions | None = None,
    progress: Progress | None = None,
    on_commit: Callable[[int], None] | None = None,
) -> TagStats:
    """Tag a stream of records into ``store``, one committed part per partition of ``store.partition_size``
    records; partitions the store already holds are read past (their records counted as skipped).

    Repeated ids are marked over the whole stream (committed partitions included, so a resumed run marks
    the same records). ``on_commit(records committed so far)`` runs after each commit. Returns the counts
    of this run plus the skipped ones.
    """
    size = store.partition_size
    stats = TagStats()
    for k, batch in enumerate(_batched(mark_duplicates(records), size)):
        start = k * size
        if not skip_committed(store, start, batch, stats):
            out, st = tag_partition(batch, tagger, options=options)
            store.commit(start, out)
            stats.add(st)
            if on_commit is not None:
                on_commit(store.committed_records)
        if progress is not None:
            progress.update(len(batch))
    return stats
