"""Incidental contexts: a seed in a venue, a unit's name, a slogan, a list of duties is not evidence.

Unit tests of the rules (fast), then contrast pairs on the shipped heads: for each error type seen on real
text (issue: venue, agency name, place of origin, slogan, list of duties; and work described without the seed
words), one passage that should get the category and one that should not. The fast head runs in the fast
tier (no encoder); the full head in the slow tier.
"""

from __future__ import annotations

import pytest

from yanreform.tagging import Tagger
from yanreform.tagging.context import CONTEXT_KINDS, incidental_spans
from yanreform.tagging.lexicon import OUTSIDE, Lexicon
from yanreform.tagging.taxonomy import Taxonomy
from yanreform.text.normalize import normalize_text


def kinds_covering(text: str, term: str) -> list[str]:
    """The kinds of incidental span that wholly contain ``term`` (its first occurrence) in ``text``."""
    norm = normalize_text(text)
    i = norm.index(normalize_text(term))
    return [k for s, e, k in incidental_spans(norm) if s <= i and i + len(term) <= e]


@pytest.mark.parametrize(
    ("text", "term", "kind"),
    [
        ("全市法院诉讼服务工作推进会在区法院一站式诉讼服务中心举行。", "一站式", "venue"),
        ("座谈会于县矛盾纠纷多元化解中心召开，会议听取了汇报。", "多元化解", "venue"),
        ("省厅领导一行参观了智慧警务指挥中心，听取了情况介绍。", "智慧警务", "visit"),
        ("区检察院检察监督部主任带队赴社区走访慰问困难群众。", "检察监督", "title"),
        ("活动以“党建引领、多方联动、共建共享”为主题，开展了文艺演出。", "多方联动", "slogan"),
        ("来自各乡镇、街道的200余名干部参加了培训班。", "乡镇", "origin"),
        ("中心负责政法宣传、队伍建设、信访维稳、生态环境保护等方面的事务。", "生态环境保护", "duties"),
    ],
)
def test_each_kind_of_incidental_context_is_found(text: str, term: str, kind: str) -> None:
    assert kind in kinds_covering(text, term)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        # the initiative's own action: the same seeds outside any incidental stretch
        ("区法院建成一站式诉讼服务中心，立案、缴费、调解在一个窗口集中办理。", "一站式"),
        ("检察院对派出所执法办案开展常态化检察监督，发出检察建议8份。", "检察监督"),
        ("公安、检察、法院建立多方联动机制，每季度会商一次。", "多方联动"),
        ("在全区12个乡镇设立综治中心，配备专职网格员。", "乡镇"),
        # one duty named alone is the office's work, not a list of duties
        ("中心负责生态环境保护等工作，联合林业部门开展生态修复。", "生态环境保护"),
        # a venue clause never reaches across clause punctuation into the action
        ("在县城建成一站式矛盾纠纷调处中心，会议在此举行。", "一站式"),
    ],
)
def test_the_initiatives_own_action_is_not_incidental(text: str, term: str) -> None:
    assert kinds_covering(text, term) == []


def test_spans_are_sorted_half_open_and_of_known_kinds() -> None:
    norm = normalize_text("来自各乡镇的干部参观了一站式中心。推进会在诉讼服务中心举行。")
    spans = incidental_spans(norm)
    assert [k for _s, _e, k in spans] == ["origin", "visit", "venue"]
    assert spans == sorted(spans)
    for s, e, k in spans:
        assert 0 <= s < e <= len(norm) and k in CONTEXT_KINDS
    assert incidental_spans("") == []
    assert set(CONTEXT_KINDS) == {"venue", "visit", "title", "slogan", "origin", "duties"}


def test_the_lexicon_drops_incidental_seeds_only_when_asked() -> None:
    tax = Taxonomy.load()
    norm = normalize_text("推进会在区法院一站式诉讼服务中心举行。区法院建立府院联动机制。")
    on = {m.term for m in Lexicon(tax, context=True).find(norm)}
    off = {m.term for m in Lexicon(tax, context=False).find(norm)}
    assert {"一站式诉讼服务", "诉讼服务中心"} <= off - on  # the venue's seeds
    assert "联动" in on and "联动" in off  # the action's own seed stays


