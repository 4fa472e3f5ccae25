"""Tests for model/segment.py: sentence and heading rules, titles, encodings, errors, losslessness,
and agreement with the human segmentation of the county report (the seed records). Reading every
format is tested in test_readers.py, hard-wrapped copies in test_reflow.py, page chrome in
test_chrome.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govtag.readers import normalise, read_document
from govtag.segment import Sentence, detect_title, segment_file, segment_text

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _first(*paths: Path) -> Path | None:
    return next((p for p in paths if p.exists()), None)


COUNTY = _first(ROOT / "data" / "reports" / "pingyang-keji-2022.txt",
                SHARED / "data" / "reports" / "county" / "pingyang-keji-2022.txt")
SEED = _first(ROOT / "data" / "seed.jsonl", SHARED / "data" / "annotated" / "sentences.jsonl")
needs_county = pytest.mark.skipif(COUNTY is None, reason="the county report is neither in data/reports/ "
                                  "nor in ../shared/data/reports/county/")
needs_seed = pytest.mark.skipif(COUNTY is None or SEED is None, reason="the county report or the seed "
                                "records (data/seed.jsonl or ../shared/data/annotated) are absent")
L1_PLAN = "二、2023年工作思路"


def check_lossless(text: str, recs: list[Sentence]) -> None:
    """Records cover every non-space character in order; only whitespace lies between them."""
    pos = 0
    for i, r in enumerate(recs):
        assert r.index == i
        assert r.text and r.text == r.text.strip(), r
        assert text[r.start:r.end] == r.text, r
        assert r.start >= pos and text[pos:r.start].strip() == "", (text[pos:r.start], r)
        pos = r.end
    assert text[pos:].strip() == ""


def texts(text: str, **kw) -> list[str]:
    return [s.text for s in segment_text(text, **kw)]


def heads(text: str) -> list[tuple[str, list[str]]]:
    return [(s.text, s.section) for s in segment_text(text) if s.is_heading]


# --- the county report --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def county():
    return segment_file(COUNTY)


@needs_county
def test_county_headings_and_title(county):
    check_lossless(read_document(COUNTY), county)
    assert {s.doc for s in county} == {"pingyang-keji-2022"}  # first line is the whole text: no title
    hs = [s for s in county if s.is_heading]
    assert [s.text for s in hs if not s.section] == ["一、2022年工作总结", L1_PLAN]
    assert hs[1].text == "(一)扎实推进科技工作,超额完成年度任务。"
    assert hs[1].section == ["一、2022年工作总结"]
    assert len(hs) == 2 + 8 + 4


@needs_county
def test_county_plan_sections(county):
    i = next(i for i, s in enumerate(county) if s.text == L1_PLAN)
    assert county[i].is_heading and county[i].section == []
    assert county[i + 1].text.startswith("深入学习党的二十大精神") and not county[i + 1].is_heading
    assert all(s.section[:1] == [L1_PLAN] for s in county[i + 1:])
    assert county[i + 2].text == "(一)抓指标,引导全社会加大研发投入。"
    assert county[i + 3].section == [L1_PLAN, "(一)抓指标,引导全社会加大研发投入。"]


@needs_seed
def test_county_matches_seed_records(county):
    seed = [json.loads(x) for x in SEED.read_text(encoding="utf-8").splitlines() if x.strip()]
    seed = [r for r in seed if r["id"].startswith("seed-")][3:]  # seed-000..002: the glued web-page title
    start = next(i for i, s in enumerate(county) if s.text == seed[0]["text"])
    got = [(s.text, s.section) for s in county[start:]]
    assert got == [(r["text"], r["section"]) for r in seed]


# --- sentence rules -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("全年完成任务。新增高企42家！是否达标？是的!好?", ["全年完成任务。", "新增高企42家！", "是否达标？", "是的!", "好?"]),
    ("他说：“要加强创新。”全年完成。", ["他说：“要加强创新。”", "全年完成。"]),
    ("批示（“可以推广。”）。下一句。", ["批示（“可以推广。”）。", "下一句。"]),
    ("《通知。》文件」后。", ["《通知。》", "文件」后。"]),
    ("真的吗？！当然……。好", ["真的吗？！", "当然……。", "好"]),
    ("研发费用增长25%；全市排名第2;累计增速。", ["研发费用增长25%；全市排名第2;累计增速。"]),
    ("第一行没有句号\n第二行。第三句", ["第一行没有句号", "第二行。", "第三句"]),
    ('遴选"鹤鸣英才计划。"然后。"引用"句。', ['遴选"鹤鸣英才计划。"', "然后。", '"引用"句。']),
    ("全年。  下一句。\t再一句", ["全年。", "下一句。", "再一句"]),
    ("增长3.5%，R&D投入2.1亿元。", ["增长3.5%，R&D投入2.1亿元。"]),
])
def test_sentence_splitting(text, expected):
    assert texts(text, doc="") == expected
    check_lossless(text, segment_text(text, doc=""))


# --- headings -----------------------------------------------------------------------------------

def test_heading_levels_and_reset():
    text = ("一、2022年工作总结\n（一）抓指标，引导全社会加大研发投入。\n全年完成。\n(二)抓主体\n新增高企。\n"
            "二、存在的问题\n人才不足。\n三、下一步工作打算\n（一）抓平台。\n建设实验室。")
    recs = segment_text(text)
    got = [(s.text, s.is_heading, s.section) for s in recs]
    l1, l2a, l2b = "一、2022年工作总结", "（一）抓指标，引导全社会加大研发投入。", "(二)抓主体"
    assert got == [
        (l1, True, []),
        (l2a, True, [l1]),
        ("全年完成。", False, [l1, l2a]),
        (l2b, True, [l1]),
        ("新增高企。", False, [l1, l2b]),
        ("二、存在的问题", True, []),
        ("人才不足。", False, ["二、存在的问题"]),  # the new level 1 resets level 2
        ("三、下一步工作打算", True, []),
        ("（一）抓平台。", True, ["三、下一步工作打算"]),
        ("建设实验室。", False, ["三、下一步工作打算", "（一）抓平台。"]),
    ]


def test_level2_heading_ends_at_first_sentence_end():
    assert texts("（一）抓指标，引导全社会加大研发投入。完善R&D经费结构。") == \
        ["（一）抓指标，引导全社会加大研发投入。", "完善R&D经费结构。"]
    assert heads("（二）聚力主体倍增\n加强培育。") == [("（二）聚力主体倍增", [])]


def test_no_false_headings():
    text = "全年实现一、二产融合发展。一、二产业协同推进。一是获批试点。二是升级政策。全省仅3个县(另外两个为缙云县)。"
    recs = segment_text(text)
    assert not any(s.is_heading for s in recs)
    assert [s.text for s in recs][:2] == ["全年实现一、二产融合发展。", "一、二产业协同推进。"]
    # a marker in mid-sentence is not a heading either
    assert heads("工作分为一、准备阶段和(一)启动阶段。") == []


@pytest.mark.parametrize("text, heading, body", [
    ("一、2022年工作总结(一)扎实推进科技工作。全年完成。", "一、2022年工作总结", "(一)扎实推进科技工作。"),
    ("前言。二、2023年工作思路深入学习精神,聚焦重点。(一)抓指标。", "二、2023年工作思路", "深入学习精神,聚焦重点。"),
    ("一、主要做法及成效全年完成任务。好。", "一、主要做法及成效", "全年完成任务。"),
    ("二、存在的问题和不足一是人才缺乏。好。", "二、存在的问题和不足", "一是人才缺乏。"),
    ("一、目标任务完成情况全年完成。好。", "一、目标任务完成情况", "全年完成。"),
    ("一、2020年主要工作2020年,全县完成。好。", "一、2020年主要工作", "2020年,全县完成。"),
    ("一、坚持创新驱动，加快建设科技强县（一）加快平台建设。", "一、坚持创新驱动，加快建设科技强县", "（一）加快平台建设。"),
    ("一、坚持创新驱动，加快建设科技强县。全年完成。", "一、坚持创新驱动，加快建设科技强县。", "全年完成。"),
    ("一、工作目标明确，成效显著。\n全年完成。", "一、工作目标明确，成效显著。", "全年完成。"),
])
def test_glued_level1_headings(text, heading, body):
    recs = segment_text(text, doc="")
    i = next(i for i, s in enumerate(recs) if s.is_heading and not s.section)
    assert (recs[i].text, recs[i + 1].text) == (heading, body)
    assert recs[i + 1].section[:1] == [heading]
    check_lossless(text, recs)


def test_part_and_level3_headings_only_on_their_own_line():
    text = "第一部分 工作回顾\n一、人才工作\n1.高端人才招引成效明显\n引进人才12人。\n2.完成3.5亿元投资。"
    got = [(s.text, s.is_heading, s.section) for s in segment_text(text)]
    assert got[:4] == [("第一部分 工作回顾", True, []), ("一、人才工作", True, []),
                       ("1.高端人才招引成效明显", True, ["一、人才工作"]),
                       ("引进人才12人。", False, ["一、人才工作", "1.高端人才招引成效明显"])]
    assert got[4][1] is False  # a numbered sentence with a full stop is a list item, not a heading


# --- titles -------------------------------------------------------------------------------------

def test_title_detected_and_emitted_as_record_0():
    text = "平阳县科技局2022年工作总结和2023年工作思路\n2022年，县科技局坚持创新。\n一、工作总结\n全年完成。"
    recs = segment_text(text, fallback_title="stem")
    assert {s.doc for s in recs} == {"平阳县科技局2022年工作总结和2023年工作思路"}
    assert (recs[0].text, recs[0].is_heading, recs[0].section, recs[0].start) == (recs[0].doc, False, [], 0)
    assert recs[1].section == []


@pytest.mark.parametrize("first_line", [
    "2022年，县科技局坚持创新，取得成效。",  # a sentence
    "一、2022年工作总结",  # a heading
    "县科技局全体干部职工",  # no report word
    "关于" + "科技" * 30 + "的工作总结",  # too long
    "各位代表：",
])
def test_title_falls_back(first_line):
    text = first_line + "\n全年完成任务。"
    assert detect_title(text, "my-report") == "my-report"
    assert {s.doc for s in segment_text(text, fallback_title="my-report")} == {"my-report"}


def test_explicit_doc_wins():
    assert {s.doc for s in segment_text("某局工作总结\n全年完成。", doc="给定")} == {"给定"}


# --- normalisation and reading ------------------------------------------------------------------

def test_normalise_touches_only_whitespace():
    raw = "\u3000\u3000一、工作总结 \r\n\r\n\t全年完成（ＡＢ）“任务”。 \r二行\n\n\n"
    assert normalise(raw) == "一、工作总结\n全年完成（ＡＢ）“任务”。\n二行"
    assert normalise(normalise(raw)) == normalise(raw)


REPORT = "某县科技局2022年工作总结\r\n\u3000\u3000一、主要成效\r\n（一）抓指标。全年研发投入增长25%；排名第2。\r\n二、下一步打算\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_give_identical_records(tmp_path, encoding):
    ref = tmp_path / "ref.txt"
    ref.write_bytes(REPORT.encode("utf-8"))
    f = tmp_path / "ref-copy" / "ref.txt"
    f.parent.mkdir()
    f.write_bytes(REPORT.encode(encoding))
    assert segment_file(f) == segment_file(ref)
    assert segment_file(f)[0].doc == "某县科技局2022年工作总结"


def test_docx_reads_paragraphs(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    for line in REPORT.split("\r\n"):
        d.add_paragraph(line)
    d.save(tmp_path / "report.docx")
    (tmp_path / "report.txt").write_text(REPORT, encoding="utf-8")
    assert segment_file(tmp_path / "report.docx") == segment_file(tmp_path / "report.txt")


# --- losslessness -------------------------------------------------------------------------------

TOKENS = list("科技创新全年完成任务平台人才企业") + list("。！？!?；;，,”）」)\"") + \
    ["一、", "二、", "（一）", "(二)", "一是", "工作总结", "思路", "和", "\n", "\r\n", "\u3000", " ", "  ", "\t", "1."]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=80))
def test_lossless_property(tokens):
    raw = "".join(tokens)
    text = normalise(raw)
    assert re.sub(r"\s", "", text) == re.sub(r"\s", "", raw)  # only whitespace changed
    recs = segment_text(text, fallback_title="t")
    check_lossless(text, recs)
    for s in recs:  # section paths only ever hold earlier headings (without the breaks a copy wrapped them at)
        earlier = {re.sub(r"\s", "", r.text) for r in recs[:s.index] if r.is_heading}
        assert all(re.sub(r"\s", "", h) in earlier for h in s.section)
    check_lossless(raw, segment_text(raw, fallback_title="t"))  # even unnormalised text is covered


DATA_FILES = sorted(p for ext in ("txt", "docx") for p in (ROOT / "data").glob(f"**/*.{ext}"))


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_lossless_on_bundled_reports(path):
    check_lossless(read_document(path), segment_file(path))


def test_to_dict():
    recs = segment_text("一、工作总结\n全年完成。")
    assert recs[1].to_dict() == {"doc": "", "index": 1, "text": "全年完成。", "section": ["一、工作总结"],
                                 "is_heading": False, "start": 7, "end": 12, "is_noise": False}


def test_lossless_on_a_long_text():  # its speed is measured by `scripts/bench.py segment`
    unit = "一、2022年工作总结(一)扎实推进科技工作,超额完成年度任务。全年全县研发费用亿元;全市排名第2。“好！”\n"
    big = normalise(unit * (100_000 // len(unit) + 1))
    check_lossless(big, segment_text(big))
