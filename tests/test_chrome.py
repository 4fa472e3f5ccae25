"""Tests for model/chrome.py and its use by the segmenter: page counters, site buttons and fields and
running headers are records of their own with is_noise, never headings, and leave the other
records as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govtag.chrome import chrome_lines
from govtag.readers import read_document
from govtag.reflow import hard_wrap
from govtag.segment import segment_file, segment_text
from tests.test_segment import check_lossless

ROOT = Path(__file__).resolve().parents[1]
COUNTY = ROOT / "data" / "reports" / "pingyang-keji-2022.txt"
# clean corpus copies: the build gives some reports a 范文 site's chrome or hard-wraps them
CORPUS = [p for p in sorted((ROOT / "data" / "corpus" / "reports").glob("*.txt"))
          if not any(s.is_noise or "\n" in s.text for s in segment_file(p))]

CHROME = ["正文复制 收藏 下载 举报", "上传人：张三", "文档编号：F2022-118", "第1页 / 共10页", "第 3 页", "共10页 第2页",
          "— 3 —", "- 12 -", "－7－", "12", "3/10", "Page 2 of 9", "当前位置：首页 > 范文 > 工作总结", "首页 > 工作总结",
          "www.fanwen.example.com", "发布时间：2023-01-05 来源：县科技局", "字号：大 中 小", "返回顶部", "上一篇：某局工作总结"]
NOT_CHROME = ["来源于企业的研发投入增长25%。", "全年下载量突破10万次，收藏用户2万人。", "一、主要成效", "（一）抓平台",
              "某县科技局2022年工作总结", "全年完成任务。", "举报投诉处理率100%。", "2022年"]


@pytest.mark.parametrize("line", CHROME)
def test_chrome_lines(line):
    assert chrome_lines(["某县科技局工作总结", line, "全年完成任务。"]) == {1}


@pytest.mark.parametrize("line", NOT_CHROME)
def test_report_lines_are_not_chrome(line):
    assert chrome_lines(["某县科技局工作总结", line, "全年完成任务。"]) == set()


def test_running_headers_repeat_at_page_edges():
    page = ["全年完成任务。", "新增高企42家。"]
    lines = ["某县科学技术局", *page, "— 1 —", "某县科学技术局", *page]
    assert chrome_lines(lines) == {0, 3, 4}
    # three times anywhere; a repeated heading is not a header
    lines = ["（一）抓平台", "平台建设", *page, "平台建设", *page, "平台建设", "（一）抓平台", *page]
    assert chrome_lines(lines) == {1, 4, 7}


def test_a_title_repeated_as_running_header_stays_the_title():
    body = "全年全县规上工业企业研发费用增长25%，全市排名第2。"
    lines = ["某县科技局2022年工作总结", body, "— 1 —", "某县科技局2022年工作总结", body, "— 2 —",
             "某县科技局2022年工作总结", body]
    recs = segment_text("\n".join(lines))
    assert recs[0].doc == lines[0] and not recs[0].is_noise
    assert [s.text for s in recs if s.is_noise] == ["— 1 —", lines[0], "— 2 —", lines[0]]


def test_a_repeated_closing_quote_is_no_running_header():
    page = ["他说：“要加强创新。", "”", "全年完成任务。"]
    assert chrome_lines(["某县科技局工作总结", *page * 3]) == set()


@pytest.mark.parametrize("width", [20, 21, 22])
def test_a_wrapped_chrome_line_is_one_noise_record_with_its_rest(width):
    body = "全年全县规上工业企业研发费用增长25%，全市排名第2，高新技术产业增加值占比达到64.5%。"
    chrome = ["当前位置：首页 > 范文大全 > 工作总结", "正文复制 收藏 举报", "上传人：陈** 文档编号：WK569616"]
    text = "\n".join(["2025年沧屿市政府工作报告", *chrome, "各位代表：", body, "一、2024年工作回顾", body, body])
    copy = hard_wrap(text, width)
    recs = segment_text(copy)
    check_lossless(copy, recs)
    assert [s.text.replace("\n", "") for s in recs if s.is_noise] == chrome
    assert [s.text.replace("\n", "") for s in recs if not s.is_noise] == [
        "2025年沧屿市政府工作报告", "各位代表：", body, "一、2024年工作回顾", body, body]


def test_a_full_line_of_text_after_a_chrome_line_of_that_width_stays_text():
    body = "今年以来，县委组织部在县委的坚强领导下，以庆祝中国共产党成立100周年为主线，扎实开展党史学习教育。"
    text = hard_wrap("\n".join(["某县组织部2021年上半年工作总结", "上传人：刘** 文档编号：WK421269", body, body]), 21)
    assert [s.is_noise for s in segment_text(text)] == [False, True, False, False]


def test_noise_records_in_the_dict():
    rec = segment_text("某局工作总结\n第1页 / 共2页\n全年完成。")[1]
    assert rec.to_dict()["is_noise"] is True and rec.is_heading is False


def test_a_page_break_inside_a_sentence_splits_it_around_the_chrome():
    recs = segment_text("一、主要成效\n全年新增高企\n— 2 —\n42家。")
    assert [(s.text, s.is_noise, s.section) for s in recs[1:]] == [
        ("全年新增高企", False, ["一、主要成效"]), ("— 2 —", True, ["一、主要成效"]), ("42家。", False, ["一、主要成效"])]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS), st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(CHROME)), max_size=6))
def test_inserted_chrome_is_noise_never_a_heading_and_changes_nothing_else(path, inserts):
    lines = read_document(path).split("\n")
    copy = list(lines)
    for at, chrome in sorted(inserts, reverse=True):
        copy.insert(1 + at % len(lines), chrome)  # after the title line: the first line may be a title
    text = "\n".join(copy)
    recs = segment_text(text, fallback_title="t")
    check_lossless(text, recs)
    noise = [s for s in recs if s.is_noise]
    assert sorted(s.text for s in noise) == sorted(c for _, c in inserts)
    assert not any(s.is_heading for s in noise)
    want = [(s.text, s.section, s.is_heading) for s in segment_text("\n".join(lines), fallback_title="t")]
    assert [(s.text, s.section, s.is_heading) for s in recs if not s.is_noise] == want


def test_county_report_has_no_chrome():
    assert not any(s.is_noise for s in segment_text(read_document(COUNTY)))
