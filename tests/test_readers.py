"""Tests for model/readers.py and model/decoding.py: every format and encoding a report arrives in,
Word tables, PDFs made here with a CJK font from a package, saved web pages, and bad input ending
in one sentence that names the file (and line)."""

from __future__ import annotations

import email.mime.multipart
import email.mime.text
import os
from pathlib import Path

import pytest

from govtag.errors import GovtagError
from govtag.readers import READABLE, SUFFIXES, read_document
from govtag.segment import segment_file

FIXTURES = Path(__file__).parent / "fixtures"
REPORT = "某县科技局2022年工作总结\n一、主要成效\n（一）抓指标。全年研发投入增长25%；排名第2。\n二、下一步打算\n新增高企35家。\n"
BIG5 = "平陽縣科技局2022年工作總結\n一、主要成效\n全年全縣規上工業企業研發費用增長25%，全市排名第2。\n二、下一步工作打算\n加快建設科技創新平臺。\n"


def error(path) -> str:
    """The one-line GovtagError message for ``path``, which must name the file."""
    with pytest.raises(GovtagError) as e:
        read_document(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg
    return msg


def records(path) -> list[tuple[str, list[str], bool, bool]]:
    return [(s.text, s.section, s.is_heading, s.is_noise) for s in segment_file(path)]


def test_error_paths(tmp_path):
    assert "no such file" in error(tmp_path / "missing.txt")
    assert "folder" in error(tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    assert "empty" in error(tmp_path / "empty.txt")
    (tmp_path / "blank.txt").write_text(" \u3000\r\n\t\n", encoding="utf-8")
    assert "empty" in error(tmp_path / "blank.txt")
    (tmp_path / "nul.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in error(tmp_path / "nul.txt")
    (tmp_path / "latin1.txt").write_bytes("Résumé de l'été: café, naïve, déjà vu.".encode("latin-1"))
    assert "UTF-8" in error(tmp_path / "latin1.txt")
    # these Latin-1 bytes happen to decode as GB18030, to rare characters no report uses
    (tmp_path / "latin1b.txt").write_bytes("étés étés, Noël".encode("latin-1"))
    assert "GB18030" in error(tmp_path / "latin1b.txt")
    (tmp_path / "report.rtf").write_bytes(b"{\\rtf1}")
    msg = error(tmp_path / "report.rtf")
    assert ".rtf" in msg and ".txt" in msg and ".docx" in msg and ".pdf" in msg
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    assert ".docx" in error(tmp_path / "broken.docx")
    (tmp_path / "empty.docx").write_bytes(b"")
    error(tmp_path / "empty.docx")


# --- encodings ----------------------------------------------------------------------------------

def test_big5_is_decoded(tmp_path):
    raw = BIG5.encode("big5")
    raw.decode("gb18030")  # Big5 bytes are valid GB18030 too: the reader must tell them apart
    (tmp_path / "big5.txt").write_bytes(raw)
    (tmp_path / "ref.txt").write_text(BIG5, encoding="utf-8")
    assert read_document(tmp_path / "big5.txt") == read_document(tmp_path / "ref.txt")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded(tmp_path, codec):
    (tmp_path / "r.txt").write_bytes(REPORT.encode(codec))
    assert read_document(tmp_path / "r.txt") == REPORT.strip()


def test_gb18030_report_is_not_taken_for_big5(tmp_path):
    (tmp_path / "r.txt").write_bytes(REPORT.encode("gb18030"))
    assert read_document(tmp_path / "r.txt") == REPORT.strip()


def test_stray_byte_is_reported_on_its_line(tmp_path):
    raw = REPORT.encode("utf-8")
    at = raw.index("二、".encode())  # the start of line 4
    (tmp_path / "stray.txt").write_bytes(raw[:at] + b"\xff" + raw[at:])
    msg = error(tmp_path / "stray.txt")
    assert f"{tmp_path / 'stray.txt'}:4:" in msg and "0xff" in msg and "UTF-8" in msg


# --- files that are not reports -----------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
@pytest.mark.timeout(30)  # the old reader waited on the pipe for ever
def test_a_named_pipe_is_refused_without_reading(tmp_path):
    os.mkfifo(tmp_path / "x.txt")  # opening it would wait for a writer for ever
    assert "not a regular file" in error(tmp_path / "x.txt")


def test_doc_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    assert "save it as .docx" in error(tmp_path / "old.doc")
    (tmp_path / "renamed.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    assert "Word 97" in error(tmp_path / "renamed.docx")


def test_suffixes_list_every_readable_format_and_doc():
    assert set(READABLE) < set(SUFFIXES) and ".doc" in SUFFIXES
    assert {".txt", ".docx", ".pdf", ".html", ".htm", ".mhtml"} <= set(READABLE)


def test_unknown_suffix_names_the_readable_ones(tmp_path):
    (tmp_path / "r.rtf").write_bytes(b"{\\rtf1}")
    msg = error(tmp_path / "r.rtf")
    assert all(s in msg for s in READABLE)


# --- Word ---------------------------------------------------------------------------------------

def test_docx_table_rows_are_read_in_place_with_their_section(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("某县科技局2022年目标任务完成情况")
    d.add_paragraph("一、主要指标完成情况")
    d.add_paragraph("全年各项指标全面完成。")
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate([["指标", "目标", "完成"], ["研发费用", "20亿元", "21.6亿元"], ["合计", "", "超额完成。"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(2, 0).merge(table.cell(2, 1))  # one cell across two columns is read once
    d.add_paragraph("二、存在问题")
    d.add_paragraph("人才不足。")
    d.save(tmp_path / "report.docx")
    got = records(tmp_path / "report.docx")
    section = ["一、主要指标完成情况"]
    assert got[3:7] == [("指标\t目标\t完成", section, False, False), ("研发费用\t20亿元\t21.6亿元", section, False, False),
                        ("合计\t超额完成。", section, False, False), ("二、存在问题", [], True, False)]
    text = read_document(tmp_path / "report.docx")
    assert all(text[s.start:s.end] == s.text for s in segment_file(tmp_path / "report.docx"))


# --- PDF ----------------------------------------------------------------------------------------

def cjk_pdf(path: Path, lines: list[str], header: str | None = None) -> Path:
    """A PDF of ``lines`` wrapped at the page width, in a CJK TrueType font that mplfonts ships,
    with ``header`` and a "— n —" counter on every page when given."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev extra) makes the test PDFs")
    mplfonts = pytest.importorskip("mplfonts", reason="mplfonts (dev extra) ships the CJK font")
    font = Path(mplfonts.__file__).parent / "fonts" / "SimHei.ttf"
    if not font.exists():
        pytest.skip(f"{font} is not in this mplfonts version")

    class Report(fpdf.FPDF):
        def header(self):
            if header:
                self.cell(0, 8, header, align="C", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            if header:
                self.set_y(-15)
                self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = Report()
    pdf.add_font("cjk", fname=str(font))
    pdf.set_font("cjk", size=12)
    pdf.add_page()
    for line in lines:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


LONG = ("全年全县规上工业企业研发费用增长25%，全市排名第2，高新技术产业增加值占规上工业增加值比重达到64.5%，"
        "居全市前列，技术市场交易额完成年度任务的128%。")
PDF_LINES = ["某县科技局2022年工作总结", "一、主要成效", "（一）抓指标", LONG * 2, "（二）抓平台", "新建省级重点实验室1家。"]


def test_pdf_lines_wrapped_by_the_page_are_reflowed(tmp_path):
    got = records(cjk_pdf(tmp_path / "r.pdf", PDF_LINES))
    (tmp_path / "r.txt").write_text("\n".join(PDF_LINES), encoding="utf-8")
    want = records(tmp_path / "r.txt")
    assert [(t.replace("\n", ""), *rest) for t, *rest in got] == want
    assert any("\n" in t for t, *_ in got)  # the page did wrap the long sentences


def test_pdf_running_headers_and_page_counters_are_noise(tmp_path):
    lines = PDF_LINES[:3] + [LONG] * 30 + PDF_LINES[4:]
    got = segment_file(cjk_pdf(tmp_path / "r.pdf", lines, header="某县科学技术局文件"))
    noise = [s for s in got if s.is_noise]
    assert {s.text for s in noise} >= {"某县科学技术局文件", "— 1 —", "— 2 —"}
    assert not any(s.is_heading for s in noise)
    assert got[0].doc == "某县科技局2022年工作总结"
    assert [s.text for s in got if s.is_heading] == ["一、主要成效", "（一）抓指标", "（二）抓平台"]


def test_scanned_pdf_without_text_layer_is_one_sentence(tmp_path):
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (dev extra) makes the test PDFs")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50, style="F")  # a picture and no text, as a scanner makes
    pdf.output(str(tmp_path / "scan.pdf"))
    assert "no text layer" in error(tmp_path / "scan.pdf")


def test_broken_pdf_is_one_sentence(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    assert "not a readable PDF" in error(tmp_path / "broken.pdf")


# --- web pages ----------------------------------------------------------------------------------

PAGE = FIXTURES / "fanwen-page.html"


def test_html_main_text_with_buttons_as_noise():
    got = segment_file(PAGE)
    assert got[0].doc == "某县科技局2022年工作总结和2023年工作思路"
    assert [s.text for s in got if s.is_noise] == ["上传人：张三 文档编号：F2022-118", "正文复制 收藏 下载 举报"]
    texts = [s.text for s in got]
    assert "热门推荐" not in texts and not any("版权所有" in t for t in texts)  # menus and footer left out
    plan = next(s for s in got if s.text.startswith("新增高新技术企业35家以上"))
    assert plan.section == ["二、2023年工作思路", "（二）抓主体。"]


def test_html_in_gbk_and_saved_as_mhtml_read_alike(tmp_path):
    want = records(PAGE)
    html = PAGE.read_text(encoding="utf-8")
    (tmp_path / "gbk.htm").write_bytes(html.replace('charset="utf-8"', 'charset="gbk"').encode("gbk"))
    assert records(tmp_path / "gbk.htm") == want
    message = email.mime.multipart.MIMEMultipart("related")
    message.attach(email.mime.text.MIMEText(html, "html", "utf-8"))
    (tmp_path / "page.mhtml").write_bytes(message.as_bytes())
    assert records(tmp_path / "page.mhtml") == want


def test_mhtml_without_a_page_is_one_sentence(tmp_path):
    message = email.mime.multipart.MIMEMultipart("related")
    message.attach(email.mime.text.MIMEText("只是文字", "plain", "utf-8"))
    (tmp_path / "x.mht").write_bytes(message.as_bytes())
    assert "no web page" in error(tmp_path / "x.mht")
