"""Reading collections: decoding bytes (:func:`decode_collection`), files (:func:`read_collection`) and the
bundled collections (:func:`load_corpus`)."""

from __future__ import annotations

import re
import tomllib
from os import PathLike
from pathlib import Path

from .._resources import corpus_dir
from ..errors import InputError, ParseError
from .parse import parse_collection
from .records import Corpus

__all__ = ["available_corpora", "decode_collection", "load_corpus", "read_collection"]


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_collection(data: bytes, *, source: str = "<bytes>") -> tuple[str, str]:
    """Decode collection bytes; return ``(text, encoding)``.

    A byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32) and is dropped; without one, strict
    UTF-8 is tried, then strict GB18030 (a superset of GBK and GB2312). UTF-16 without a BOM is
    recognised by its zero bytes.

    Raises:
        ParseError: the bytes decode under none of these; the message gives the byte offset and
            line of the first undecodable byte.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(enc), enc
            except UnicodeDecodeError as exc:
                raise _decode_error(data, exc, source, enc, len(bom)) from None
    if b"\x00" in data and len(data) % 2 == 0:
        # Text in UTF-8 or GB18030 never holds a zero byte; BOM-less UTF-16 does (newlines, ASCII
        # punctuation), on the odd side for little-endian.
        enc = "utf-16-le" if data[1::2].count(b"\x00") > data[0::2].count(b"\x00") else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_exc:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb_exc:
            # Report the later failure point: the file got further as GB18030 if that is larger.
            worst = gb_exc if gb_exc.start > utf8_exc.start else utf8_exc
            raise _decode_error(data, worst, source, "UTF-8 or GB18030", 0) from None


def _decode_error(data: bytes, exc: UnicodeDecodeError, source: str, enc: str, offset: int) -> ParseError:
    pos = exc.start + offset
    line = data[:pos].count(b"\n") + 1
    bad = data[pos : pos + 4].hex(" ")
    return ParseError(
        f"{source}: line {line}: undecodable bytes at byte offset {pos} ({bad}) as {enc}: {exc.reason}"
    )


def read_collection(
    path: str | PathLike[str], *, id_prefix: str | None = None, name: str | None = None
) -> Corpus:
    """Read and parse a collection file (encoding detected as in :func:`decode_collection`).

    Args:
        path: the file.
        id_prefix: case id prefix (default: the file's stem, spaces replaced by ``_``, as
            :func:`collection_id_prefix` gives it). This is the one id rule for files: ``read_collection``,
            ``yanreform tag`` and ``yanreform index build`` all give ``<stem>-01``, ``<stem>-01-i1`` ...,
            so ids stay unique when several files are tagged or indexed together. Strings parsed by
            :func:`parse_collection` have no file name and use ``"case"``.
        name: corpus name (default: the file name without extension).

    Returns:
        The corpus; ``meta`` holds ``header``, ``path`` and ``encoding``.

    Raises:
        FileNotFoundError / OSError: the file cannot be read.
        ParseError: undecodable bytes, empty text or no case structure (message names the file and line).
    """
    p = Path(path)
    data = p.read_bytes()
    text, encoding = decode_collection(data, source=str(p))
    prefix = id_prefix or collection_id_prefix(p)
    corpus = parse_collection(text, id_prefix=prefix, name=name or p.stem, source=str(p))
    corpus.meta.update({"path": str(p), "encoding": encoding})
    return corpus


def collection_id_prefix(path: str | PathLike[str]) -> str:
    """The case-id prefix of a collection file: its stem with runs of whitespace replaced by ``_``
    (``"盐城 2024.txt"`` -> ``"盐城_2024"``); ``"case"`` for an empty stem."""
    return re.sub(r"\s+", "_", Path(path).stem.strip()) or "case"


def available_corpora() -> list[str]:
    """Names of the bundled collections (``corpus/<name>.toml``)."""
    try:
        return sorted(p.stem for p in corpus_dir().glob("*.toml"))
    except FileNotFoundError:
        return []


def load_corpus(name: str = "yancheng-2024") -> Corpus:
    """Load a bundled collection by name (its metadata ``corpus/<name>.toml`` names the text file and prefix).

    Returns:
        The corpus with ``name`` set and ``meta`` = the metadata file's fields plus ``header``, ``path``,
        ``encoding``.

    Raises:
        InputError: no bundled collection of that name (the message lists those available) or a broken
            metadata file.
        ParseError: the collection text does not parse.
    """
    available = available_corpora()
    if name not in available:
        raise InputError(f"unknown bundled corpus {name!r}; available: {', '.join(available) or 'none'}")
    meta_path = corpus_dir() / f"{name}.toml"
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{meta_path}: invalid corpus metadata: {exc}") from None
    file = meta.get("file")
    if not isinstance(file, str) or not file:
        raise InputError(f"{meta_path}: field 'file' (the collection text file) is missing or not a string")
    text_path = corpus_dir() / file
    if not text_path.is_file():
        raise InputError(f"{meta_path}: field 'file' names {file!r}, which is not in {corpus_dir()}")
    prefix = meta.get("id_prefix") or "case"
    corpus = read_collection(text_path, id_prefix=str(prefix), name=str(meta.get("name", name)))
    corpus.meta = {**meta, **corpus.meta}
    return corpus
