"""The streaming batch engine: records in, exactly one output record per input record, in input order.

:func:`tag_records` reads :class:`~yanreform.io.records.Record` s in batches of ``batch_size``, tags the good
ones with one ``Tagger.tag_many`` call per batch, and hands one output dict per record to ``write``: the id,
the collection fields, and ``tags`` (:meth:`yanreform.Tag.to_dict`) or ``error``. A bad record becomes an
error record; a text whose tagging raises becomes one too, while failures that are not about one text (the
model cannot load, the disk fails, Ctrl-C) stop the run. Memory holds one batch.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ModelError, check_batch_size
from ..io.records import META_FIELDS, Record

if TYPE_CHECKING:
    from ..tagging.records import TagList
    from ..tagging.tagger import Tagger

__all__ = ["Progress", "TagStats", "output_record", "plural", "tag_records"]

log = logging.getLogger("yanreform")

# failures that are not about one text: they stop the run instead of becoming error records
_FATAL = (KeyboardInterrupt, MemoryError, ModelError, OSError)


class Progress(Protocol):
    """What the engine needs of a progress bar (tqdm has it)."""

    def update(self, n: int) -> Any: ...


def plural(n: int, word: str, words: str | None = None) -> str:
    """``"1 record"``, ``"2 records"``, ``"1,234 records"``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


@dataclass
class TagStats:
    """Counts of a batch run: records read, tagged, errors (bad records), skipped (already in OUT)."""

    records: int = 0
    tagged: int = 0
    errors: int = 0
    skipped: int = 0

    def summary(self) -> str:
        """One line for a person: ``"3 records: 2 tagged, 1 error, 0 skipped (already in output)"``."""
        return (
            f"{plural(self.records, 'record')}: {self.tagged:,} tagged, {plural(self.errors, 'error')}, "
            f"{self.skipped:,} skipped (already in output)"
        )


def output_record(record: Record, tags: TagList | None = None, error: str | None = None) -> dict[str, Any]:
    """The output dict of one record: ``id``, its collection fields, and ``tags`` or ``error``."""
    out: dict[str, Any] = {"id": record.id}
    for m in META_FIELDS:
        if m in record.meta:
            out[m] = record.meta[m]
    if error is not None:
        out["error"] = error
    else:
        out["tags"] = [t.to_dict() for t in tags or ()]
    return out


def _batched(it: Iterable[Record], n: int) -> Iterator[list[Record]]:
    it = iter(it)
    while batch := list(itertools.islice(it, n)):
        yield batch


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())


def _tag_batch(tagger: Tagger, texts: list[str], batch_size: int) -> list[TagList | BaseException]:
    """Tags for each text; when the batch call fails, tag one by one so a single bad text fails alone."""
    try:
        return list(tagger.tag_many(texts, batch_size=batch_size))
    except _FATAL:
        raise
    except Exception as exc:
        log.warning("tagging a batch of %d failed (%s); retrying its texts one by one", len(texts), exc)
    out: list[TagList | BaseException] = []
    for t in texts:
        try:
            out.append(tagger.tag(t))
        except _FATAL:
            raise
        except Exception as exc:
            out.append(exc)
    return out


def tag_records(
    records: Iterable[Record],
    tagger: Tagger,
    write: Callable[[dict[str, Any]], None],
    *,
    batch_size: int = 256,
    done: set[str] | frozenset[str] = frozenset(),
    progress: Progress | None = None,
    after_batch: Callable[[], None] | None = None,
) -> TagStats:
    """Tag a stream of records in batches and ``write`` one output dict per record, in input order.

    Records whose ``str(id)`` is in ``done`` are skipped (counted, not written). ``after_batch`` runs after
    each batch is written (the CLI flushes its output there); ``progress.update(n)`` after each batch. Returns
    the counts. Raises InputError for a bad ``batch_size``.
    """
    check_batch_size(batch_size)
    stats = TagStats()
    for batch in _batched(records, batch_size):
        todo = [r for r in batch if r.ok and str(r.id) not in done]
        results = _tag_batch(tagger, [r.text for r in todo], batch_size) if todo else []  # type: ignore[misc]
        by_pos = {id(r): res for r, res in zip(todo, results, strict=True)}
        for r in batch:
            stats.records += 1
            if str(r.id) in done:
                stats.skipped += 1
                continue
            res = by_pos.get(id(r))
            if not r.ok:
                out = output_record(r, error=r.error or "bad record")
                stats.errors += 1
            elif isinstance(res, BaseException):
                out = output_record(
                    r, error=f"tagging failed: {type(res).__name__}: {_one_line(res)} ({r.where})"
                )
                stats.errors += 1
            else:
                out = output_record(r, res)
                stats.tagged += 1
            write(out)
        if after_batch is not None:
            after_batch()
        if progress is not None:
            progress.update(len(batch))
    return stats