def test_outside_cues_are_kept_inside_incidental_contexts() -> None:
    # a contest held in a centre is still a contest: outside-work cues are not masked by a venue
    lex = Lexicon(Taxonomy.load(), context=True)
    found = lex.find(normalize_text("全市政法系统业务练兵比武在一站式诉讼服务中心举行。"))
    assert any(m.category == OUTSIDE and m.term == "练兵" for m in found)
    assert not any(m.term.startswith("一站式") for m in found)


def test_saved_heads_keep_their_context_setting(tmp_path) -> None:
    off = Tagger.default(fast=True)  # a copy: changing it changes no other caller's tagger
    assert off.context is True
    off.set_params(context=False)
    off.save(tmp_path / "h")
    assert Tagger.load(tmp_path / "h").context is False


# -- contrast pairs on the shipped heads: (category, should fire, should not fire) -------------------------

PAIRS = {
    "venue": (
        "one_stop_service",
        "区法院建成一站式诉讼服务中心，立案、缴费、查询、调解等事项在中心一个窗口集中办理，群众只跑一次。",
        "3月15日，全市法院诉讼服务工作推进会在区法院一站式诉讼服务中心举行，与会人员听取了工作汇报。",
    ),
    "venue, unveiling": (
        "one_stop_service",
        "县里整合信访、调解、法律援助等力量，设立矛盾纠纷调处化解中心，群众诉求统一受理、一站式化解。",
        "揭牌仪式在新落成的一站式诉讼服务中心举行，市委政法委领导出席并讲话。",
    ),
    "agency name": (
        "supervision",
        "检察院对辖区派出所执法办案开展常态化监督，全年发出纠正违法通知书12份、检察建议8份。",
        "区检察院检察监督部主任带队赴社区走访慰问困难群众，送去米面油等慰问品。",
    ),
    "place of origin": (
        "grassroots_governance",
        "在全区12个镇街设立综治中心，每个村配备专职网格员，把矛盾排查、法律服务延伸到村一级。",
        "来自各乡镇、街道的200余名干部参加了全市政法系统业务知识培训班。",
    ),
    "slogan": (
        "coordination",
        "公安、检察、法院、司法局会签协作意见，建立联席会议制度，每季度会商一次重大案件。",
        "活动以“党建引领、多方联动、共建共享”为主题，开展了丰富多彩的文艺演出。",
    ),
    "list of duties": (
        "ecological_protection",
        "检察院联合林业部门在湿地保护区开展生态修复，督促补植复绿林木3000余株。",
        "中心主要负责政法宣传、队伍建设、信访维稳、生态环境保护等方面的日常事务协调。",
    ),
    "without the seed words: 归口管理": (
        "one_stop_service",
        "中心对群众反映的各类信访事项统一登记、归口管理、分流交办，实现“只进一扇门、最多跑一地”。",
        "中心工作人员认真学习了信访工作条例，交流了心得体会。",
    ),
    "without the seed words: stationed agencies": (
        "coordination",
        "公安、法院、司法、人社、住建等8个部门派员常驻中心，联合接待群众，共同研判处置矛盾纠纷。",
        "中心工作人员周末加班整理档案，完成年度归档工作。",
    ),
}


def check_pairs(tagger: Tagger) -> None:
    wrong = []
    for name, (code, pos, neg) in PAIRS.items():
        got_pos, got_neg = tagger.tag(pos).codes, tagger.tag(neg).codes
        if code not in got_pos:
            wrong.append(f"{name}: missed {code} in {pos}")
        if code in got_neg:
            wrong.append(f"{name}: {code} fired on {neg}")
    assert wrong == []


def test_contrast_pairs_fast_head() -> None:
    check_pairs(Tagger.default(fast=True))


@pytest.mark.slow
def test_contrast_pairs_full_head(tagger: Tagger) -> None:
    check_pairs(tagger)


def test_evidence_never_lies_inside_an_incidental_context() -> None:
    tg = Tagger.default(fast=True)
    text = "推进会在区法院一站式诉讼服务中心举行。区法院建成一站式诉讼服务中心，立案、调解在一窗办理。"
    tags = tg.tag(text)
    assert "one_stop_service" in tags.codes
    venue_end = text.index("。") + 1
    for tag in tags:
        for ev in tag.evidence:
            if ev.source == "lexicon":
                assert ev.start >= venue_end, ev
                assert text[ev.start : ev.end] == ev.text
