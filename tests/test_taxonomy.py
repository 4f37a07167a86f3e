"""Taxonomy loading: the shipped file, user files, every malformed case (file, line, field in the message)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from yanreform.errors import TaxonomyError
from yanreform.tagging.taxonomy import Category, Taxonomy

CODES = (
    "digitalisation",
    "one_stop_service",
    "coordination",
    "supervision",
    "dispute_resolution",
    "vulnerable_groups",
    "fast_track",
    "legal_publicity",
    "business_environment",
    "grassroots_governance",
    "ecological_protection",
)

GOOD = """\
version = 1

[[category]]
code = "alpha"
name = "甲"
name_en = "Alpha"
definition = "甲类"
seeds = ["甲一", "甲二"]
weak_seeds = ["甲"]
exemplars = ["这是甲类举措。"]

[[category]]
code = "beta"
name = "乙"
seeds = ["乙一"]

[outside]
definition = "其他"
exemplars = ["开展练兵比武。"]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tax.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_taxonomy_has_the_eleven_codes_in_order() -> None:
    tax = Taxonomy.load()
    assert tax.codes == CODES
    assert len(tax) == 11 and [c.code for c in tax] == list(CODES)
    for cat in tax:
        assert cat.name and cat.name_en and cat.definition and cat.seeds and cat.exemplars
    assert tax["digitalisation"].name == "数字赋能"
    assert "fast_track" in tax and "nope" not in tax
    assert len(tax.outside_exemplars) >= 5
    with pytest.raises(KeyError, match="nope"):
        tax["nope"]


def test_user_taxonomy_any_codes(tmp_path: Path) -> None:
    tax = Taxonomy.load(write(tmp_path, GOOD))
    assert tax.codes == ("alpha", "beta")
    a = tax["alpha"]
    assert a == Category("alpha", "甲", "Alpha", "甲类", "", ("甲一", "甲二"), ("甲",), ("这是甲类举措。",))
    assert tax["beta"].weak_seeds == () and tax["beta"].exemplars == ()
    assert tax.outside_exemplars == ("开展练兵比武。",)
    assert tax.index("beta") == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.code = "x"  # type: ignore[misc]


def test_hash_tracks_content_not_location(tmp_path: Path) -> None:
    a = Taxonomy.load(write(tmp_path, GOOD))
    b = Taxonomy.from_toml(GOOD, source="elsewhere")
    c = Taxonomy.from_toml(GOOD.replace("甲二", "甲三"))
    assert a.hash == b.hash and a.hash != c.hash and len(a.hash) == 64


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ('code = "beta"\n', "", 12, "code"),  # missing code: the [[category]] header line
        ('name = "乙"\n', "", 12, "name"),
        ('code = "beta"', 'code = "alpha"', 13, "code"),  # duplicate
        ('seeds = ["乙一"]', "seeds = []", 15, "seeds"),  # empty seeds
        ('seeds = ["乙一"]', 'seeds = "乙一"', 15, "seeds"),  # wrong type
        ('seeds = ["乙一"]\n', "", 12, "seeds"),  # missing seeds
        ('name = "乙"', "name = 3", 14, "name"),
        ('name_en = "Alpha"', "name_en = 1", 6, "name_en"),
        ('exemplars = ["这是甲类举措。"]', 'exemplars = ["ok", 2]', 10, "exemplars"),
        ('weak_seeds = ["甲"]', 'weak_seeds = [""]', 9, "weak_seeds"),
        ("version = 1", "version = 7", 1, "version"),
        ('exemplars = ["开展练兵比武。"]', "exemplars = 5", 19, "outside.exemplars"),
    ],
)
def test_schema_errors_name_file_line_field(
    tmp_path: Path, old: str, new: str, line: int, field: str
) -> None:
    assert old in GOOD
    p = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(TaxonomyError) as ei:
        Taxonomy.load(p)
    msg = str(ei.value)
    assert str(p) in msg and f"line {line}," in msg and f"field {field!r}" in msg, msg


def test_toml_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD.replace('name = "乙"', 'name = "乙'))
    with pytest.raises(TaxonomyError, match=r"tax\.toml, line 14, column \d+: invalid TOML") as ei:
        Taxonomy.load(p)
    assert isinstance(ei.value, ValueError)


def test_no_categories_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="field 'category'"):
        Taxonomy.load(write(tmp_path, "version = 1\n"))
    p = tmp_path / "gbk.toml"
    p.write_bytes(GOOD.encode("gbk"))
    with pytest.raises(TaxonomyError, match="not UTF-8"):
        Taxonomy.load(p)
    with pytest.raises(FileNotFoundError):
        Taxonomy.load(tmp_path / "missing.toml")
