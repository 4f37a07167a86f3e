"""The reform-category taxonomy: categories with definitions, seed terms and exemplar sentences.

The shipped taxonomy lives in ``models/taxonomy.toml``; users may load their own file with any codes.
The schema::

    version = 1
    [[category]]
    code = "digitalisation"          # required, unique, non-empty
    name = "数字赋能"                  # required
    name_en = "..."                   # optional strings
    definition = "..."
    definition_en = "..."
    seeds = ["..."]                   # required, non-empty: lexicon terms
    weak_seeds = ["..."]              # optional weaker cues
    not_qualifying = ["..."]          # optional: phrases in which a seed is not evidence (凝聚智慧 for 智慧)
    exemplars = ["..."]               # optional exemplar sentences
    [outside]                         # optional: work outside the taxonomy that must get no tag
    definition = "..."
    exemplars = ["..."]
    terms = ["..."]                   # optional cues of outside work (练兵, 表彰, 党建 ...)

A malformed file raises :class:`~yanreform.errors.TaxonomyError` whose message names the file, the line
and the field at fault.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TaxonomyError

__all__ = ["Category", "Taxonomy", "TaxonomyError"]

log = logging.getLogger("yanreform")

SUPPORTED_VERSIONS = (1,)
_CATEGORY_KEYS = (
    "code",
    "name",
    "name_en",
    "definition",
    "definition_en",
    "seeds",
    "weak_seeds",
    "not_qualifying",
    "exemplars",
)
# keys written by to_dict only when non-empty: taggers saved before they existed keep their taxonomy hash
_OPTIONAL_KEYS = ("not_qualifying",)
_HEADER_RE = re.compile(r"^\s*\[\[\s*category\s*\]\]")
_TABLE_RE = re.compile(r"^\s*\[")
_TOML_POS_RE = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True, slots=True)
class Category:
    """One reform category.

    Attributes:
        code: stable identifier (part of the public API, e.g. ``"digitalisation"``).
        name: Chinese name; ``name_en``: English name.
        definition / definition_en: what counts as this category.
        seeds: lexicon terms whose presence is strong evidence (simplified script; matched on
            normalised text).
        weak_seeds: weaker cues (counted as a separate, lower-weight feature).
        not_qualifying: phrases in which a seed or weak seed of this category is not evidence for it (the
            senses the annotation guide rules out: 智慧 in 凝聚智慧, 联建 in 党建联建).
        exemplars: exemplar sentences, used as semantic prototypes and as evidence.
    """

    code: str
    name: str
    name_en: str = ""
    definition: str = ""
    definition_en: str = ""
    seeds: tuple[str, ...] = ()
    weak_seeds: tuple[str, ...] = ()
    exemplars: tuple[str, ...] = ()
    not_qualifying: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (tuples become lists; empty optional fields left out)."""
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in ((k, getattr(self, k)) for k in _CATEGORY_KEYS)
            if not (k in _OPTIONAL_KEYS and not v)
        }


