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
    expected_cols = ["id"] + [x for c in codes for x in (c, f"{c}_score")] + ["tags", "evidence"]
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
    # cells that are not text get no category
    for idx in ("b", "d", "e"):
        assert out.at[idx, "tags"] == [] and not out.loc[idx, codes].any()


def test_tag_frame_options_and_errors(frame, tagger) -> None:
    out = yanreform.tag_frame(frame.loc[["a"]], "body", evidence=False, tagger=tagger)
    assert "evidence" not in out.columns and "id" not in out.columns and list(out.index) == ["a"]
    with pytest.raises(MissingColumnError) as ei:
        yanreform.tag_frame(frame, "text")
    assert isinstance(ei.value, KeyError) and isinstance(ei.value, InputError)
    assert str(ei.value) == "text_column 'text' is not a column of the DataFrame (columns: 'key', 'body')"
    with pytest.raises(KeyError, match="id_column 'nope'"):
        yanreform.tag_frame(frame, "body", id_column="nope")
    with pytest.raises(TypeError, match="DataFrame"):
        yanreform.tag_frame(list(TEXTS.values()), "body")


def test_import_is_lazy() -> None:
    code = (
        "import sys, yanreform.apps.frame; assert 'pandas' not in sys.modules and 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
