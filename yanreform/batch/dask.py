"""Batch tagging on a Dask cluster: ``yanreform tag --dask ADDRESS`` and :func:`tag_dask` (``dask`` extra).

Two ways in:

* :func:`tag_dask` takes a ``dask.bag`` of records (dicts) or a ``dask.dataframe`` and returns the same kind
  of collection, lazily: a bag of output records (the dicts ``yanreform tag`` writes as JSONL), or a
  dataframe with the columns of :func:`yanreform.tag_frame` (explicit ``meta``). Each partition is tagged by
  whatever worker runs it with the tagger of a :class:`~yanreform.batch.parallel.TaggerSpec`, built once
  per worker process (:func:`~yanreform.batch.parallel.worker_tagger`): only the small spec travels with
  the tasks, never a model.
* :class:`DaskBackend` runs the partitions of a ``yanreform tag`` run (the same partitions, the same
  crash-safe part store, the same output as one process) as Dask tasks: the client is the coordinator; tasks
  return their output records and the client commits them, so workers need no shared file system. A worker
  that dies mid-task is replaced and Dask re-runs only the tasks it lost; ``--resume`` after a killed client
  skips the partitions already committed.

:func:`open_client` connects to ``tcp://host:8786`` (an existing scheduler) or starts ``local:N`` (a
``LocalCluster`` of N single-threaded worker processes).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import InputError, ModelError
from ..io.readers._base import MISSING, check_record
from ..io.records import Record
from ..tagging.documents import LONG_THRESHOLD
from .engine import TagOptions, tag_partition
from .parallel import TaggerSpec, WorkResult, _work, worker_tagger

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DaskBackend", "open_client", "tag_dask"]

log = logging.getLogger("yanreform")


def _need_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "Dask support needs dask and distributed: install the 'dask' extra "
            "(pip install 'yanreform[dask]')"
        ) from exc
    return distributed


@contextlib.contextmanager
def open_client(address: str, *, quiet: bool = True) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address``, closed (with its cluster) on exit.

    ``address``: ``local:N`` starts a ``LocalCluster`` of N worker processes with one thread each (torch
    limited to one thread per worker unless ``OMP_NUM_THREADS`` is set; no dashboard); anything else is a
    scheduler address (``tcp://host:8786``). Raises InputError for a malformed ``local:N`` or a scheduler
    that cannot be reached (within 30 s); ImportError without the ``dask`` extra.
    """
    distributed = _need_distributed()
    cluster = None
    if address.startswith("local:") or address == "local":
        raw = address.partition(":")[2] or str(os.cpu_count() or 1)
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise InputError(f"--dask local:N needs a number of workers N >= 1, not {raw!r}")
        env = {} if "OMP_NUM_THREADS" in os.environ else {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR if quiet else logging.WARNING,
            env=env,
        )
        client = distributed.Client(cluster)
    else:
        try:
            client = distributed.Client(address, timeout="30s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--dask {address}: cannot reach the scheduler ({exc})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def n_workers(client: Any) -> int:
    """Worker threads of the cluster behind ``client`` (at least 1)."""
    info = client.scheduler_info()
    return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))


class DaskBackend:
    """Partitions of a batch run as Dask tasks (see the module docstring). ``retries``: re-runs of a task
    that raised (a worker death is handled by Dask itself: the task is re-run elsewhere, up to the
    scheduler's ``allowed-failures``)."""

    writes_parts = False

    def __init__(self, client: Any, spec: TaggerSpec, *, retries: int = 1) -> None:
        self.client = client
        self.spec = spec
        self.retries = retries
        self.futures: list[Any] = []
        self.run_id = os.urandom(4).hex()

    def submit(self, start: int, records: list[Record], options: TagOptions, folder: str | None) -> Any:
        fut = self.client.submit(
            _work,
            self.spec,
            start,
            records,
            options,
            None,
            key=f"yanreform-tag-{self.run_id}-{start}",
            pure=False,
            retries=self.retries,
        )
        self.futures.append(fut)
        return fut

    def finished(self, futures: list[Any], block: bool) -> list[Any]:
        done = [f for f in futures if f.done()]
        if done or not block:
            return done
        _need_distributed().wait(futures, return_when="FIRST_COMPLETED")
        return [f for f in futures if f.done()]

    def result(self, future: Any) -> WorkResult:
        distributed = _need_distributed()
        try:
            res: WorkResult = future.result()
        except distributed.KilledWorker as exc:
            raise ModelError(f"Dask workers kept dying while tagging ({exc}); out of memory?") from None
        self.futures = [f for f in self.futures if f is not future]
        return res

    def restart(self) -> None:  # Dask replaces dead workers and re-runs their tasks itself
        pass

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel(self.futures)
        self.futures = []

    def close(self) -> None:
        self.futures = []


# ------------------------------------------------------------------------------------------- collections