@dataclass(frozen=True)
class Taxonomy:
    """An ordered collection of :class:`Category`, plus the "outside" description of untagged work.

    Iterable (in file order), ``len()``, ``taxonomy["code"]`` (KeyError naming the code if unknown),
    ``"code" in taxonomy``. ``source`` is the file it came from (or None when built in code).
    """

    categories: tuple[Category, ...]
    outside_definition: str = ""
    outside_exemplars: tuple[str, ...] = ()
    version: int = 1
    outside_terms: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for c in self.categories:
            if not isinstance(c, Category):
                raise TypeError(f"Taxonomy categories must be Category, got {type(c).__name__}")
            if c.code in seen:
                raise TaxonomyError(f"{self.source or '<taxonomy>'}: duplicate category code {c.code!r}")
            seen.add(c.code)
        if not self.categories:
            raise TaxonomyError(f"{self.source or '<taxonomy>'}: no [[category]] defined")
        # A dict for O(1) lookup; object.__setattr__ because the dataclass is frozen.
        object.__setattr__(self, "_by_code", {c.code: c for c in self.categories})

    # -- container protocol ----------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def __getitem__(self, code: str) -> Category:
        try:
            return self._by_code[code]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"unknown category code {code!r}; known: {', '.join(self.codes)}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"Taxonomy({len(self)} categories: {', '.join(self.codes)}; source={self.source!r})"

    @property
    def codes(self) -> tuple[str, ...]:
        """Category codes in file order."""
        return tuple(c.code for c in self.categories)

    def index(self, code: str) -> int:
        """Position of ``code`` in :attr:`codes`; KeyError if unknown."""
        self[code]
        return self.codes.index(code)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the whole taxonomy (what :attr:`hash` is computed over)."""
        return {
            "version": self.version,
            "category": [c.to_dict() for c in self.categories],
            "outside": {
                "definition": self.outside_definition,
                "exemplars": list(self.outside_exemplars),
                **({"terms": list(self.outside_terms)} if self.outside_terms else {}),
            },
        }

    @property
    def hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON content (saved taggers record it to detect a change)."""
        blob = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    # -- loading ---------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> Taxonomy:
        """Load a taxonomy TOML file; ``None`` loads the shipped ``models/taxonomy.toml``.

        Raises:
            TaxonomyError: the file is not valid TOML or breaks the schema; the message names the file,
                line and field (e.g. ``taxonomy.toml, line 12, field 'seeds': must be a non-empty list``).
            FileNotFoundError: the file does not exist.
        """
        if path is None:
            from .._resources import model_file

            path = model_file("taxonomy.toml")
        p = Path(path)
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TaxonomyError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        return cls.from_toml(text, source=str(p))

    @classmethod
    def from_toml(cls, text: str, *, source: str | None = None) -> Taxonomy:
        """Parse taxonomy TOML from a string (``source`` names it in error messages); see :meth:`load`."""
        src = source or "<taxonomy>"
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            msg = str(exc)
            m = _TOML_POS_RE.search(msg)
            if m:
                where = f"line {m.group(1)}, column {m.group(2)}"
                msg = _TOML_POS_RE.sub("", msg).strip()
            else:
                where = f"line {text.count(chr(10)) + 1}"  # "at end of document"
            raise TaxonomyError(f"{src}, {where}: invalid TOML: {msg}") from exc
        return _from_data(data, text, src)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str | None = None) -> Taxonomy:
        """The taxonomy of a :meth:`to_dict` form (as saved with a tagger). Raises TaxonomyError if
        malformed."""
        try:
            cats = tuple(
                Category(
                    code=c["code"],
                    name=c["name"],
                    name_en=c.get("name_en", ""),
                    definition=c.get("definition", ""),
                    definition_en=c.get("definition_en", ""),
                    seeds=tuple(c.get("seeds", ())),
                    weak_seeds=tuple(c.get("weak_seeds", ())),
                    exemplars=tuple(c.get("exemplars", ())),
                    not_qualifying=tuple(c.get("not_qualifying", ())),
                )
                for c in d["category"]
            )
            out = d.get("outside", {})
            return cls(
                cats,
                outside_definition=out.get("definition", ""),
                outside_exemplars=tuple(out.get("exemplars", ())),
                version=int(d.get("version", 1)),
                source=source,
                outside_terms=tuple(out.get("terms", ())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TaxonomyError(f"{source or '<taxonomy>'}: malformed taxonomy ({exc!r})") from exc


# -- schema validation ---------------------------------------------------------------------------------------
class _Locator:
    """Find the line of a [[category]] block or of a field inside it by scanning the raw text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, ln in enumerate(self.lines) if _HEADER_RE.match(ln)]

    def _block(self, n: int) -> tuple[int, int] | None:
        if n >= len(self.headers):
            return None
        start = self.headers[n]
        end = len(self.lines)
        for j in range(start + 1, len(self.lines)):
            if _TABLE_RE.match(self.lines[j]) and not self.lines[j].lstrip().startswith('["'):
                end = j
                break
        return start, end

    def category(self, n: int, fieldname: str | None = None) -> int:
        """1-based line of field ``fieldname`` in the n-th category (or of its header when absent)."""
        block = self._block(n)
        if block is None:
            return 1
        start, end = block
        if fieldname:
            pat = re.compile(rf"^\s*{re.escape(fieldname)}\s*=")
            for j in range(start + 1, end):
                if pat.match(self.lines[j]):
                    return j + 1
        return start + 1

    def top(self, key: str) -> int:
        pat = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=)")
        for j, ln in enumerate(self.lines):
            if pat.match(ln):
                return j + 1
        return 1

    def outside(self, fieldname: str) -> int:
        start = self.top("outside") - 1
        pat = re.compile(rf"^\s*{re.escape(fieldname)}\s*=")
        for j in range(start + 1, len(self.lines)):
            if _TABLE_RE.match(self.lines[j]):
                break
            if pat.match(self.lines[j]):
                return j + 1
        return start + 1


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) and x.strip() for x in value)


def _from_data(data: dict[str, Any], text: str, src: str) -> Taxonomy:
    loc = _Locator(text)

    def fail(line: int, fieldname: str, why: str) -> TaxonomyError:
        return TaxonomyError(f"{src}, line {line}, field {fieldname!r}: {why}")

    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise fail(loc.top("version"), "version", f"unsupported version {version!r} (supported: 1)")

    cats_raw = data.get("category")
    if cats_raw is None:
        raise fail(1, "category", "no [[category]] tables defined")
    if not isinstance(cats_raw, list) or not all(isinstance(c, dict) for c in cats_raw):
        raise fail(loc.top("category"), "category", "must be an array of tables ([[category]])")
    if not cats_raw:
        raise fail(1, "category", "no [[category]] tables defined")

    categories: list[Category] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(cats_raw):
        where = f"category #{n + 1}"
        for key in ("code", "name"):
            if key not in raw:
                raise fail(loc.category(n), key, f"missing in {where}")
            if not isinstance(raw[key], str) or not raw[key].strip():
                raise fail(loc.category(n, key), key, f"must be a non-empty string in {where}")
        code = raw["code"].strip()
        where = f"category {code!r}"
        if code in seen:
            raise fail(
                loc.category(n, "code"),
                "code",
                f"duplicate code {code!r} (first defined in category "
                f"#{seen[code] + 1}, line {loc.category(seen[code], 'code')})",
            )
        seen[code] = n
        for key in ("name_en", "definition", "definition_en"):
            if key in raw and not isinstance(raw[key], str):
                raise fail(loc.category(n, key), key, f"must be a string in {where}")
        if "seeds" not in raw:
            raise fail(loc.category(n), "seeds", f"missing in {where}")
        if not _str_list(raw["seeds"]) or not raw["seeds"]:
            raise fail(
                loc.category(n, "seeds"), "seeds", f"must be a non-empty list of non-empty strings in {where}"
            )
        for key in ("weak_seeds", "not_qualifying", "exemplars"):
            if key in raw and not _str_list(raw[key]):
                raise fail(loc.category(n, key), key, f"must be a list of non-empty strings in {where}")
        unknown = sorted(set(raw) - set(_CATEGORY_KEYS))
        if unknown:
            # Unknown keys are most likely typos; they are ignored but worth a warning.
            log.warning(
                "%s, line %d: ignoring unknown field(s) %s in %s",
                src,
                loc.category(n, unknown[0]),
                ", ".join(map(repr, unknown)),
                where,
            )
        categories.append(
            Category(
                code=code,
                name=raw["name"].strip(),
                name_en=raw.get("name_en", "").strip(),
                definition=raw.get("definition", "").strip(),
                definition_en=raw.get("definition_en", "").strip(),
                seeds=tuple(s.strip() for s in raw["seeds"]),
                weak_seeds=tuple(s.strip() for s in raw.get("weak_seeds", [])),
                exemplars=tuple(s.strip() for s in raw.get("exemplars", [])),
                not_qualifying=tuple(s.strip() for s in raw.get("not_qualifying", [])),
            )
        )

    outside = data.get("outside", {})
    if not isinstance(outside, dict):
        raise fail(loc.top("outside"), "outside", "must be a table ([outside])")
    odef = outside.get("definition", "")
    if not isinstance(odef, str):
        raise fail(loc.outside("definition"), "outside.definition", "must be a string")
    oex = outside.get("exemplars", [])
    if not _str_list(oex):
        raise fail(loc.outside("exemplars"), "outside.exemplars", "must be a list of non-empty strings")
    oterms = outside.get("terms", [])
    if not _str_list(oterms):
        raise fail(loc.outside("terms"), "outside.terms", "must be a list of non-empty strings")
    return Taxonomy(
        categories=tuple(categories),
        outside_definition=odef.strip(),
        outside_exemplars=tuple(s.strip() for s in oex),
        version=version,
        source=src,
        outside_terms=tuple(s.strip() for s in oterms),
    )


def as_taxonomy(value: Taxonomy | str | Path | Sequence[Category] | None) -> Taxonomy:
    """Coerce a constructor argument into a Taxonomy (None -> the shipped taxonomy, loaded once)."""
    if value is None:
        from .._defaults import default_taxonomy

        return default_taxonomy()
    if isinstance(value, str | Path):
        return Taxonomy.load(value)
    if isinstance(value, Taxonomy):
        return value
    return Taxonomy(categories=tuple(value))
