"""Word documents: .docx (python-docx: paragraphs and tables, merged cells once) and the legacy binary
.doc / .wps formats through a converter found on the machine.

A .docx is read in document order: paragraphs, and tables either as records (a 申报表 form or a list, see
:mod:`.document`) or as text, row by row. Merged cells (horizontally or vertically) are read once. When the
tables give records and the paragraphs hold no body text (only a heading such as 申报表), the tables'
records are all; otherwise the running text gives its records too (collection or whole text).

.doc (Word 97-2003) and .wps (Kingsoft WPS Writer, the same binary family) are converted by the first of:
LibreOffice headless (``soffice --convert-to docx``: tables kept), ``antiword``, ``catdoc``. When none is
installed the error names what to install, or says to save the file as .docx.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ...errors import InputError
from ..records import Record
from ._base import log, need
from .document import table_records, text_records

#: seconds a converter may take for one file
CONVERT_TIMEOUT = 180

_BODY_LINE = re.compile(r"[。！？；]")


def _has_body(text: str) -> bool:
    """True when some line reads as body text (30+ characters with sentence punctuation)."""
    return any(len(ln.strip()) >= 30 and _BODY_LINE.search(ln) for ln in text.splitlines())


def _grid(table: Any) -> list[list[str]]:
    """Cell texts row by row; a merged cell appears once (in its first row and column)."""
    seen: dict[Any, None] = {}
    grid: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            tc = cell._tc
            if tc in seen:
                continue
            seen[tc] = None
            cells.append("\n".join(p.text for p in cell.paragraphs).strip())
        grid.append(cells)
    return grid


def docx_records(
    path: Path, spec: str, *, level: str = "initiative", name_as: Path | None = None
) -> list[Record]:
    """Records of a .docx file (see the module docstring); ``name_as``: the file to name ids after (a
    converted .doc keeps its own name). Raises InputError for a file python-docx cannot open."""
    docx = need("docx", spec, ".docx", "docx")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises PackageNotFoundError/BadZipFile/KeyError on bad files
        raise InputError(f"{spec}: not a readable .docx document ({type(exc).__name__}: {exc})") from None
    from docx.table import Table

    lines: list[str] = []
    table_recs: list[Record] = []
    n = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            n += 1
            grid = _grid(block)
            recs = table_records(grid, n, spec)
            if recs is not None:
                table_recs.extend(recs)
            else:
                lines.extend("\t".join(c for c in row if c) for row in grid)
        else:
            lines.append(block.text)
    text = "\n".join(lines)
    p = name_as or path
    if table_recs and not _has_body(text):
        return table_recs
    return text_records(text, spec, p, level=level) + table_recs


def _run(cmd: list[str], spec: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, capture_output=True, timeout=CONVERT_TIMEOUT, check=False)


def _soffice(path: Path, spec: str, level: str) -> list[Record]:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe is not None
    with tempfile.TemporaryDirectory(prefix="yanreform-convert-") as tmp:
        # a private profile: a running LibreOffice (or another conversion) would otherwise take the call
        profile = Path(tmp, "profile").as_uri()
        src = Path(tmp, "in" + path.suffix.lower())
        shutil.copyfile(path, src)
        r = _run(
            [
                exe,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "docx",
                "--outdir",
                tmp,
                str(src),
            ],
            spec,
        )
        out = Path(tmp, "in.docx")
        if r.returncode != 0 or not out.exists():
            msg = (r.stderr or r.stdout).decode("utf-8", "replace").strip().splitlines()
            raise InputError(f"{spec}: LibreOffice could not convert it ({msg[-1] if msg else 'no output'})")
        return docx_records(out, spec, level=level, name_as=path)


def _text_tool(cmd: list[str], tool: str, path: Path, spec: str, level: str) -> list[Record]:
    r = _run([*cmd, str(path)], spec)
    if r.returncode != 0:
        msg = r.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"{spec}: {tool} could not read it ({msg[-1] if msg else f'exit {r.returncode}'})")
    text = r.stdout.decode("utf-8", "replace")
    return text_records(text, spec, path, level=level)


#: converters in order of preference: (program, how to call it)
CONVERTERS = ("soffice", "antiword", "catdoc")


def available_converters() -> list[str]:
    """The converters for .doc/.wps found on this machine, in the order they are tried."""
    found = []
    if shutil.which("soffice") or shutil.which("libreoffice"):
        found.append("soffice")
    found += [t for t in ("antiword", "catdoc") if shutil.which(t)]
    return found


def legacy_records(
    path: Path, spec: str, *, level: str = "initiative", converters: list[str] | None = None
) -> list[Record]:
    """Records of a .doc/.wps file through the first converter that works (``converters``: which to try,
    default :func:`available_converters`). Raises InputError naming what to install when none is there, or
    the last converter's complaint when none could read it."""
    tools = available_converters() if converters is None else converters
    kind = path.suffix.lower() or ".doc"
    if not tools:
        raise InputError(
            f"{spec}: reading {kind} files needs a converter: install LibreOffice "
            "(apt-get install libreoffice-writer-nogui), antiword or catdoc, or save the file as .docx"
        )
    last: InputError | None = None
    for tool in tools:
        try:
            if tool == "soffice":
                return _soffice(path, spec, level)
            if tool == "antiword":
                # -w 0: a paragraph per line, as the parser expects; UTF-8 output
                return _text_tool(["antiword", "-m", "UTF-8.txt", "-w", "0"], tool, path, spec, level)
            if tool == "catdoc":
                return _text_tool(["catdoc", "-d", "utf-8", "-w"], tool, path, spec, level)
            raise InputError(f"{spec}: unknown converter {tool!r}; expected one of {', '.join(CONVERTERS)}")
        except subprocess.TimeoutExpired:
            last = InputError(f"{spec}: {tool} took more than {CONVERT_TIMEOUT} s")
        except InputError as exc:
            last = exc
        log.debug("%s: %s failed: %s", spec, tool, last)
    assert last is not None
    raise last
