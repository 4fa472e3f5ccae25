"""One contract every backend keeps (flair's BaseModelTest pattern), parametrised over the backends.

The transformer backend joins through the ``tiny_transformer`` factory in conftest, which uses a tiny
randomly initialised encoder so the contract runs in seconds.
"""

import json
import shutil

import numpy as np
import pytest

from govtag.backends import FORMAT_VERSION, Tagger, get_backend, load_model
from govtag.errors import GovtagError
from tests.conftest import BACKEND_FACTORIES, per_area


@pytest.fixture(params=sorted(BACKEND_FACTORIES))
def make(request, tmp_path_factory):
    return lambda: BACKEND_FACTORIES[request.param](tmp_path_factory)


@pytest.fixture
def handful(seed_records):
    # a few sentences of each area the seed report has, with headings giving the direction
    return per_area(seed_records, 4)


def test_unfitted_model_says_so(make):
    tagger = make()
    assert not [k for k in vars(tagger) if k.endswith("_")], "__init__ must only store hyperparameters"
    with pytest.raises(GovtagError, match="not fitted yet"):
        tagger.predict([{"text": "新增高企35家。", "doc": "", "section": []}])


def test_fit_returns_self_and_proba_columns_in_schema_order(make, handful, schema):
    tagger = make()
    assert tagger.fit(handful) is tagger
    assert tagger.area_labels_ == list(schema.areas) and tagger.type_labels_ == list(schema.types)
    area_p, type_p = tagger.predict_proba(handful)
    assert area_p.shape == (len(handful), 6) and type_p.shape == (len(handful), 3)
    np.testing.assert_allclose(area_p.sum(axis=1), 1.0, atol=1e-6)
    assert ((type_p >= 0) & (type_p <= 1)).all()
    rows = tagger.predict(handful)
    assert [r["area"] for r in rows] == [schema.areas[i] for i in area_p.argmax(axis=1)]
    assert set(rows[0]) == {"area", "area_score", "types", "type_scores", "review"}
    assert all(type(r["review"]) is bool and type(r["area_score"]) is float for r in rows)
    json.dumps(rows)  # rows go straight into JSONL output


def test_overfit_then_survive_save_and_load(make, handful, tmp_path):
    tagger = make().fit(handful, handful)
    pred = tagger.predict(handful)
    gold_area = [r["area"] for r in handful]
    assert np.mean([p["area"] == g for p, g in zip(pred, gold_area)]) >= 0.9
    assert np.mean([set(p["types"]) == set(r["types"]) for p, r in zip(pred, handful)]) >= 0.8
    tagger.save(tmp_path / "m", config={"note": "test"}, metrics={"n": 1})
    loaded = Tagger.load(tmp_path / "m")  # dispatches on the saved backend
    assert type(loaded) is type(tagger) and type(tagger).load(tmp_path / "m").backend == tagger.backend
    assert load_model == Tagger.load  # one function (a bound classmethod), not a second copy
    assert loaded.predict(handful) == pred
    a1, t1 = tagger.predict_proba(handful)
    a2, t2 = loaded.predict_proba(handful)
    np.testing.assert_allclose(a1, a2, atol=1e-6)
    np.testing.assert_allclose(t1, t2, atol=1e-6)


def test_saved_config_json_is_exact(make, handful, tmp_path, schema):
    tagger = make().fit(handful)
    tagger.save(tmp_path / "m", config={"seed": 13}, metrics={}, data={"train_sentences": len(handful)})
    meta = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert meta == {
        "format_version": FORMAT_VERSION, "backend": tagger.backend, "govtag_version": "0.1.0",
        "area_labels": ["平台", "主体", "人才", "乡村振兴", "党建", "其他"],
        "type_labels": ["achievement", "plan", "metric"], "schema": schema.raw,
        "params": meta["params"], "seed": 13,
        "thresholds": {"achievement": 0.5, "plan": 0.5, "metric": 0.5}, "temperature": 1.0,
        "calibration": {"fitted_on": None}, "metrics": {}, "data": {"train_sentences": len(handful)},
        "config": {"seed": 13},
    }
    assert meta["params"] == json.loads(json.dumps(vars(tagger.params), ensure_ascii=False))
    assert "# govtag model" in (tmp_path / "m" / "README.md").read_text(encoding="utf-8")


def _saved(make, handful, tmp_path):
    make().fit(handful).save(tmp_path / "m")
    return tmp_path / "m"


def test_load_refuses_other_schema_newer_format_and_incomplete_dirs(make, handful, tmp_path):
    path = _saved(make, handful, tmp_path)
    cfg = path / "config.json"
    meta = json.loads(cfg.read_text(encoding="utf-8"))
    other = json.loads(json.dumps(meta))
    other["schema"]["area"] = other["schema"]["area"][:-1]
    cfg.write_text(json.dumps(other, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(GovtagError, match="was trained on schema"):
        load_model(path)
    newer = {**meta, "format_version": FORMAT_VERSION + 1}
    cfg.write_text(json.dumps(newer, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(GovtagError, match="newer than this govtag understands"):
        load_model(path)
    cfg.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    weights = [p for p in path.iterdir() if p.name not in ("config.json", "README.md")]
    assert weights
    for p in weights:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    with pytest.raises(GovtagError, match="incomplete"):
        load_model(path)
    cfg.unlink()
    with pytest.raises(GovtagError, match="no config.json"):
        load_model(path)
    with pytest.raises(GovtagError, match="model directory not found"):
        load_model(tmp_path / "missing")


def test_empty_training_split_is_refused(make):
    with pytest.raises(GovtagError, match="training split is empty"):
        make().fit([])


def test_training_data_with_one_area_is_one_sentence(make, seed_records):
    other = [r for r in seed_records if r["area"] == "其他"][:6]
    with pytest.raises(GovtagError, match=r"one area only \(其他\).*at least two areas"):
        make().fit(other)


def test_the_tagger_attaches_the_previous_sentence_so_train_evaluate_and_tag_agree(seed_records):
    from govtag.backends.tfidf import TfidfParams, TfidfTagger

    recs = seed_records[:40]  # a contiguous run of the seed report: every prev is the true neighbour
    bare = [{k: v for k, v in r.items() if k != "prev"} for r in recs]  # as evaluate and tag hand them over
    tagger = TfidfTagger(TfidfParams(context=["prev"], context_weight=1.0)).fit(bare)
    np.testing.assert_allclose(tagger.predict_proba(bare)[0], tagger.predict_proba(recs)[0], atol=1e-9)
    blank = [{**r, "prev": ""} for r in recs]
    assert not np.allclose(tagger.predict_proba(bare)[0], tagger.predict_proba(blank)[0])
