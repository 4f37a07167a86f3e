"""The jieba backends (jieba-rs through rjieba, and the pure-Python reference) and dictionary files.

Both backends get the same dictionary entries with the same frequencies and run with HMM on; the differences
that remain raw are handled in :mod:`yanreform.text._protect` (see :mod:`yanreform.text.segment`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import _resources
from ..errors import InputError, ModelError
from .normalize import normalize_text

_RE_TAG = re.compile(r"[A-Za-z]{1,8}")


class _RjiebaBackend:
    name = "rjieba"

    def __init__(self) -> None:
        import rjieba

        self._jb = rjieba.Jieba()
        # HMM on, as in the reference (rjieba's default); bound directly: this is the hot call.
        self.cut: Callable[[str], list[str]] = self._jb.cut

    def add_word(self, word: str, freq: int, tag: str | None) -> None:
        self._jb.add_word(word, freq, tag)

    def suggest_freq(self, word: str) -> int:
        return int(self._jb.suggest_freq(word))


@contextlib.contextmanager
def _quiet_jieba() -> Iterator[None]:
    """Silence jieba's DEBUG chatter to stderr while loading, restoring its logger level afterwards."""
    jlog = logging.getLogger("jieba")
    old = jlog.level
    jlog.setLevel(logging.WARNING)
    try:
        yield
    finally:
        jlog.setLevel(old)


class _JiebaBackend:
    name = "jieba"

    def __init__(self) -> None:
        import jieba  # its import sets the "jieba" logger to DEBUG, so silence only after importing

        with _quiet_jieba():
            tk = jieba.Tokenizer()
            # jieba writes its prefix-dictionary cache to the system temp dir by default; keep it with ours.
            tk.tmp_dir = str(_resources.ensure_cache_dir())
            tk.initialize()
        self._tk = tk

    def cut(self, text: str) -> list[str]:
        return self._tk.lcut(text, HMM=True)

    def add_word(self, word: str, freq: int, tag: str | None) -> None:
        # Same effect as jieba's add_word, except that re-adding a known word replaces its count in the total
        # instead of adding to it: that is what jieba-rs does, and the total enters every path probability.
        tk = self._tk
        old = tk.FREQ.get(word, 0)
        tk.FREQ[word] = freq
        tk.total += freq - old
        if tag:
            tk.user_word_tag_tab[word] = tag
        for i in range(1, len(word)):
            tk.FREQ.setdefault(word[:i], 0)

    def suggest_freq(self, word: str) -> int:
        return int(self._tk.suggest_freq(word, False))


def _rjieba_available() -> bool:
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return False
    return True


def _make_backend(backend: str) -> _RjiebaBackend | _JiebaBackend:
    if backend == "auto":
        backend = "rjieba" if _rjieba_available() else "jieba"
    if backend == "rjieba":
        try:
            return _RjiebaBackend()
        except ImportError as exc:
            raise ModelError(
                "backend='rjieba' needs the rjieba package (pip install rjieba); "
                "use backend='jieba' or 'auto'"
            ) from exc
    if backend == "jieba":
        return _JiebaBackend()
    raise InputError(f"backend must be 'auto', 'rjieba' or 'jieba', not {backend!r}")


# ------------------------------------------------------------------------------------------------
# dictionaries


def parse_userdict(path: str | os.PathLike[str]) -> list[tuple[str, int | None, str | None]]:
    """Read a dictionary file into ``(word, freq or None, tag or None)`` entries (format in the module doc).

    Raises InputError naming the file and line for a malformed line, FileNotFoundError if the file is absent.
    """
    p = Path(path)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: dictionary is not UTF-8 ({exc})") from exc
    entries: list[tuple[str, int | None, str | None]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word, rest = parts[0], parts[1:]
        freq: int | None = None
        tag: str | None = None
        if rest and rest[0].isdigit():
            freq = int(rest.pop(0))
            if freq <= 0:
                raise InputError(
                    f"{p}:{lineno}: frequency must be a positive integer, got {freq} in {line!r}"
                )
        if rest and _RE_TAG.fullmatch(rest[0]):
            tag = rest.pop(0)
        if rest:
            raise InputError(
                f"{p}:{lineno}: expected 'word [freq] [tag]' (freq a positive integer, tag letters), "
                f"got {line!r}"
            )
        entries.append((word, freq, tag))
    return entries


def _check_word(word: Any, where: str) -> str:
    if not isinstance(word, str):
        raise TypeError(f"{where} must be str, not {type(word).__name__}")
    norm = normalize_text(word).strip()
    if not norm:
        raise InputError(f"{where}: empty word")
    if any(ch.isspace() for ch in norm):
        raise InputError(f"{where}: a dictionary word cannot contain whitespace: {word!r}")
    return norm
