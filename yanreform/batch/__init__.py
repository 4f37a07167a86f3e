"""Batch tagging as library code: the engine the command line, ``tag_frame`` and runners call.

* :mod:`.engine`: :func:`tag_partition` (records -> output records, the unit of work per partition),
  :func:`tag_records` (streaming to a callback), :func:`run_partitions` (committing into a part store),
  :func:`mark_duplicates`, :class:`TagStats`, :class:`TagOptions`.
* :mod:`.output`: crash-safe output in committed parts with a journal (:class:`PartStore`,
  :func:`write_part`), assembled into the final file at the end; ``--resume`` continues from it.
* :mod:`.parallel`: local worker processes (``--workers N``: :func:`run_parallel`, :class:`TaggerSpec`).
* :mod:`.dask`: a Dask cluster (``--dask ADDRESS``; :func:`tag_dask` for bags and dataframes), imported
  only when used (the ``dask`` extra).
"""

from typing import Any

from .engine import (
    TagOptions,
    TagStats,
    mark_duplicates,
    output_record,
    plural,
    run_partitions,
    tag_partition,
    tag_records,
)
from .output import PartInfo, PartStore, fingerprint_inputs, partial_dir, write_part
from .parallel import TaggerSpec, run_parallel


def __getattr__(name: str) -> Any:
    if name == "tag_dask":  # dask is imported only when asked for
        from .dask import tag_dask

        return tag_dask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PartInfo",
    "PartStore",
    "TagOptions",
    "TagStats",
    "TaggerSpec",
    "fingerprint_inputs",
    "mark_duplicates",
    "output_record",
    "partial_dir",
    "plural",
    "run_parallel",
    "run_partitions",
    "tag_dask",
    "tag_partition",
    "tag_records",
    "write_part",
]
