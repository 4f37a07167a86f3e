"""yanreform.tag_frame: tagging a pandas column."""

from __future__ import annotations

import subprocess
import sys

import pytest

pd = pytest.importorskip("pandas")

import yanreform  # noqa: E402
from yanreform.apps.frame import MissingColumnError  # noqa: E402
from yanreform.errors import InputError  # noqa: E402

TEXTS = {
    "a": "依托大数据平台,研发移动警务终端App,实现网上立案、远程视频庭审、电子卷宗在线流转。",
    "b": float("nan"),
    "c": "配强专业调解团队,开展诉前调解,化解矛盾纠纷。",
    "d": 42,
    "e": "  ",
    "f": "组织全体民警开展体能训练和实战演练。",
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"key": [f"k{i}" for i in range(len(TEXTS))], "body": list(TEXTS.values())}, index=list(TEXTS)
    )


def test_tag_frame_columns_and_values(frame, tagger) -> None:
    out = yanreform.tag_frame(frame, "body", id_column="key")
    codes = list(tagger.taxonomy_.codes)
    expected_cols = ["id", "key", "body"] + [x for c in codes for x in (c, f"{c}_score")]
    expected_cols += ["tags", "evidence", "error"]
    assert list(out.columns) == expected_cols
    assert list(out.index) == list(frame.index)
    assert out["id"].tolist() == frame["key"].tolist()
    for c in codes:
        assert out[c].dtype == bool and out[f"{c}_score"].dtype == "float64"
    # the same tags as tagging one by one
    for idx in ("a", "c", "f"):
        direct = tagger.tag(TEXTS[idx])
        assert out.at[idx, "tags"] == [t.code for t in direct]
        for t in direct:
            assert out.at[idx, t.code] and out.at[idx, f"{t.code}_score"] == pytest.approx(t.score, abs=1e-4)
        untagged = set(codes) - {t.code for t in direct}
        assert not out.loc[idx, sorted(untagged)].any()
        assert (out.loc[idx, [f"{c}_score" for c in untagged]] == 0.0).all()
    assert out.at["a", "tags"][0] == "digitalisation"
    assert out.at["a", "evidence"].startswith("digitalisation: ") and "平台" in out.at["a", "evidence"]
    assert "dispute_resolution" in out.at["c", "tags"]
    assert out.at["f", "tags"] == [] and out.at["f", "evidence"] == ""
    # cells that are not text get no category, and an error saying why
    for idx in ("b", "d", "e"):
        assert out.at[idx, "tags"] == [] and not out.loc[idx, codes].any()
    assert out["error"].tolist() == [
        None,
        "missing 'body' (row 'b')",
        None,
        "'body' is a number, not text (row 'd')",
        "empty 'body' (row 'e')",
        None,
    ]


def test_tag_frame_options_and_errors(frame, tagger) -> None:
    out = yanreform.tag_frame(frame.loc[["a"]], "body", evidence=False, tagger=tagger, keep_columns=False)
    assert "evidence" not in out.columns and "id" not in out.columns and list(out.index) == ["a"]
    assert "body" not in out.columns and out.columns[-1] == "error"
    with pytest.raises(MissingColumnError) as ei:
        yanreform.tag_frame(frame, "text")
    assert isinstance(ei.value, KeyError) and isinstance(ei.value, InputError)
    assert str(ei.value) == "text_column 'text' is not a column of the DataFrame (columns: 'key', 'body')"
    with pytest.raises(KeyError, match="id_column 'nope'"):
        yanreform.tag_frame(frame, "body", id_column="nope")
    with pytest.raises(TypeError, match="DataFrame"):
        yanreform.tag_frame(list(TEXTS.values()), "body")


def test_tag_frame_keeps_input_columns_rows_in_rows_out(fake_tagger) -> None:
    df = pd.DataFrame(
        {
            "text": [TEXTS["a"], None, 42, "", TEXTS["c"] * 30, pd.NA],
            "agency": ["甲", "乙", "丙", "丁", "戊", "己"],
            "tags": [1, 2, 3, 4, 5, 6],
            "n": pd.array([1, 2, 3, 4, 5, 6], dtype="Int64"),
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    out = yanreform.tag_frame(df, "text", tagger=fake_tagger)
    assert len(out) == len(df) and list(out.index) == list(df.index)
    assert list(out.columns[:4]) == ["text", "agency", "input_tags", "n"]
    assert out["agency"].tolist() == df["agency"].tolist() and out["n"].dtype == "Int64"
    assert out["input_tags"].tolist() == [1, 2, 3, 4, 5, 6]
    assert out["error"].tolist() == [
        None,
        "missing 'text' (row 11)",
        "'text' is a number, not text (row 12)",
        "empty 'text' (row 13)",
        None,
        "missing 'text' (row 15)",
    ]
    assert out.at[10, "tags"] == [t.code for t in fake_tagger.tag(TEXTS["a"])]
    long_codes = out.at[14, "tags"]
    assert len(TEXTS["c"] * 30) > 600 and long_codes  # tagged in passages
    sub = yanreform.tag_frame(df, "text", tagger=fake_tagger, keep_columns=["agency"], evidence=False)
    assert list(sub.columns[:2]) == ["agency", "digitalisation"]
    with pytest.raises(MissingColumnError, match="keep_columns name 'x'"):
        yanreform.tag_frame(df, "text", tagger=fake_tagger, keep_columns=["x"])


def test_import_is_lazy() -> None:
    code = (
        "import sys, yanreform.apps.frame; assert 'pandas' not in sys.modules and 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
