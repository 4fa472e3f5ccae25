"""Tests for model/reflow.py: hard-wrapped copies give the records of the original (lossless offsets
into the copy), headings and titles stay whole, numbered items that run on are sentences, and the
bundled reports re-wrapped at widths 20-40 agree with the originals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from govtag.readers import read_document
from govtag.reflow import hard_wrap, line_spans, reflow
from govtag.segment import segment_file, segment_text, wrap_agreement
from tests.test_segment import check_lossless

ROOT = Path(__file__).resolve().parents[1]
REPORTS = sorted(p for ext in ("txt", "docx") for p in (ROOT / "data").glob(f"**/*.{ext}"))
# the corpus holds hard-wrapped copies too (as users have them); wrapping a copy again is not a copy
ORIGINALS = [p for p in REPORTS if not any("\n" in s.text for s in segment_file(p))]


def bare(text: str) -> str:
    return re.sub(r"\s", "", text)


def records(text: str) -> list[tuple[str, list[str], bool]]:
    """(text, section, is_heading) of every record, whitespace removed."""
    return [(bare(s.text), [bare(h) for h in s.section], s.is_heading) for s in segment_text(text, fallback_title="t")]


# --- the copy ---------------------------------------------------------------------------

COPY = ("2021 年,我县科技工作将以党的十九届五中全会和总书记关于\n科技工作的系列讲话精神为指导,认真贯彻落实全省科学大会精神,\n"
        "一、主要目标\n1、加快科技发展,全面实施\n科教兴县和人才强县战略。")


def test_wrapped_sentence_and_run_on_item_are_one_record_each():
    recs = segment_text(COPY)
    assert [(s.text, s.section, s.is_heading) for s in recs] == [
        ("2021 年,我县科技工作将以党的十九届五中全会和总书记关于\n科技工作的系列讲话精神为指导,认真贯彻落实全省科学大会精神,", [], False),
        ("一、主要目标", [], True),
        ("1、加快科技发展,全面实施\n科教兴县和人才强县战略。", ["一、主要目标"], False),
    ]
    check_lossless(COPY, recs)


@pytest.mark.parametrize("heading", ["一、主要目标", "(二)抓平台", "2021年科技工作主要措施", "1.高端人才招引成效明显"])
def test_short_heading_lines_are_not_glued_to_the_next_line(heading):
    body = "全县规上工业企业研发费用增长25%，全市排名第2，高新技术产业增加值占规上工业增加值比重达到64.5%。"
    text = hard_wrap(f"{body}\n{heading}\n{body}", 20)
    recs = segment_text(text, doc="")
    assert [s.text for s in recs][1] == heading
    assert recs[2].text.replace("\n", "") == body


@pytest.mark.parametrize("item, level", [("1.加强人才引进", 3), ("(1)加强人才引进", 4), ("（2）加强人才引进", 4),
                                         ("①加强人才引进", 5)])
def test_short_numbered_lines_announce_a_block(item, level):
    recs = segment_text(f"一、人才工作\n{item}\n全年引进人才12人。")
    assert (recs[1].text, recs[1].is_heading, recs[2].section) == (item, True, ["一、人才工作", item])


@pytest.mark.parametrize("item", ["1.加强人才引进,全面实施", "(1)加强人才引进，全面实施", "①加强人才引进,全面实施"])
def test_numbered_items_that_run_on_are_body_sentences(item):
    recs = segment_text(f"一、人才工作\n{item}\n科教兴县和人才强县战略。")
    assert [(s.text, s.is_heading, s.section) for s in recs[1:]] == [
        (f"{item}\n科教兴县和人才强县战略。", False, ["一、人才工作"])]


def test_offsets_map_back_through_removed_breaks():
    text = "全县规上工业企业研发费用同比增长，\n增幅25%，排名第2。\n一、主要目标"
    flow = reflow(text, line_spans(text), set())
    assert flow.text == "全县规上工业企业研发费用同比增长，增幅25%，排名第2。\n一、主要目标"
    assert [text[flow.original(i)] for i in range(len(flow.text))] == list(flow.text)


def test_unwrapped_title_and_lines_stay_as_they_are():
    text = "某县科技局2022年工作总结和2023年工作思路\n全年完成任务。\n一、工作总结\n新增高企。"
    assert [s.text for s in segment_text(text)] == text.split("\n")


def test_table_rows_are_never_joined():
    text = "指标\t目标,完成\n研发费用\t20亿元\n" + "全县研发费用增长25%，全市排名第二。" * 3
    assert [s.text for s in segment_text(hard_wrap(text, 20), doc="")][:2] == ["指标\t目标,完成", "研发费用\t20亿元"]


# --- constructs of the longer reports: each copy wrapped where it cannot tell by line lengths -----

BODY = ("全县规上工业企业研发费用增长25%，全市排名第2，高新技术产业增加值占规上工业增加值比重达到64.5%。"
        "新增省级科技型中小企业140家，技术市场交易额完成年度任务的128%。")
GOV_OPENER = "峪阳市人民政府工作报告\n——2026年1月22日在峪阳市第十届人民代表大会第五次会议上\n各位代表：\n"


@pytest.mark.parametrize("report, width", [
    # a chapter heading exactly as long as the width, then a numbered item: the heading is whole
    (f"某县组织部2022年工作总结\n一、2022年工作总结\n{BODY}\n（二）坚持选贤任能，干部队伍活力持续激发\n"
     f"1.树立鲜明选人用人导向\n{BODY}", 20),
    # "一、" at a line start after running text cut mid-word is the word 单一's, not a heading; nor is
    # the line that carries it on
    (f"某局2024年度述职报告\n五、存在的不足\n{BODY}\n五是创新平台建设后劲不足，部分孵化器运营模式单一、"
     f"专业服务能力不强，平台对产业的支撑作用有待进一步提升。{BODY}", 23),
    # a title that fills the line and ends in its genre, then running text without a comma in its line
    (f"瀛岫县科学技术局2022年度部门整体支出绩效自评报告\n根据《瀛岫县财政局关于开展2022年度部门整体支出绩效自评工作的"
     f"通知》（瀛财绩〔2023〕3号）要求，我局成立绩效自评工作小组。\n{BODY}", 26),
    # an excerpt's first line, cut after 计划, is no title
    (f"2020年，新区将继续把项目建设作为经济工作的生命线，计划实施重点项目126个。{BODY}\n{BODY}", 29),
    # a government work report's subtitle exactly as long as the width, then the salutation
    (f"{GOV_OPENER}我代表市人民政府，向大会作政府工作报告，请予审议。\n一、2025年工作回顾\n{BODY}", 31),
    # a cut after a space: the line is full though it looks one character short
    (f"桐岭市人民政府工作报告\n——2021年2月3日在桐岭市第八届人民代表大会第六次会议上市长 何子骞各位代表：现在，"
     f"我代表桐岭市人民政府，向大会报告工作，请予审议。\n一、2020年工作回顾\n{BODY}", 33),
])
def test_wrapped_constructs_of_long_reports_give_the_originals_records(report, width):
    copy = hard_wrap(report, width)
    assert records(copy) == records(report)
    check_lossless(copy, segment_text(copy, fallback_title="t"))


def test_a_line_never_starts_with_a_closing_quote_or_comma():
    text = "一、主要成效\n他说：“要加强创新。\n”新增高企42家\n，全市排名第2。"
    assert [s.text for s in segment_text(text)][1:] == ["他说：“要加强创新。\n”", "新增高企42家\n，全市排名第2。"]


# --- properties ---------------------------------------------------------------------------------

SENTENCES = ["全年全县规上工业企业研发费用增长25%，全市排名第2。", "新增省级科技型中小企业140家。",
             "他说：“要加强创新。”", "组织产学研对接活动10场以上，促成合作项目50项。", "技术市场交易额完成年度任务的128%！",
             "推动县科技孵化园二期建成投用，新增孵化面积2万平方米，累计入驻企业87家。", "是否达标？"]
HEADINGS = st.sampled_from(["一、主要成效", "二、存在问题", "三、下一步打算", "（一）抓指标", "(二)抓平台", "1.人才引进情况",
                            "2021年科技工作主要措施"])


@st.composite
def reports(draw) -> str:
    """A report of lines: a title, then headings (shorter than 15 characters) and paragraphs of
    sentences; at least two paragraphs are long enough to wrap at any width up to 60."""
    lines = [draw(st.sampled_from(["某县科技局2022年工作总结", "某县2023年人才工作要点", "述职报告"]))]
    long = "".join(SENTENCES)
    for _ in range(draw(st.integers(1, 5))):
        lines.append(draw(HEADINGS))
        lines.append("".join(draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4))))
    lines[2:2] = [long, "".join(reversed(SENTENCES))]
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports(), st.integers(15, 80))
# paragraphs that end in "。”" cut before the "”": a running header is not a lone quote mark
@example("\n".join(["某县科技局2022年工作总结", "一、主要成效", "".join(SENTENCES), "".join(reversed(SENTENCES))]
                   + ["组织产学研对接活动10场以上，促成合作项目50项。" * 2 + "他说：“要加强创新。”", "一、主要成效"] * 3), 15)
def test_wrapped_copy_gives_the_same_records(report, width):
    copy = hard_wrap(report, width)
    assert records(copy) == records(report)
    check_lossless(copy, segment_text(copy, fallback_title="t"))


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_report_wrapped_keeps_lossless_offsets(path):
    copy = hard_wrap(read_document(path), 23)
    check_lossless(copy, segment_text(copy))


def test_bundled_reports_rewrapped_at_widths_20_to_40_agree_with_the_originals():
    texts = [read_document(p) for p in ORIGINALS]
    assert len(texts) >= 190
    for width in range(20, 41):
        given_back, total = map(sum, zip(*(wrap_agreement(t, width) for t in texts)))
        print(f"width {width}: {given_back}/{total} = {given_back / total:.4f}")
        assert given_back / total >= 0.98, width
