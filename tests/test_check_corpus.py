"""scripts/check_corpus.py: the guide's rules 10-15 and types rule 3, checked on authoring files."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "check_corpus.py"
META = {"meta": True, "title": "测试县农业农村局2023年工作总结", "department": "测试县农业农村局", "shape": "annual",
        "year": 2023, "layout": "lines", "encoding": "utf-8", "format": "txt"}
# (text, label before rules 10-15, label by the rules, heading); a label is (area, types)
LINES = [
    ("测试县农业农村局2023年工作总结", ("其他", []), ("乡村振兴", []), False),
    ("2023年，局里突出企业主体和平台载体两条主线，各项工作稳步推进。", ("其他", ["achievement"]), ("主体", ["achievement"]), False),
    ("一、2023年工作总结", ("其他", []), ("其他", []), True),
    ("（一）培育乡村人才队伍", ("人才", ["achievement"]), ("乡村振兴", ["achievement"]), True),
    ("全年培训高素质农民1200人。", ("人才", ["achievement", "metric"]), ("乡村振兴", ["achievement", "metric"]), False),
    ("全县技术合同成交额4.2亿元。", ("其他", ["achievement", "metric"]), ("平台", ["achievement", "metric"]), False),
    ("部门预算执行率达到98%。", ("其他", ["achievement", "metric"]), ("党建", ["achievement", "metric"]), False),
    ("（二）建设平台载体", ("平台", ["achievement"]), ("平台", ["achievement"]), True),
    ("新建院士专家工作站2家。", ("人才", ["achievement", "metric"]), ("平台", ["achievement", "metric"]), False),
    ("加快农业实验室二期建设。", ("乡村振兴", ["achievement"]), ("乡村振兴", ["achievement"]), False),
    ("机关党支部开展主题党日活动12次。", ("党建", ["achievement"]), ("党建", ["achievement", "metric"]), False),
    ("局长列席县十七届人大五次会议。", ("其他", ["achievement"]), ("其他", ["achievement"]), False),
]
EXPECTED = {("corpus-999-000", "rule14-title"), ("corpus-999-001", "rule13-first-item"),
            ("corpus-999-003", "rule10-rural-training"), ("corpus-999-004", "rule10-rural-training"),
            ("corpus-999-005", "rule11-tech-market"), ("corpus-999-006", "rule12-own-management"),
            ("corpus-999-008", "rule15-expert-station"), ("corpus-999-010", "types3-count-not-metric")}


def rule_flags(tmp_path, by_rules: bool) -> list[dict]:
    """The rule flags check_corpus.py --authoring gives for the test report, labelled one way or the other."""
    folder = tmp_path / "authoring"
    folder.mkdir()
    items = [{"text": t, "area": (new if by_rules else old)[0], "types": (new if by_rules else old)[1], "heading": h}
             for t, old, new, h in LINES]
    (folder / "R999.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [META, *items]),
                                       encoding="utf-8")
    out = tmp_path / "flags.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--authoring", str(folder), "--strict", "--json", str(out)],
                            capture_output=True, text=True)
    flags = json.loads(out.read_text(encoding="utf-8"))
    assert result.returncode == (1 if flags else 0), result.stderr
    return [f for f in flags if f["check"].startswith(("rule", "types3"))]


@pytest.mark.parametrize("by_rules", [False, True], ids=["labelled-before-the-rules", "labelled-by-the-rules"])
def test_rule_checks_flag_the_old_conventions_and_pass_the_new(tmp_path, by_rules):
    flags = rule_flags(tmp_path, by_rules)
    assert {(f["id"], f["check"]) for f in flags} == (set() if by_rules else EXPECTED)
    # each flag names the authoring line to edit: line 1 is the meta line, item n is line n + 2
    assert all(f["where"] == f"R999.jsonl:{int(f['id'][-3:]) + 2}" for f in flags)
