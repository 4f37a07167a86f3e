"""The records of a parsed collection: :class:`Initiative`, :class:`Case`, :class:`Corpus`.

Every stored string is an exact slice of the (line-ending normalised) input (:mod:`yanreform.corpus.parse`).
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, overload

from ..errors import InputError, UnknownCaseError

__all__ = ["Case", "Corpus", "Initiative"]


@dataclass(frozen=True)
class Initiative:
    """One reform measure of a case.

    ``text == case.text[start:end]`` (character offsets into the case body, half-open);
    ``heading`` is the measure's headline sentence (a prefix of ``text``, closing punctuation
    included) or ``""`` when the measure has no recognisable headline. ``id`` is
    ``"{case_id}-i{n}"`` (1-based, file order).
    """

    id: str
    heading: str
    text: str
    start: int
    end: int
    case_id: str

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 30 else self.text[:29] + "…"
        return (
            f"Initiative(id={self.id!r}, heading={self.heading!r}, start={self.start}, end={self.end}, "
            f"text={text!r})"
        )


@dataclass(frozen=True)
class Case:
    """One case of a collection.

    Attributes:
        id: ``"{prefix}-{nn:02d}"`` in file order.
        agency: the agency line as written (several agencies joined with 、 stay joined).
        agencies: the agency line split into single agencies (list of str, at least one).
        title: the title line as written.
        lead: the overview paragraph, ``""`` if the case has none.
        initiatives: the measures, in order (at least one).
        outcome: the closing result paragraph, ``""`` if none.
        text: the case body (lead, initiatives, outcome and the line breaks between them), exact slice of the
            input; initiative offsets index into it.
        line: 1-based line number of the agency line in the (line-ending normalised) input.
    """

    id: str
    agency: str
    agencies: list[str]
    title: str
    lead: str
    initiatives: list[Initiative]
    outcome: str
    text: str
    line: int

    # Lists make the generated hash fail; (id, text) identifies a case and agrees with ==.
    def __hash__(self) -> int:
        return hash((self.id, self.text))

    def passages(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(passage_id, kind, text)``: the lead (``"{id}-lead"``, kind ``"lead"``) if any,
        each initiative (its id, kind ``"initiative"``), the outcome (``"{id}-outcome"``, kind
        ``"outcome"``) if any."""
        if self.lead:
            yield f"{self.id}-lead", "lead", self.lead
        for ini in self.initiatives:
            yield ini.id, "initiative", ini.text
        if self.outcome:
            yield f"{self.id}-outcome", "outcome", self.outcome

    def __repr__(self) -> str:
        return (
            f"Case(id={self.id!r}, agency={self.agency!r}, title={self.title!r}, "
            f"initiatives={len(self.initiatives)}, lead={bool(self.lead)}, outcome={bool(self.outcome)}, "
            f"line={self.line})"
        )

    def _repr_html_(self) -> str:
        # A plain table; in a notebook yanreform.apps.display registers the richer renderer for Case.
        rows = [("agency", self.agency), ("title", self.title), ("lead", self.lead)]
        rows += [(ini.id, ini.text) for ini in self.initiatives]
        if self.outcome:
            rows.append(("outcome", self.outcome))
        return _html_table(f"{self.id}", rows)


class Corpus:
    """An ordered collection of cases.

    Iterable (cases in file order), ``len()``, indexable by case id (``corpus["yc2024-01"]``), by position
    (``corpus[0]``) or by slice (a new :class:`Corpus`). ``name`` names the collection; ``meta`` holds its
    metadata (for :func:`load_corpus`, the metadata file; always ``meta["header"]``, the header lines).

    Raises:
        ValueError: two cases share an id.
    """

    def __init__(self, cases: Iterable[Case], name: str | None = None, meta: dict[str, Any] | None = None):
        self.cases: list[Case] = list(cases)
        self.name = name
        self.meta: dict[str, Any] = dict(meta) if meta else {}
        self._by_id: dict[str, Case] = {}
        for case in self.cases:
            if case.id in self._by_id:
                raise InputError(f"duplicate case id {case.id!r} in corpus {name!r}")
            self._by_id[case.id] = case

    @property
    def ids(self) -> list[str]:
        """Case ids in order."""
        return [c.id for c in self.cases]

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Case):
            return self._by_id.get(key.id) is key
        return key in self._by_id

    @overload
    def __getitem__(self, key: str | int) -> Case: ...
    @overload
    def __getitem__(self, key: slice) -> Corpus: ...
    def __getitem__(self, key: str | int | slice) -> Case | Corpus:
        if isinstance(key, slice):
            return Corpus(self.cases[key], name=self.name, meta=self.meta)
        if isinstance(key, int) and not isinstance(key, bool):
            return self.cases[key]  # IndexError for an out-of-range position, as for a list
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                near = difflib.get_close_matches(key, self._by_id, n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(near)}?" if near else ""
                ids = self.ids
                span = f"{ids[0]} … {ids[-1]}" if ids else "none"
                msg = f"no case {key!r} in corpus {self.name!r} (ids: {span}){hint}"
                raise UnknownCaseError(msg) from None
        raise TypeError(
            f"Corpus indices are case ids (str), positions (int) or slices, not {type(key).__name__}"
        )

    def get(self, case_id: str, default: Case | None = None) -> Case | None:
        """The case with this id, or ``default``."""
        return self._by_id.get(case_id, default)

    def initiatives(self) -> Iterator[Initiative]:
        """All initiatives of all cases, in file order."""
        for case in self.cases:
            yield from case.initiatives

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per initiative: ``case_id, agency, title, initiative_id, heading, text, start, end``
        (``start``/``end`` are offsets into the case text)."""
        return [
            {
                "case_id": case.id,
                "agency": case.agency,
                "title": case.title,
                "initiative_id": ini.id,
                "heading": ini.heading,
                "text": ini.text,
                "start": ini.start,
                "end": ini.end,
            }
            for case in self.cases
            for ini in case.initiatives
        ]

    def __repr__(self) -> str:
        n_ini = sum(len(c.initiatives) for c in self.cases)
        return f"Corpus(name={self.name!r}, cases={len(self.cases)}, initiatives={n_ini})"

    def _repr_html_(self) -> str:
        # A plain table; in a notebook yanreform.apps.display registers the richer renderer for Corpus.
        rows = [(c.id, f"{c.agency} · {c.title} ({len(c.initiatives)} initiatives)") for c in self.cases]
        return _html_table(self.name or "corpus", rows)


_LEFT = "text-align:left"


def _html_table(caption: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th style='{_LEFT}'>{html.escape(k)}</th><td style='{_LEFT}'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"
