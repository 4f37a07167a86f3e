"""Batch tagging in local worker processes: the same output as one process, N times the cores.

:func:`run_parallel` is what ``yanreform tag --workers N`` runs. The coordinating process (the caller) reads
the input, marks repeated ids over the whole stream (:func:`~yanreform.batch.engine.mark_duplicates`) and
cuts it into the same partitions a single-process run makes; worker processes tag partitions
(:func:`~yanreform.batch.engine.tag_partition`) and, with a part store, write their part files themselves
(:func:`~yanreform.batch.output.write_part`); the coordinator journals each part (any order) or, streaming,
hands the output records on in input order. So the output — ids in input order, tags, scores, evidence,
error records, the counts — is the single-process output.

* **Models once per worker.** A worker builds its tagger on its first partition from a :class:`TaggerSpec`
  (the shipped full or fast head, or a saved tagger folder) and keeps it for the life of the process
  (:func:`worker_tagger`); no model is pickled into tasks. Workers start with ``spawn`` (the same on every
  platform; nothing of the coordinator's state is inherited) and, unless ``OMP_NUM_THREADS`` is set, limit
  torch to ``cores // workers`` threads each so N workers do not fight over the cores.
* **Bounded memory.** At most ``2 * workers`` partitions are in flight; a streamed output holds finished
  partitions only until the ones before them are done.
* **Faults.** A worker that dies (killed, out of memory) breaks the pool: the coordinator starts a new one
  and re-runs only the partitions not yet committed (up to ``retries`` times), so nothing is lost or
  duplicated. Ctrl-C and SIGTERM go to the coordinator (workers ignore SIGINT), which stops the workers;
  what was committed stays for ``--resume``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import InputError, ModelError, check_batch_size
from ..io.records import Record
from .engine import Progress, TagOptions, TagStats, _batched, mark_duplicates, skip_committed, tag_partition
from .output import PartInfo, write_part

if TYPE_CHECKING:
    from ..tagging.tagger import Tagger
    from .output import PartStore

__all__ = ["Backend", "Broken", "ProcessBackend", "TaggerSpec", "coordinate", "run_parallel", "worker_tagger"]

log = logging.getLogger("yanreform")


@dataclass(frozen=True)
class TaggerSpec:
    """Which tagger a worker process builds (small and picklable: it travels instead of a model).

    ``fast``: the shipped encoder-free head (``Tagger.default(fast=True)``) rather than the full one;
    ``path``: a tagger folder written by :meth:`Tagger.save` (``fast`` is then ignored: the saved tagger
    says which features it uses).
    """

    fast: bool = False
    path: str | None = None

    def build(self) -> Tagger:
        """The tagger (loaded in this process). Raises ModelError / TaggerFormatError as the loaders do."""
        from ..tagging.tagger import Tagger

        if self.path is not None:
            return Tagger.load(self.path)
        return Tagger.default(fast=self.fast)


_WORKER_TAGGERS: dict[TaggerSpec, Tagger] = {}
_WORKER_LOCK = threading.Lock()


def worker_tagger(spec: TaggerSpec) -> Tagger:
    """The tagger of ``spec``, built on first use and kept for the life of this process (one model per
    worker process, whatever the number of tasks or threads that run in it)."""
    tagger = _WORKER_TAGGERS.get(spec)
    if tagger is None:
        with _WORKER_LOCK:
            tagger = _WORKER_TAGGERS.get(spec)
            if tagger is None:
                tagger = _WORKER_TAGGERS[spec] = spec.build()
    return tagger


def _threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _init_worker(threads: int) -> None:
    # Ctrl-C reaches the whole process group: the coordinator handles it and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if "OMP_NUM_THREADS" not in os.environ:
        # read by torch when it is first imported (only the full head imports it)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        os.environ.setdefault("MKL_NUM_THREADS", str(threads))


def _work(
    spec: TaggerSpec, start: int, records: list[Record], options: TagOptions, folder: str | None
) -> tuple[int, PartInfo | None, list[dict[str, Any]] | None, TagStats]:
    """One partition in a worker: tag it; with ``folder``, write its part file (not yet journalled)."""
    out, stats = tag_partition(records, worker_tagger(spec), options=options)
    if folder is not None:
        return start, write_part(folder, start, out), None, stats
    return start, None, out, stats


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued tasks and end its worker processes."""
    kill = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if kill is not None:
        kill()
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them
    manager = getattr(pool, "_executor_manager_thread", None)  # ... and this thread
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)
    # The pool's manager thread reaps the workers too: until it has finished, a worker it reaped first can
    # still look alive here (its exit code not yet recorded). Wait for it, so that the pool is really gone.
    if manager is not None and manager.is_alive():
        manager.join(timeout=30)


