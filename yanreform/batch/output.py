"""Crash-safe batch output: work is committed in numbered parts with a journal, and assembled at the end.

A batch run writing to ``OUT`` keeps its work in the folder ``OUT.partial/`` beside it until it finishes::

    OUT.partial/
        journal.jsonl                  line 1: the run (format version, fingerprint of inputs and options,
                                       partition size); then one line per committed part
        part-000000000000.jsonl        the output records of input positions [0, 256)
        part-000000000256.jsonl        ... [256, 512)

The input stream is cut into *partitions* of ``partition_size`` consecutive records (partition ``k`` holds
positions ``[k * size, (k + 1) * size)``), a pure function of the input, so any runner — this process, local
worker processes, Dask tasks — computes the same partitions. Committing partition ``k`` is two steps:

1. :func:`write_part` (any process, idempotent): the part's records go to a temporary file in the folder,
   which is fsynced and renamed to ``part-<start>.jsonl`` (and the folder fsynced). A task re-run after a
   worker death or a Dask retry simply replaces the file with the same content.
2. :meth:`PartStore.record` (the coordinating process only): one line appended to the journal and fsynced.
   A part counts as committed only once its journal line is there and the file matches the line's byte
   count and SHA-256.

After Ctrl-C, SIGTERM, ``kill -9`` or a power cut, :meth:`PartStore.open` reads the journal (a last line cut
mid-write is dropped; a part whose file is missing or differs is dropped, so it is redone), removes
temporary and unjournalled files, and the run continues with the partitions not committed — nothing is
duplicated, nothing lost, whatever order parts were committed in. :meth:`PartStore.finish` writes ``OUT``
(any format, atomically: a temp file, fsync, rename) from the parts in position order, checking that they
cover positions ``0 .. n-1`` exactly, then removes the folder. Parts always hold JSONL output records, so the
output format can even change between the interrupted run and the resumed one.

The journal's fingerprint (input paths, sizes and content samples; the options that change records) guards
``--resume`` against continuing with other inputs or options: :meth:`PartStore.check` names the difference.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io.writers import OutputFormat, atomic_temp, fsync_dir, write_output

__all__ = [
    "JOURNAL",
    "PartInfo",
    "PartStore",
    "fingerprint_inputs",
    "partial_dir",
    "write_part",
]

log = logging.getLogger("yanreform")

JOURNAL = "journal.jsonl"
FORMAT_VERSION = 1
_SAMPLE = 1 << 16


def partial_dir(out: str | os.PathLike[str]) -> Path:
    """The work folder of an output: ``OUT.partial`` beside ``OUT``."""
    p = Path(out)
    return p.with_name(p.name + ".partial")


def part_name(start: int) -> str:
    """File name of the part starting at input position ``start``."""
    return f"part-{start:012d}.jsonl"


@dataclass(frozen=True)
class PartInfo:
    """A committed part: input positions ``[start, end)``, its file (name in the folder), ``records``
    (= end - start), ``bytes`` and ``sha256`` of the file, and ``fields``: the input fields its records
    carry (the table columns of the output)."""

    start: int
    end: int
    file: str
    records: int
    bytes: int
    sha256: str
    fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fields"] = list(self.fields)
        return d


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    fd, tmp = atomic_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_part(folder: str | os.PathLike[str], start: int, records: Sequence[dict[str, Any]]) -> PartInfo:
    """Write the output records of positions ``[start, start + len(records))`` as one part file, durably.

    Safe to call from any process and to repeat (the file is replaced atomically with the same content).
    The part is not committed until :meth:`PartStore.record` journals the returned :class:`PartInfo`.
    """
    folder = Path(folder)
    data = b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records)
    target = folder / part_name(start)
    _fsync_write(target, data)
    fsync_dir(folder)
    fields: dict[str, None] = {}
    for r in records:
        fields.update(dict.fromkeys(k for k in r if k not in _NOT_FIELDS))
    return PartInfo(
        start=start,
        end=start + len(records),
        file=target.name,
        records=len(records),
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        fields=tuple(fields),
    )


# keys of an output record that are not input fields (they have columns of their own)
_NOT_FIELDS = frozenset({"id", "tags", "error", "text", "passages"})


def fingerprint_inputs(specs: Sequence[str]) -> list[dict[str, Any]]:
    """What identifies the inputs of a run: per input its path, size and a hash of its first and last
    64 KiB (stdin: only its name). Cheap for any file size; a changed or replaced file differs."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        if spec == "-":
            out.append({"path": "-"})
            continue
        p = Path(spec)
        try:
            size = p.stat().st_size
            with open(p, "rb") as f:
                head = f.read(_SAMPLE)
                f.seek(max(0, size - _SAMPLE))
                tail = f.read(_SAMPLE)
        except OSError as exc:
            raise InputError(f"{spec}: cannot read ({exc.strerror or exc})") from None
        digest = hashlib.sha256(head + b"|" + tail).hexdigest()[:32]
        out.append({"path": str(p.resolve()), "size": size, "sample": digest})
    return out


