"""Tag a pandas DataFrame column: :func:`tag_frame` (the ``frame`` extra: ``pip install 'yanreform[frame]'``).

pandas is imported only when :func:`tag_frame` runs, so ``import yanreform`` stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InputError, MissingColumnError
from ..tagging.documents import LONG_THRESHOLD, tag_documents

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..tagging.tagger import Tagger

__all__ = ["MissingColumnError", "tag_frame"]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is installed in the dev set-up
        raise ImportError(
            "yanreform.tag_frame needs pandas: install the 'frame' extra (pip install 'yanreform[frame]')"
        ) from exc
    return pandas


def _is_dask_frame(df: Any) -> bool:
    return type(df).__module__.split(".")[0] == "dask" and hasattr(df, "map_partitions")


def _evidence_text(tags: Sequence[Any], max_terms: int = 3) -> str:
    """``"code: term, term; code: …"`` — the matched terms (or exemplar sentences, cut) per category."""
    parts = []
    for t in tags:
        seen: dict[str, None] = {}
        for ev in t.evidence or ():
            term = ev.text if ev.source == "exemplar" else (ev.term or ev.text)
            term = " ".join(str(term).split())
            if len(term) > 24:
                term = term[:23] + "…"
            seen.setdefault(term, None)
        terms = list(seen)[:max_terms]
        parts.append(f"{t.code}: {', '.join(terms)}" if terms else t.code)
    return "; ".join(parts)


def _cell_error(v: Any, text_column: str, where: str) -> str | None:
    """Why a cell cannot be tagged (None when it can): missing, not text, blank."""
    from ..io.readers._base import check_record, json_type

    if v is None or (isinstance(v, float) and v != v):  # None, NaN
        return f"missing {text_column!r} ({where})"
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return f"missing {text_column!r} ({where})"
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(v, str):
        return f"{text_column!r} is {json_type(v)}, not text ({where})"
    return check_record(where, v, where, text_column, "id").error


def tag_frame(
    df: pd.DataFrame,
    text_column: str,
    *,
    id_column: str | None = None,
    tagger: Tagger | None = None,
    evidence: bool = True,
    keep_columns: bool | Sequence[str] = True,
    batch_size: int = 256,
    long_threshold: int = LONG_THRESHOLD,
    fast: bool = False,
) -> pd.DataFrame:
    """Tag every row of ``df[text_column]`` with reform categories.

    Args:
        df: the input frame (not modified); a ``dask.dataframe.DataFrame`` gives a dask dataframe of the same
            columns, computed lazily on the workers (:func:`yanreform.batch.dask.tag_dask`; not with
            ``tagger``).
        text_column: column holding the passages to tag.
        id_column: optional column copied into the result as its first column, ``id``.
        tagger: a fitted :class:`yanreform.Tagger`; None uses ``Tagger.default(fast=fast)``.
        evidence: add the ``evidence`` column (short text naming the matched terms per category).
        keep_columns: carry ``df``'s columns into the result: True (default) all of them, False none, or a
            list of names.
        batch_size: passages per tagging batch.
        long_threshold: texts longer than this many characters are tagged in passages and aggregated
            (:func:`yanreform.tagging.documents.tag_documents`).
        fast: use the shipped encoder-free fast head (``Tagger.default(fast=True)``: no neural model, no
            torch; about 100 times faster, micro-F1 a few points lower). Not with ``tagger``.

    Returns:
        A new DataFrame with ``df``'s index, and columns, in this order: ``id`` (only with ``id_column``);
        the kept input columns (one that has the name of an output column is renamed ``input_<name>``); for
        each category code of the tagger's taxonomy, in taxonomy order, ``<code>`` (bool: the category was
        assigned) and ``<code>_score`` (float64 in [0, 1]: its calibrated score, 0.0 when not assigned);
        ``tags`` (list of the assigned codes, best first); ``evidence`` (str, e.g.
        ``"digitalisation: 平台, 大数据"``; only with ``evidence=True``); ``error`` (None, or why the row
        could not be tagged: a cell that is missing, NaN, not a string or blank, e.g. ``"'body' is a number,
        not text (row 'd')"``; such rows get all False / 0.0, ``tags == []``, evidence ``""``). Rows in ==
        rows out.

    Raises:
        ImportError: pandas is not installed (names the ``frame`` extra).
        MissingColumnError: ``text_column``, ``id_column`` or a ``keep_columns`` name is not a column of
            ``df``; the message names it and lists the columns. It is an
            :class:`~yanreform.errors.InputError` and a ``KeyError`` (what pandas raises for a missing
            column), so either ``except`` works.
        TypeError: ``df`` is not a DataFrame.
        InputError: both ``tagger`` and ``fast=True`` are given, or ``tagger`` with a dask dataframe.
    """
    if _is_dask_frame(df):
        if tagger is not None:
            raise InputError(
                "a dask dataframe is tagged on the workers, which build their own tagger: use fast=True, or "
                "yanreform.batch.tag_dask(df, tagger_path=FOLDER) with a tagger saved by Tagger.save"
            )
        from ..batch.dask import tag_dask

        return tag_dask(
            df,
            text_column=text_column,
            id_column=id_column,
            fast=fast,
            keep_columns=keep_columns if isinstance(keep_columns, bool) else list(keep_columns),
            evidence=evidence,
            long_threshold=long_threshold,
            batch_size=batch_size,
        )
    pd = _pandas()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    cols = [str(c) for c in df.columns]

    def missing(col: Any, what: str) -> MissingColumnError:
        return MissingColumnError(
            f"{what} {col!r} is not a column of the DataFrame (columns: {', '.join(map(repr, cols))})"
        )

    for col, what in ((text_column, "text_column"), (id_column, "id_column")):
        if col is not None and col not in df.columns:
            raise missing(col, what)
    if keep_columns is True:
        kept = list(df.columns)
    elif keep_columns is False:
        kept = []
    else:
        kept = list(keep_columns)
        for col in kept:
            if col not in df.columns:
                raise missing(col, "keep_columns name")
    if tagger is not None and fast:
        raise InputError("give tag_frame either tagger= or fast=True, not both")
    if tagger is None:
        from ..tagging.tagger import Tagger

        tagger = Tagger.default(fast=fast)
    codes = list(tagger.codes)

    cells = df[text_column].tolist()
    index = list(df.index)
    errors: list[str | None] = [_cell_error(v, text_column, f"row {index[i]!r}") for i, v in enumerate(cells)]
    ok = [i for i, e in enumerate(errors) if e is None]
    tag_lists: list[Sequence[Any]] = [()] * len(cells)
    if ok:
        results = tag_documents(
            tagger, [cells[i] for i in ok], batch_size=batch_size, threshold=long_threshold
        )
        for i, res in zip(ok, results, strict=True):
            tag_lists[i] = res

    n = len(cells)
    data: dict[str, Any] = {}
    if id_column is not None:
        data["id"] = df[id_column].tolist()
    own = {"id", "tags", "evidence", "error", *codes, *(f"{c}_score" for c in codes)}
    for col in kept:
        name = str(col)
        data[f"input_{name}" if name in own else name] = df[col]
    code_pos = {c: k for k, c in enumerate(codes)}
    flags = [[False] * n for _ in codes]
    scores = [[0.0] * n for _ in codes]
    for i, tl in enumerate(tag_lists):
        for t in tl:
            k = code_pos.get(t.code)
            if k is not None:
                flags[k][i] = True
                scores[k][i] = float(t.score)
    for k, c in enumerate(codes):
        data[c] = pd.Series(flags[k], index=df.index, dtype=bool)
        data[f"{c}_score"] = pd.Series(scores[k], index=df.index, dtype="float64")
    data["tags"] = [[t.code for t in tl] for tl in tag_lists]
    if evidence:
        data["evidence"] = [_evidence_text(tl) for tl in tag_lists]
    data["error"] = pd.Series(errors, index=df.index, dtype=object)
    return pd.DataFrame(data, index=df.index)