class Broken(Exception):
    """Raised by a backend's ``result`` when the task was lost with its worker (the pool must restart)."""


#: what a unit of work returns: (start, part written by the worker or None, output records or None, counts)
WorkResult = tuple[int, PartInfo | None, list[dict[str, Any]] | None, TagStats]


class Backend(Protocol):
    """Where partitions run: local processes (:class:`ProcessBackend`) or a Dask cluster
    (:class:`yanreform.batch.dask.DaskBackend`). ``writes_parts``: workers write part files themselves
    (they share the output's file system) rather than return the records."""

    writes_parts: bool

    def submit(self, start: int, records: list[Record], options: TagOptions, folder: str | None) -> Any: ...

    def finished(self, futures: list[Any], block: bool) -> list[Any]: ...

    def result(self, future: Any) -> WorkResult: ...

    def restart(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class ProcessBackend:
    """``workers`` local ``spawn`` processes (a :class:`~concurrent.futures.ProcessPoolExecutor`)."""

    writes_parts = True

    def __init__(self, workers: int, spec: TaggerSpec) -> None:
        self.workers = workers
        self.spec = spec
        self.pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(_threads_per_worker(self.workers),),
        )

    def submit(self, start: int, records: list[Record], options: TagOptions, folder: str | None) -> Any:
        return self.pool.submit(_work, self.spec, start, records, options, folder)

    def finished(self, futures: list[Any], block: bool) -> list[Any]:
        done, _ = wait(futures, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        return list(done)

    def result(self, future: Any) -> WorkResult:
        try:
            res: WorkResult = future.result()
        except BrokenProcessPool as exc:
            raise Broken(str(exc)) from None
        return res

    def restart(self) -> None:
        _stop(self.pool)
        self.pool = self._new()

    def stop(self) -> None:
        _stop(self.pool)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def run_parallel(
    records: Iterable[Record],
    *,
    workers: int,
    spec: TaggerSpec | None = None,
    store: PartStore | None = None,
    write: Callable[[dict[str, Any]], None] | None = None,
    batch_size: int = 256,
    options: TagOptions | None = None,
    progress: Progress | None = None,
    after_batch: Callable[[], None] | None = None,
    on_commit: Callable[[int], None] | None = None,
    retries: int = 2,
) -> TagStats:
    """Tag ``records`` in ``workers`` local processes; the output equals the single-process run's.

    Give exactly one of ``store`` (commit parts into it, like :func:`~yanreform.batch.engine.run_partitions`;
    partitions of ``store.partition_size`` records, those already committed skipped) or ``write`` (called
    with each output record in input order, like :func:`~yanreform.batch.engine.tag_records`; partitions of
    ``batch_size``; ``after_batch`` after each partition written). ``spec``: the tagger the workers build
    (default: the shipped full head). ``retries``: how many times the pool is restarted after a worker
    died before the run stops.

    Returns the counts (as :func:`run_partitions` / :func:`tag_records`). Raises InputError for bad
    arguments or an input that no longer matches a resumed store; what a worker raised that stops a run
    (ModelError, OSError); ModelError when workers keep dying (``retries`` exceeded).
    """
    if workers < 1:
        raise InputError(f"workers must be at least 1, not {workers}")
    _check(store, write, batch_size)
    backend = ProcessBackend(workers, spec or TaggerSpec())
    return coordinate(
        records,
        backend,
        in_flight=2 * workers,
        store=store,
        write=write,
        batch_size=batch_size,
        options=options,
        progress=progress,
        after_batch=after_batch,
        on_commit=on_commit,
        retries=retries,
    )


def _check(store: PartStore | None, write: Any, batch_size: int) -> None:
    if (store is None) == (write is None):
        raise InputError("give exactly one of store= or write=")
    check_batch_size(batch_size)


def coordinate(
    records: Iterable[Record],
    backend: Backend,
    *,
    in_flight: int,
    store: PartStore | None = None,
    write: Callable[[dict[str, Any]], None] | None = None,
    batch_size: int = 256,
    options: TagOptions | None = None,
    progress: Progress | None = None,
    after_batch: Callable[[], None] | None = None,
    on_commit: Callable[[int], None] | None = None,
    retries: int = 2,
) -> TagStats:
    """The coordinating loop shared by every runner: partitions (as one process cuts them) go to
    ``backend``, at most ``in_flight`` at a time; finished ones are journalled into ``store`` (any order) or
    written in input order. See :func:`run_parallel` for the arguments; ``backend`` is stopped on any
    exception (Ctrl-C included) and closed at the end."""
    _check(store, write, batch_size)
    opts = options or TagOptions()
    size = store.partition_size if store is not None else batch_size
    folder = str(store.folder) if store is not None and backend.writes_parts else None
    stats = TagStats()
    pending: dict[int, list[Record]] = {}  # start -> records of partitions submitted, not yet done
    done_out: dict[int, list[dict[str, Any]]] = {}  # streamed: finished, waiting for earlier ones
    order: deque[int] = deque()  # streamed: starts in input order, not yet written
    futures: dict[Any, int] = {}
    restarts = 0

    def submit(start: int) -> None:
        futures[backend.submit(start, pending[start], opts, folder)] = start

    def flush_streamed() -> None:
        while order and order[0] in done_out:
            for rec in done_out.pop(order.popleft()):
                write(rec)  # type: ignore[misc]
            if after_batch is not None:
                after_batch()

    def collect(block: bool) -> None:
        """Take in finished partitions (waiting for one when ``block``); restart a broken backend."""
        nonlocal restarts
        if not futures:
            return
        broken = False
        for fut in backend.finished(list(futures), block):
            start = futures.pop(fut)
            try:
                _, info, out, st = backend.result(fut)
            except Broken:
                broken = True
                continue
            recs = pending.pop(start)
            stats.add(st)
            if store is not None:
                if info is None:
                    info = write_part(store.folder, start, out or [])
                store.record(info)
                if on_commit is not None:
                    on_commit(store.committed_records)
            else:
                done_out[start] = out or []
            if progress is not None:
                progress.update(len(recs))
        if store is None:
            flush_streamed()
        if broken:
            restarts += 1
            if restarts > retries:
                raise ModelError(
                    f"worker processes died {restarts} times (killed, or out of memory?); "
                    f"{len(pending):,} partitions not done"
                )
            log.warning("a worker process died; re-running its %d unfinished partitions", len(pending))
            futures.clear()
            backend.restart()
            for start in sorted(pending):
                submit(start)

    try:
        for k, batch in enumerate(_batched(mark_duplicates(records), size)):
            start = k * size
            if store is not None and skip_committed(store, start, batch, stats):
                if progress is not None:
                    progress.update(len(batch))
                continue
            pending[start] = batch
            if store is None:
                order.append(start)
            submit(start)
            while len(futures) >= in_flight:
                collect(block=True)
            collect(block=False)
        while futures:
            collect(block=True)
    except BaseException:
        backend.stop()
        raise
    backend.close()
    return stats
