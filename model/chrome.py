"""Page chrome: lines of a copied or extracted report that are not report text.

Copies from 范文 sites carry their buttons and fields (正文复制, 收藏, 上传人：…, 文档编号：…), PDFs
their page counters (``第1页 / 共10页``, ``— 3 —``, ``- 12 -``) and running headers (the issuing
office's name at the top of every page). The segmenter keeps such lines as records of their own
with ``is_noise: true`` (nothing is lost), never makes them headings, and the tagger does not send
them to the model. Only whole lines are chrome: a banner glued into a sentence stays in it.

Example:
    >>> sorted(chrome_lines(["某县科技局2022年工作总结", "正文复制 收藏 举报", "全年完成任务。", "— 3 —"]))
    [1, 3]
"""

from __future__ import annotations

import collections
import re

_DASH = "-—–－─"
_COUNTER = re.compile(
    r"第\s*\d+\s*页\s*[/／,，]?\s*(共\s*\d+\s*页)?"  # 第1页 / 共10页, 第 3 页
    r"|共\s*\d+\s*页\s*[/／,，]?\s*第\s*\d+\s*页"  # 共10页 第1页
    rf"|[{_DASH}]{{1,2}}\s*\d{{1,4}}\s*[{_DASH}]{{1,2}}"  # — 3 —, - 12 -
    r"|\d{1,4}(\s*[/／]\s*\d{1,4})?"  # 3, 3/10
    r"|(page|页码)\s*[:：]?\s*\d+(\s*(of|/)\s*\d+)?", re.IGNORECASE)
# Buttons and links of sample-report sites and government portals; a chrome line consists of
# nothing else (with separators), so a report sentence that mentions 下载 or 收藏 is not one.
_BUTTONS = sorted("""正文复制 全文复制 复制全文 复制本文 复制 收藏本文 收藏 取消收藏 免费下载 立即下载 下载文档 下载本文
    下载word版 下载 举报 分享到 分享 打印本页 打印 关闭窗口 关闭 返回顶部 返回首页 返回列表 首页 登录 注册 点赞 评论
    阅读全文 展开全文 展开阅读全文 收起 更多 相关推荐 猜你喜欢 热门推荐 热门文章 相关文章 相关阅读 推荐阅读 上一篇 下一篇
    上一页 下一页 纠错 我要纠错 扫一扫 二维码 手机版 VIP 开通VIP 会员 打印本文""".split(),
                  key=len, reverse=True)
_BUTTON_LINE = re.compile(rf"(?:(?:{'|'.join(map(re.escape, _BUTTONS))})[\s|｜/·•、,，:：【】\[\]()（）<>《》»›]*)+",
                          re.IGNORECASE)
# Fields of a document page: "上传人：张三", "文档编号：F2022-118", "发布时间：2023-01-05 来源：…"; the
# colon is required, so "来源于企业的研发投入…" is not one.
_FIELD = re.compile(r"(上传人|上传者|上传时间|上传日期|文档编号|文档ID|文档页数|下载次数|下载积分|浏览次数|浏览量|阅读次数|"
                    r"阅读量|发布时间|发布日期|更新时间|信息来源|来源|作者|责任编辑|编辑|点击数|字号|字体|分享到|"
                    r"上一篇|下一篇|关键词|标签|所属分类|本文链接|原文链接|原文地址|版权声明|免责声明|当前位置|"
                    r"您的位置|您现在的位置)\s*[:：]|首页\s*[>»›＞/]|版权所有|copyright|©", re.IGNORECASE)
_URL = re.compile(r"https?://|www\.|\.(com|cn|net|org)(/|\b)", re.IGNORECASE)
_FIELD_MAX = 80
_RUNNING_MAX = 40
# A heading or numbered line may repeat in a report ("（一）平台建设" under the summary and the
# plan); a running header does not start with such a marker.
_MARKED = re.compile(r"[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[.．、]|第[一二三四五六七八九十]")
_ENDS_SENTENCE = re.compile(r"[。！？!?；;]")
_CLAUSE = re.compile("[，,]")
# A header names its office or report; the tail of a wrapped paragraph that repeats ("”") does not.
_NAMES = re.compile(r"[^\W\d_]{2}")


def chrome_lines(lines: list[str], title_first: bool = False) -> set[int]:
    """Indexes of the lines that are page chrome: counters, buttons, site fields and running headers.

    Args:
        lines: the report's lines (stripped, non-empty).
        title_first: the first line is the report's title; it is kept even when a running header
            repeats it on later pages.

    Returns:
        The indexes of the chrome lines.

    Example:
        >>> sorted(chrome_lines(["上传人：张三", "第1页 / 共2页", "全年新增高企42家。"]))
        [0, 1]
    """
    found = {i for i, line in enumerate(lines) if _is_chrome(line)}
    running = _running_headers(lines, found)
    if title_first:
        running.discard(0)
    return found | running


def chrome_rest(line: str, rest: str) -> bool:
    """Whether ``rest`` carries on the chrome line ``line`` that a copy wrapped at its width.

    Args:
        line: a chrome line that fills the copy's width.
        rest: the next line.

    Returns:
        True when the two read as one chrome line and ``rest`` is no sentence, heading or chrome
        line of its own (a page counter aside: "…文档编号：WK56961" / "6").

    Example:
        >>> chrome_rest("当前位置：首页 > 范文大全 > 工作总", "结"), chrome_rest("上传人：张三", "一、主要目标")
        (True, False)
    """
    if _ENDS_SENTENCE.search(rest) or _CLAUSE.search(rest) or _MARKED.match(rest) \
            or (_is_chrome(rest) and not _COUNTER.fullmatch(rest)):
        return False
    return _is_chrome(line + rest)


def _is_chrome(line: str) -> bool:
    if _COUNTER.fullmatch(line) or _BUTTON_LINE.fullmatch(line):
        return True
    if len(line) > _FIELD_MAX:
        return False
    return bool(_FIELD.match(line)) or bool(_URL.search(line) and not _ENDS_SENTENCE.search(line))


def _running_headers(lines: list[str], chrome: set[int]) -> set[int]:
    """Short unmarked lines of words without sentence punctuation that repeat: three times or more
    anywhere, or twice where every copy sits at a page edge (the text's start or end, or beside a
    counter). A line near the text's full width is a piece of a wrapped paragraph, not a header."""
    copies: dict[str, list[int]] = collections.defaultdict(list)
    short = 0.9 * max(map(len, lines), default=0)
    for i, line in enumerate(lines):
        key = re.sub(r"\s", "", line)
        if i not in chrome and _NAMES.search(key) and len(key) <= _RUNNING_MAX and len(line) < short \
                and not _ENDS_SENTENCE.search(key) and not _MARKED.match(key):
            copies[key].append(i)
    edge = {0, len(lines) - 1} | {j for i in chrome for j in (i - 1, i + 1)}
    found: set[int] = set()
    for where in copies.values():
        if len(where) >= 3 or (len(where) == 2 and all(i in edge for i in where)):
            found.update(where)
    return found
