"""Writers of batch output (JSONL or CSV) to stdout or a file, and what ``--resume`` needs to continue one.

Writers (:func:`open_output`) write JSONL or CSV to stdout or to a file, atomically (a temporary file in the
same folder, ``os.replace`` on :meth:`RecordWriter.commit`), or append to an existing output with
``resume=True`` after :func:`read_done_ids` collected the ids already there (a truncated last line left by a
crash is dropped).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

from ..errors import InputError

__all__ = ["OutputFormat", "RecordWriter", "open_output", "read_done_ids"]

OutputFormat = Literal["jsonl", "csv"]


def read_done_ids(path: str | os.PathLike[str], fmt: OutputFormat) -> set[str]:
    """Ids (as ``str``) already written to an output, for ``--resume``; repairs a crash-truncated tail.

    A last line without its newline (or, for JSONL, a last line that is not valid JSON) is a record cut by a
    crash: it is removed from the file so that appending continues on a clean line. A missing file gives an
    empty set. Raises :class:`InputError` when a line other than the last is unreadable (the file is not an
    output of ``yanreform tag``).
    """
    p = Path(path)
    if not p.exists():
        return set()
    _drop_partial_tail(p)
    done: set[str] = set()
    if fmt == "jsonl":
        with open(p, "rb") as f:
            lines = enumerate(f, 1)
            prev: tuple[int, bytes] | None = None
            for item in lines:
                if prev is not None:
                    done.add(_jsonl_id(p, *prev, last=False))
                prev = item
            if prev is not None:
                rid = _jsonl_id(p, *prev, last=True)
                if rid is None:
                    _truncate_last_line(p)
                else:
                    done.add(rid)
        return done
    with open(p, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return done
        if "id" not in header:
            raise InputError(f"{p}: cannot resume: no 'id' column in its header")
        i = header.index("id")
        for row in reader:
            if len(row) > i:
                done.add(row[i])
    return done


def _jsonl_id(p: Path, lineno: int, raw: bytes, *, last: bool) -> Any:
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
        return str(obj["id"])
    except (ValueError, KeyError, TypeError):
        if last:
            return None
        raise InputError(f"{p}:{lineno}: cannot resume: not an output record of yanreform tag") from None


def _drop_partial_tail(p: Path) -> None:
    """Cut the file after its last newline (what follows is a half-written line)."""
    size = p.stat().st_size
    if size == 0:
        return
    with open(p, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        pos, chunk = size, 1 << 16
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            data = f.read(pos - start)
            k = data.rfind(b"\n")
            if k >= 0:
                f.truncate(start + k + 1)
                return
            pos = start
        f.truncate(0)


def _truncate_last_line(p: Path) -> None:
    with open(p, "rb+") as f:
        data_end = f.seek(0, os.SEEK_END)
        if data_end == 0:
            return
        f.seek(max(0, data_end - (1 << 20)))
        tail = f.read()
        k = tail[:-1].rfind(b"\n")  # tail ends with the newline of the bad line
        f.truncate(data_end - len(tail) + k + 1 if k >= 0 else 0)


class RecordWriter:
    """Writes output records (dicts) as JSONL or CSV; see :func:`open_output`.

    ``write(record)`` takes the dict made by the caller (``id``, optional meta fields, ``tags`` or
    ``error``). :meth:`commit` makes the output final (atomic replace for a new file); :meth:`abort` removes
    a temporary file, leaving any previous output untouched. Usable as a context manager (commit on success,
    abort on any exception, KeyboardInterrupt included).
    """

    def __init__(
        self,
        stream: IO[str],
        fmt: OutputFormat,
        *,
        codes: Sequence[str] = (),
        meta_fields: Sequence[str] = (),
        target: Path | None = None,
        tmp: Path | None = None,
        write_header: bool = True,
        owns_stream: bool = True,
    ) -> None:
        self.fmt = fmt
        self.codes = list(codes)
        self.meta_fields = list(meta_fields)
        self.target = target
        self._tmp = tmp
        self._stream = stream
        self._owns = owns_stream
        self._closed = False
        self.count = 0
        self._csv = None
        if fmt == "csv":
            self._csv = csv.writer(stream, lineterminator="\n")
            if write_header:
                self._csv.writerow(self.columns)

    @property
    def columns(self) -> list[str]:
        """CSV columns: id, meta fields, categories, one ``<code>`` score column per category, error."""
        return ["id", *self.meta_fields, "categories", *self.codes, "error"]

    def write(self, record: dict[str, Any]) -> None:
        """Write one output record."""
        if self._csv is None:
            self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            tags = record.get("tags") or []
            scores = {t["code"]: t["score"] for t in tags}
            row: list[Any] = [record["id"]]
            row += [record.get(m, "") for m in self.meta_fields]
            row.append(";".join(t["code"] for t in tags))
            row += [scores.get(c, 0.0) for c in self.codes]
            row.append(record.get("error", "") or "")
            self._csv.writerow(row)
        self.count += 1

    def flush(self) -> None:
        """Flush buffered output (called after each batch, so a crash loses at most one batch)."""
        self._stream.flush()

    def commit(self) -> None:
        """Finish the output: flush, and move a temporary file into place."""
        if self._closed:
            return
        self._closed = True
        self._stream.flush()
        if self._owns:
            with contextlib.suppress(OSError):
                os.fsync(self._stream.fileno())
            self._stream.close()
        if self._tmp is not None and self.target is not None:
            os.replace(self._tmp, self.target)

    def abort(self) -> None:
        """Stop without committing: close, and remove the temporary file (if any)."""
        if self._closed:
            return
        self._closed = True
        if self._owns:
            with contextlib.suppress(OSError):
                self._stream.close()
        else:
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def open_output(
    path: str | os.PathLike[str] | None,
    fmt: OutputFormat,
    *,
    codes: Sequence[str] = (),
    meta_fields: Sequence[str] = (),
    resume: bool = False,
    stdout: IO[str] | None = None,
) -> RecordWriter:
    """Open the output of a batch run.

    ``path=None`` writes to ``stdout`` (default ``sys.stdout``). A new file is written to a temporary file in
    the same folder and moved into place by :meth:`RecordWriter.commit`. With ``resume=True`` an existing
    file is appended to instead (call :func:`read_done_ids` first: it repairs a truncated tail); a CSV whose
    header differs from the columns of this run raises :class:`InputError`. ``codes``: category codes (CSV
    score columns); ``meta_fields``: extra CSV columns between id and categories.
    """
    if fmt not in ("jsonl", "csv"):
        raise InputError(f"unknown output format {fmt!r}; expected jsonl or csv")
    if path is None:
        return RecordWriter(
            stdout or sys.stdout, fmt, codes=codes, meta_fields=meta_fields, owns_stream=False
        )
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target}: is a folder; -o needs a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: folder {folder} does not exist")
    if resume and target.exists() and target.stat().st_size > 0:
        write_header = True
        if fmt == "csv":
            with open(target, encoding="utf-8", newline="") as f:
                header = next(csv.reader(f), None)
            expected = ["id", *meta_fields, "categories", *codes, "error"]
            if header is not None:
                if header != expected:
                    raise InputError(
                        f"{target}: cannot resume: its columns differ from this run's ({len(header)} vs "
                        f"{len(expected)} columns)"
                    )
                write_header = False
        stream = open(target, "a", encoding="utf-8", newline="")  # noqa: SIM115 - closed by commit/abort
        return RecordWriter(
            stream, fmt, codes=codes, meta_fields=meta_fields, target=target, write_header=write_header
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{target}: cannot write in {folder} ({exc.strerror or exc})") from None
    stream = os.fdopen(fd, "w", encoding="utf-8", newline="")
    return RecordWriter(stream, fmt, codes=codes, meta_fields=meta_fields, target=target, tmp=Path(tmp))