class PartStore:
    """The committed parts of one batch run in ``OUT.partial/`` (see the module docstring).

    Make one with :meth:`create` (a new run) or :meth:`open` (an interrupted run, for ``--resume``).
    ``fingerprint`` is the run's identity (inputs and options); ``partition_size`` the records per part;
    ``parts`` the committed parts by start position.
    """

    def __init__(self, out: Path, folder: Path, fingerprint: dict[str, Any], partition_size: int) -> None:
        self.out = out
        self.folder = folder
        self.fingerprint = fingerprint
        self.partition_size = partition_size
        self.parts: dict[int, PartInfo] = {}
        #: error records among those :meth:`records` yielded (all of them after :meth:`finish`)
        self.errors_written = 0

    # -- opening ------------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, out: str | os.PathLike[str], fingerprint: dict[str, Any], partition_size: int
    ) -> PartStore:
        """Start a new run's folder. Raises InputError when one is already there (an unfinished run:
        resume it or discard it first) or cannot be made."""
        if partition_size < 1:
            raise InputError(f"partition size must be at least 1, not {partition_size}")
        out = Path(out)
        folder = partial_dir(out)
        if folder.exists():
            raise InputError(f"{folder} already exists (an unfinished run)")
        if not (out.parent if str(out.parent) else Path(".")).is_dir():
            raise InputError(f"{out}: folder {out.parent} does not exist")
        try:
            folder.mkdir(mode=0o777)
        except OSError as exc:
            raise InputError(f"{folder}: cannot create ({exc.strerror or exc})") from None
        store = cls(out, folder, fingerprint, partition_size)
        header = {
            "yanreform_partial": FORMAT_VERSION,
            "output": out.name,
            "partition_size": partition_size,
            "fingerprint": fingerprint,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        _fsync_write(folder / JOURNAL, (json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8"))
        fsync_dir(folder)
        return store

    @classmethod
    def open(cls, out: str | os.PathLike[str]) -> PartStore | None:
        """The unfinished run of ``out``, or None when there is none. Repairs what a crash left: drops a
        journal line cut mid-write, parts whose file is missing or differs from its line, temporary and
        unjournalled files. Raises InputError for a folder that is not a yanreform work folder."""
        out = Path(out)
        folder = partial_dir(out)
        if not folder.is_dir():
            return None
        jpath = folder / JOURNAL
        try:
            raw = jpath.read_bytes()
        except OSError:
            raise InputError(f"{folder}: not a yanreform work folder (no readable {JOURNAL})") from None
        lines = raw.split(b"\n")
        complete = lines[:-1]  # what follows the last newline was cut by a crash (or is empty)
        try:
            header = json.loads(complete[0]) if complete else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("yanreform_partial") != FORMAT_VERSION:
            raise InputError(f"{jpath}: not a yanreform journal (or of another version); remove {folder}")
        store = cls(out, folder, header.get("fingerprint") or {}, int(header.get("partition_size") or 1))
        kept_lines = [complete[0]]
        for k, line in enumerate(complete[1:], 2):
            try:
                d = json.loads(line)
                info = PartInfo(**{**d, "fields": tuple(d.get("fields") or ())})
            except (ValueError, TypeError):
                log.warning("%s:%d: unreadable journal line dropped", jpath, k)
                continue
            f = folder / info.file
            if not f.is_file() or f.stat().st_size != info.bytes or _sha256(f) != info.sha256:
                log.warning(
                    "%s: part %s is missing or damaged: its records are tagged again", folder, info.file
                )
                continue
            store.parts[info.start] = info
            kept_lines.append(line)
        if len(kept_lines) != len(complete) or lines[-1]:
            _fsync_write(jpath, b"\n".join(kept_lines) + b"\n")
        store.cleanup()
        return store

    def cleanup(self) -> None:
        """Remove what interrupted writes left: temporary files and parts never journalled in the folder,
        and the temporary file of an interrupted final write beside ``OUT``."""
        named = {p.file for p in self.parts.values()} | {JOURNAL}
        for f in self.folder.iterdir():
            if f.name not in named:
                with contextlib.suppress(OSError):
                    f.unlink() if f.is_file() else shutil.rmtree(f)
        beside = self.out.parent if str(self.out.parent) else Path(".")
        for f in beside.glob(f".{self.out.name}.*.tmp"):
            with contextlib.suppress(OSError):
                f.unlink()

    def check(self, fingerprint: dict[str, Any]) -> None:
        """InputError naming what differs when ``fingerprint`` (this run) is not the journal's."""
        old, new = self.fingerprint, fingerprint
        for key in sorted(set(old) | set(new)):
            if old.get(key) == new.get(key):
                continue
            if key == "inputs":
                a, b = old.get(key) or [], new.get(key) or []
                if [x.get("path") for x in a] != [x.get("path") for x in b]:
                    what = "the inputs differ from the interrupted run's"
                else:
                    changed = next(x["path"] for x, y in zip(a, b, strict=True) if x != y)
                    what = f"{changed} changed since the interrupted run"
            else:
                what = f"{key} was {old.get(key)!r} in the interrupted run, now {new.get(key)!r}"
            raise InputError(f"cannot resume {self.out}: {what}")

    # -- progress -----------------------------------------------------------------------------------------
    @property
    def committed_records(self) -> int:
        """Records in committed parts."""
        return sum(p.records for p in self.parts.values())

    def is_committed(self, start: int) -> bool:
        """True when the partition starting at ``start`` is committed."""
        return start in self.parts

    def record(self, info: PartInfo) -> None:
        """Journal a part written by :func:`write_part` (appended and fsynced): it is committed. Only the
        coordinating process calls this. Recording the same part again is a no-op."""
        if self.parts.get(info.start) == info:
            return
        line = json.dumps(info.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n"
        fd = os.open(self.folder / JOURNAL, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.parts[info.start] = info

    def commit(self, start: int, records: Sequence[dict[str, Any]]) -> PartInfo:
        """Write and journal one part (:func:`write_part` + :meth:`record`)."""
        info = write_part(self.folder, start, records)
        self.record(info)
        return info

    # -- the end ------------------------------------------------------------------------------------------
    def records(self) -> Iterator[dict[str, Any]]:
        """Every committed output record in input order. Raises InputError when the parts do not cover
        positions 0 .. n-1 exactly (a gap or an overlap)."""
        pos = 0
        self.errors_written = 0
        for start in sorted(self.parts):
            info = self.parts[start]
            if start != pos:
                what = "missing" if start > pos else "overlapping"
                raise InputError(
                    f"{self.folder}: records {min(pos, start):,}-{max(pos, start) - 1:,} are {what}"
                )
            with open(self.folder / info.file, encoding="utf-8") as f:
                for line in f:
                    rec = json.loads(line)
                    self.errors_written += "error" in rec
                    yield rec
            pos = info.end

    def fields(self) -> list[str]:
        """The input fields of all parts, in first-seen order (the kept columns of a table output)."""
        seen: dict[str, None] = {}
        for start in sorted(self.parts):
            seen.update(dict.fromkeys(self.parts[start].fields))
        return list(seen)

    def finish(
        self,
        fmt: OutputFormat,
        *,
        codes: Sequence[str] = (),
        fields: Sequence[str] | None = None,
        with_text: bool = False,
    ) -> int:
        """Write ``OUT`` from the parts (atomically) and remove the work folder; returns the record count.
        ``fields``: the table columns for input fields (default :meth:`fields`)."""
        cols = self.fields() if fields is None else list(fields)
        n = write_output(self.out, self.records(), fmt, codes=codes, fields=cols, with_text=with_text)
        self.discard()
        return n

    def discard(self) -> None:
        """Remove the work folder and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