def _records_of(items: list[Any], part: int, text_column: str, id_column: str) -> list[Record]:
    out = []
    for j, obj in enumerate(items):
        where = f"partition {part} item {j}"
        if not isinstance(obj, dict):
            out.append(Record(where, None, where, f"not a record (dict) but {type(obj).__name__} ({where})"))
            continue
        rec = check_record(obj.get(id_column), obj.get(text_column, MISSING), where, text_column, id_column)
        rec.fields = obj
        out.append(rec)
    return out


def _bag_partition(
    items: list[Any], part: int, spec: TaggerSpec, text_column: str, id_column: str, options: TagOptions
) -> list[dict[str, Any]]:
    out, _ = tag_partition(
        _records_of(list(items), part, text_column, id_column), worker_tagger(spec), options=options
    )
    return out


def _frame_partition(
    df: pd.DataFrame, spec: TaggerSpec, text_column: str, id_column: str | None, kw: dict[str, Any], meta: Any
) -> pd.DataFrame:
    from ..apps.frame import tag_frame

    if df.empty:
        return meta
    out = tag_frame(df, text_column, id_column=id_column, tagger=worker_tagger(spec), **kw)
    return out.astype(meta.dtypes.to_dict())


def tag_dask(
    data: Any,
    *,
    text_column: str = "text",
    id_column: str | None = "id",
    fast: bool = False,
    tagger_path: str | None = None,
    keep_columns: bool | list[str] = True,
    evidence: bool = True,
    with_text: bool = False,
    long_threshold: int = LONG_THRESHOLD,
    batch_size: int = 256,
) -> Any:
    """Tag a Dask collection lazily, a partition per task, a model per worker process.

    Args:
        data: a ``dask.bag.Bag`` of records (dicts with ``text_column`` and, optionally, ``id_column``) or a
            ``dask.dataframe.DataFrame`` with a ``text_column`` column.
        text_column, id_column: the text field and the id field (the id is used when present; a bag record
            without one gets ``"partition K item J"``).
        fast: the shipped encoder-free fast head (no torch on the workers). tagger_path: a folder written by
            ``Tagger.save`` instead (every worker must be able to read it).
        keep_columns: bag: True carries every input field but the text and id, False none, a list those;
            dataframe: as :func:`yanreform.tag_frame`. evidence: dataframe only, the ``evidence`` column.
        with_text: bag only: add the text to each output record.
        long_threshold, batch_size: as ``yanreform tag`` (texts longer than ``long_threshold`` characters
            are tagged in passages).

    Returns:
        For a bag: a bag of output records, one per input record, in order (``id``, kept fields, then
        ``tags`` — ``[{code, name, score, evidence}]`` — or ``error``). For a dataframe: a dataframe with
        :func:`yanreform.tag_frame`'s columns (``meta`` given explicitly, so nothing is computed to build
        the graph). Ids repeated across partitions are not marked here (``yanreform tag --dask`` marks
        them over the whole input).

    Raises:
        TypeError: ``data`` is neither a bag nor a dataframe. MissingColumnError: a dataframe without
        ``text_column`` (or a named ``keep_columns`` column). ImportError: without the ``dask`` extra.
    """
    try:
        import dask.bag as db
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            "tag_dask needs dask: install the 'dask' extra (pip install 'yanreform[dask]')"
        ) from exc
    spec = TaggerSpec(fast=fast, path=tagger_path)
    if isinstance(data, db.Bag):
        icol = id_column or "id"
        if keep_columns is True:
            keep: tuple[str, ...] | None = None
        elif keep_columns is False:
            keep = ()
        else:
            keep = tuple(keep_columns)
        options = TagOptions(
            keep=keep,
            exclude=(text_column, icol),
            with_text=with_text,
            long_threshold=long_threshold,
            batch_size=batch_size,
        )
        from dask import delayed

        parts = [
            delayed(_bag_partition, pure=True)(d, k, spec, text_column, icol, options)
            for k, d in enumerate(data.to_delayed())
        ]
        return db.from_delayed(parts)
    if isinstance(data, dd.DataFrame):
        from ..apps.frame import tag_frame
        from ..tagging.tagger import Tagger

        cols = list(data.columns)
        if id_column is not None and id_column not in cols:
            id_column = None
        # the columns and dtypes, from the real function on the empty frame: the fast head has the codes of
        # the shipped taxonomy, like the full one, and loads in a second without torch
        codes_from = spec.build() if tagger_path is not None else Tagger.default(fast=True)
        kw: dict[str, Any] = {"evidence": evidence, "keep_columns": keep_columns, "batch_size": batch_size}
        kw["long_threshold"] = long_threshold
        meta = tag_frame(data._meta, text_column, id_column=id_column, tagger=codes_from, **kw)
        # columns built from (empty) lists get pandas' default dtype: say what they hold
        fixed = {c: object for c in ("tags", "evidence", "error") if c in meta.columns}
        if id_column is not None:
            fixed["id"] = data._meta[id_column].dtype
        meta = meta.astype(fixed)
        return data.map_partitions(
            _frame_partition, spec, text_column, id_column, kw, meta, meta=meta, enforce_metadata=False
        )
    raise TypeError(f"tag_dask needs a dask.bag.Bag or a dask.dataframe.DataFrame, got {type(data).__name__}")
