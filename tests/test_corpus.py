"""The shipped corpus: valid records, exactly the segmenter's output for its raw files, big enough,
and every consistency flag fixed or confirmed."""

import collections
import json
import subprocess
import sys

import pytest

from govtag.data import load_records
from tests.conftest import ROOT
from govtag.segment import segment_file

CORPUS = ROOT / "data" / "corpus"


@pytest.fixture(scope="module")
def records(schema):
    return load_records(CORPUS / "corpus.jsonl", schema)


def test_records_are_the_segmenter_output_of_the_raw_files(records):
    by_file = collections.defaultdict(list)
    for r in records:
        by_file[r["file"]].append(r)
    raw = sorted(p.name for p in (CORPUS / "reports").iterdir())
    assert sorted(f.split("/", 1)[1] for f in by_file) == raw
    for name, recs in by_file.items():
        segs = segment_file(CORPUS / name)
        assert [(s.doc, s.section, s.text) for s in segs] == [(r["doc"], r["section"], r["text"]) for r in recs], name


def test_corpus_size_and_balance(records, schema):
    docs = {r["doc"] for r in records}
    areas = collections.Counter(r["area"] for r in records)
    types = collections.Counter(t for r in records for t in r["types"])
    assert len(docs) >= 120 and len(records) >= 4500
    assert all(areas[a] >= 400 for a in schema.areas), areas
    assert all(types[t] >= 400 for t in schema.types), types
    splits = {r["doc"]: set() for r in records}
    for r in records:
        splits[r["doc"]].add(r["split"])
    assert all(len(s) == 1 for s in splits.values()), "a report is split across train and dev"


def test_raw_files_come_in_every_encoding_and_format():
    kinds = collections.Counter()
    for p in (CORPUS / "reports").iterdir():
        if p.suffix == ".docx":
            kinds["docx"] += 1
            continue
        data = p.read_bytes()
        try:
            data.decode("utf-8")
            kinds["utf-8"] += 1
        except UnicodeDecodeError:
            data.decode("gb18030")
            kinds["gb18030"] += 1
    assert kinds["docx"] >= 2 and kinds["gb18030"] >= 5 and kinds["utf-8"] >= 50, kinds


def test_every_consistency_flag_is_fixed_or_confirmed():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_corpus.py"), str(CORPUS / "corpus.jsonl"),
                             "--strict"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_confirmed_flags_give_reasons():
    path = CORPUS / "confirmed.jsonl"
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert all(r["reason"].strip() and r["check"] and r["id"] for r in rows)
