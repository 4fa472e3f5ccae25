"""Loading annotated data and the schema: every bad record stops with file:line and the problem."""

import json

import pytest

from govtag.context import with_previous
from govtag.data import load_records, split_records, stats
from govtag.errors import GovtagError
from govtag.schema import load_schema, schema_from_dict
from tests.conftest import PUBLIC, ROOT, needs_shared, write_jsonl

GOOD = {"id": "a-1", "doc": "某县科技局2022年工作总结", "section": ["一、2022年工作总结"],
        "text": "新增高新技术企业35家。", "area": "主体", "types": ["achievement", "metric"]}


def test_schema_matches_the_guide(schema):
    guide = (ROOT / "docs" / "labels.md").read_text(encoding="utf-8")
    assert schema.areas == ("平台", "主体", "人才", "乡村振兴", "党建", "其他")
    assert schema.types == ("achievement", "plan", "metric")
    for label in schema.areas + schema.types:
        assert f"`{label}`" in guide, label


def test_bundled_seed_loads(seed_records, schema):
    assert len(seed_records) == 87
    s = stats(seed_records, schema)
    assert s["area"]["主体"] == 26 and s["split"] == {"train": 87}


@pytest.mark.parametrize("change, message", [
    ({"area": "平 台"}, ":2: unknown area '平 台'; expected one of 平台, 主体, 人才, 乡村振兴, 党建, 其他"),
    ({"types": ["plans"]}, ":2: unknown type 'plans'; expected any of achievement, plan, metric"),
    ({"text": "  "}, ":2: empty text"),
    ({"section": "一、总结"}, ":2: 'section' must be a list"),
    ({"split": "holdout"}, ":2: unknown split 'holdout'; expected train, dev or test"),
    ({"id": "a-1"}, ":2: duplicate id 'a-1' repeated in one file (first seen at"),
    ({"id": "a-1", "text": "另一句话。"}, ":2: duplicate id 'a-1' with different content (first seen at"),
])
def test_bad_record_names_file_line_and_problem(tmp_path, schema, change, message):
    bad = {**GOOD, "id": "a-2", **change}
    path = write_jsonl(tmp_path / "x.jsonl", [GOOD, bad])
    with pytest.raises(GovtagError) as exc:
        load_records(path, schema)
    assert f"{path}{message}" in str(exc.value)


def test_missing_field_and_bad_json(tmp_path, schema):
    rec = dict(GOOD)
    del rec["types"]
    path = write_jsonl(tmp_path / "m.jsonl", [rec])
    with pytest.raises(GovtagError, match=r"m.jsonl:1: missing field\(s\) types"):
        load_records(path, schema)
    path.write_text(json.dumps(GOOD, ensure_ascii=False) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(GovtagError, match=r"m.jsonl:2: bad JSON"):
        load_records(path, schema)


@pytest.mark.parametrize("content, message", [
    (b"", "no records"), (b"\n\n", "no records"), (b"\x00\x01\x02binary", "binary"),
    ('{"id": "字"}'.encode("gb18030"), "not UTF-8"),
])
def test_bad_files(tmp_path, schema, content, message):
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    with pytest.raises(GovtagError, match=message):
        load_records(path, schema)
    with pytest.raises(GovtagError, match="file not found"):
        load_records(tmp_path / "nope.jsonl", schema)


def test_identical_records_from_two_files_are_taken_once(tmp_path, schema):
    seed = write_jsonl(tmp_path / "seed.jsonl", [GOOD])
    public = write_jsonl(tmp_path / "public.jsonl", [{**GOOD, "split": "train"}, {**GOOD, "id": "p-1"}])
    notes = []
    recs = load_records([seed, public], schema, note=notes.append)
    assert [r["id"] for r in recs] == ["a-1", "p-1"]
    assert notes == ["1 record(s) repeated in another file with the same id, text and labels were taken once"]
    clash = write_jsonl(tmp_path / "clash.jsonl", [{**GOOD, "area": "人才"}])
    with pytest.raises(GovtagError) as exc:
        load_records([seed, clash], schema)
    assert f"{clash}:1: duplicate id 'a-1' with different content (first seen at {seed}:1)" in str(exc.value)


def test_raw_unicode_line_separators_inside_a_string_are_text(tmp_path, schema):
    recs = [{**GOOD, "id": f"u-{i}", "text": f"新增{ch}高企35家。"} for i, ch in enumerate("\u2028\u2029\x85")]
    path = tmp_path / "u.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    assert [r["text"] for r in load_records(path, schema)] == [r["text"] for r in recs]


def test_split_and_previous_sentence():
    recs = [{"id": "d-1", "doc": "d", "text": "一、2022年工作总结"}, {"id": "d-2", "doc": "d", "text": "新增高企。", "split": "dev"},
            {"id": "d-7", "doc": "d", "text": "隔了几句。"}, {"id": "e-8", "doc": "e", "text": "另一份。"},
            {"id": "t-1", "doc": "t", "text": "留作测试。", "split": "test"}]
    train, dev = split_records(recs)
    assert [r["id"] for r in train] == ["d-1", "d-7", "e-8"] and [r["id"] for r in dev] == ["d-2"]
    assert [r["prev"] for r in with_previous(recs)] == ["", "一、2022年工作总结", "", "", ""]


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s.pop("types"), "missing key 'types'"),
    (lambda s: s["area"].append(dict(s["area"][0])), "area label '平台' is listed twice"),
    (lambda s: s["area"][0].pop("description"), "needs a non-empty 'description'"),
    (lambda s: s.update(extra=1), "unknown key"),
    (lambda s: s["types"][0].update(colour="red"), "unknown key(s) colour"),
])
def test_schema_errors(mutate, message):
    import copy

    raw = copy.deepcopy(load_schema().raw)
    mutate(raw)
    with pytest.raises(GovtagError) as exc:
        schema_from_dict(raw, "my-schema.yaml")
    assert "my-schema.yaml" in str(exc.value) and message in str(exc.value)


@needs_shared
def test_public_data_loads(schema):
    recs = load_records(PUBLIC, schema)
    assert len(recs) == 2010
    assert {r.get("split") for r in recs} == {"train", "dev"}


def test_page_chrome_is_nobodys_previous_sentence():
    recs = [{"doc": "d", "index": 0, "text": "全年新增高企12家。"},
            {"doc": "d", "index": 1, "text": "第1页 / 共3页", "is_noise": True},
            {"doc": "d", "index": 2, "text": "新建省级研发中心3家。"}, {"doc": "d", "index": 7, "text": "隔了几句。"}]
    assert [r["prev"] for r in with_previous(recs)][2:] == ["全年新增高企12家。", ""]
