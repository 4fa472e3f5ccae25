"""Transformer backend specifics, on a tiny randomly initialised BERT (`make_tiny_encoder` in conftest).

The one end-to-end check with the real default encoder is marked slow.
"""

from __future__ import annotations

import json
import os
import signal
import stat

import numpy as np
import pytest
import torch
import yaml

from govtag.backends import RunOptions, Tagger
from govtag.backends.transformer import TransformerParams, TransformerTagger, class_weights
from govtag.errors import GovtagError
from govtag.network import TwoHeadConfig, TwoHeadModel
from tests.conftest import ROOT, per_area, tiny_params

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def few(seed_records):
    return per_area(seed_records, 5)


@pytest.fixture(scope="session")
def fitted(tiny_encoder, few, tmp_path_factory):
    run = RunOptions(checkpoint_dir=str(tmp_path_factory.mktemp("ckpt")))
    return TransformerTagger(tiny_params(tiny_encoder, epochs=8)).fit(few, few, run)


# --- params -------------------------------------------------------------------------------------
def test_default_params_pass_and_bad_values_are_named():
    assert TransformerParams().check() == []
    bad = TransformerParams(pooling="max", context=["doc", "title"], lr_heads=0.0, dropout=1.0,
                            area_class_weight="balanced", max_length=4, tfidf_weight=2.0)
    keys = [k for k, _ in bad.check()]
    assert keys == ["pooling", "context", "max_length", "lr_heads", "dropout", "area_class_weight", "tfidf_weight"]
    assert TransformerParams(freeze_layers=-1).check() == [("freeze_layers", "must be >= 0")]


def test_default_config_loads_and_every_param_is_commented():
    from govtag.config import load_config

    path = ROOT / "configs" / "default.yaml"
    cfg = load_config(path)
    assert cfg.backend == "transformer" and isinstance(cfg.params, TransformerParams)
    assert cfg.run == RunOptions(threads=2, checkpoint_dir=None, resume=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    for section, cls in (("params", TransformerParams), ("run", RunOptions)):
        start = lines.index(f"{section}:")
        block = []
        for ln in lines[start + 1:]:
            if ln and not ln.startswith(" ") and not ln.startswith("#"):
                break
            if ln.startswith("  ") and not ln.strip().startswith("#"):
                block.append(ln)
        assert {ln.split(":")[0].strip() for ln in block} == set(vars(cls())), section
        assert all("#" in ln for ln in block)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["data"]["public"] is None
    assert not {"resume", "threads", "checkpoint_dir"} & set(raw["params"])  # run-time options are not hyperparameters


def test_class_weights_favour_rare_areas():
    y = [5] * 90 + [0] * 10
    inv = class_weights(y, 6, "inv")
    sq = class_weights(y, 6, "sqrt_inv")
    assert inv[0] > sq[0] > 1 > sq[5] > inv[5]
    assert inv[1] == 1.0  # an area absent from train keeps weight 1
    assert class_weights(y, 6, "none") is None


def test_model_selection_scores_area_macro_f1_as_evaluate_does(schema):
    from types import SimpleNamespace

    from govtag.backends.training import _dev_score
    from govtag.evaluate import compute_metrics

    gold, pred = [0, 0, 5, 5], [0, 1, 5, 5]  # one 平台 sentence predicted 主体, an area absent from gold
    none = np.zeros((4, 3))
    out = _dev_score(SimpleNamespace(predictions=(np.eye(6)[pred], none), label_ids=(np.array(gold), none)))
    rows = lambda idx: [{"area": schema.areas[i], "types": []} for i in idx]  # noqa: E731
    m = compute_metrics(rows(gold), rows(pred), schema)
    assert out["area_macro_f1"] == pytest.approx((2 / 3 + 0 + 1) / 3)  # 平台, 主体, 其他: not 主体-blind
    assert m["area"]["macro_f1"] == round(out["area_macro_f1"], 4)


# --- network ------------------------------------------------------------------------------------
def _tiny_net(**kw) -> TwoHeadModel:
    from transformers import BertConfig

    enc = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    return TwoHeadModel(TwoHeadConfig(encoder_config=enc.to_dict(), num_areas=6, num_types=3, dropout=0.0, **kw))


def test_two_head_loss_is_weighted_sum_of_cross_entropy_and_bce():
    net = _tiny_net(types_loss_weight=0.5, area_class_weights=[1.0, 2.0, 1.0, 1.0, 1.0, 0.5], label_smoothing=0.1)
    ids = torch.randint(5, 50, (4, 7))
    mask = torch.ones_like(ids)
    area = torch.tensor([0, 1, 5, 5])
    types = torch.tensor([[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 1]], dtype=torch.float32)
    out = net(input_ids=ids, attention_mask=mask, area=area, types=types)
    assert out.area_logits.shape == (4, 6) and out.type_logits.shape == (4, 3)
    ce = torch.nn.functional.cross_entropy(out.area_logits, area, weight=torch.tensor([1.0, 2, 1, 1, 1, 0.5]),
                                           label_smoothing=0.1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(out.type_logits, types)
    torch.testing.assert_close(out.loss, ce + 0.5 * bce)
    out.loss.backward()
    assert net.area_head.weight.grad is not None and net.types_head.weight.grad is not None
    assert net(input_ids=ids, attention_mask=mask).loss is None


def test_pooling_mean_ignores_padding_and_cls_takes_first_token():
    ids = torch.tensor([[2, 7, 8, 3, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    text = torch.tensor([[0, 1, 1, 0, 0, 0]])
    vecs = {}
    for how in ("mean", "cls", "text_mean"):
        net = _tiny_net(pooling=how).eval()
        with torch.no_grad():
            vecs[how] = net(input_ids=ids, attention_mask=mask, pool_mask=text).area_logits
            padded = net(input_ids=ids[:, :4], attention_mask=mask[:, :4], pool_mask=text[:, :4]).area_logits
        torch.testing.assert_close(vecs[how], padded, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(vecs["mean"], vecs["cls"]) and not torch.allclose(vecs["mean"], vecs["text_mean"])


# --- input --------------------------------------------------------------------------------------
def _ids(tagger, rec):
    return tagger._encode([rec])[0]


def test_context_is_second_segment_and_truncated_first(fitted):
    rec = {"text": "加强党风廉政教育。", "doc": "平阳县科技局2022年工作总结", "section": ["一、2022年工作总结"], "prev": "新增高企"}
    tok = fitted.tokenizer_
    with_ctx = _ids(fitted, rec)
    assert tok.decode(with_ctx["input_ids"]).replace(" ", "") == \
        "[CLS]加强党风廉政教育。[SEP]一、2022年工作总结|平阳县科技局2022年工作总结[SEP]"
    assert sum(with_ctx["pool_mask"]) == len("加强党风廉政教育。")
    assert with_ctx["token_type_ids"][-1] == 1  # BERT marks the context segment
    fitted.params.context, old = [], fitted.params.context
    try:
        assert tok.decode(_ids(fitted, rec)["input_ids"]).replace(" ", "") == "[CLS]加强党风廉政教育。[SEP]"
        fitted.params.context = ["prev"]
        assert "新增高企" in tok.decode(_ids(fitted, rec)["input_ids"]).replace(" ", "")
        fitted.params.context = old
        fitted.max_length_ = 16  # 9 sentence tokens + 3 specials leave 4 context tokens
        short = _ids(fitted, rec)
        assert tok.decode(short["input_ids"]).replace(" ", "") == "[CLS]加强党风廉政教育。[SEP]一、20[SEP]"
        fitted.max_length_ = 8  # the sentence alone is too long: it is cut, the context dropped
        cut = _ids(fitted, rec)
        assert tok.decode(cut["input_ids"]).replace(" ", "") == "[CLS]加强党风廉政[SEP]" and len(cut["input_ids"]) == 8
    finally:
        fitted.params.context, fitted.max_length_ = old, 64


# --- fit, calibrate, save, load -----------------------------------------------------------------
def test_fit_learns_tunes_thresholds_and_calibrates(fitted, few):
    area_p, type_p = fitted.predict_proba(few)
    assert area_p.shape == (len(few), 6) and type_p.shape == (len(few), 3)
    np.testing.assert_allclose(area_p.sum(1), 1.0, atol=1e-6)
    acc = np.mean([fitted.area_labels_[i] == r["area"] for i, r in zip(area_p.argmax(1), few)])
    assert acc >= 0.8, acc
    cal = fitted.calibration_
    assert cal["fitted_on"] == len(few) and cal["temperature"] > 0 and cal["ece_after"] <= cal["ece_before"] + 1e-9
    assert set(cal["thresholds"]) == {"achievement", "plan", "metric"}
    assert all(0.05 <= t <= 0.95 for t in fitted.thresholds_)
    log = fitted.train_log_
    assert log["epochs"] and {"eval_area_macro_f1", "eval_types_micro_f1", "eval_score"} <= set(log["epochs"][0])
    assert log["best_score"] == pytest.approx(max(e["eval_score"] for e in log["epochs"]), abs=1e-4)
    assert log["best_epoch"] in [e["epoch"] for e in log["epochs"]] and len(log["epoch_seconds"]) == 8


def test_save_load_gives_identical_predictions_and_no_pickle(fitted, few, tmp_path):
    out = fitted.save(tmp_path / "m", config={"backend": "transformer"}, metrics={"n": len(few)})
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {"config.json", "README.md", "network/model.safetensors", "network/config.json",
            "tokenizer/tokenizer.json", "training_log.json"} <= names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pkl", ".pth"))]
    loaded = Tagger.load(out)
    assert isinstance(loaded, TransformerTagger)
    a1, t1 = fitted.predict_proba(few)
    a2, t2 = loaded.predict_proba(few)
    np.testing.assert_allclose(a1, a2, atol=1e-6)
    np.testing.assert_allclose(t1, t2, atol=1e-6)
    assert loaded.predict(few) == fitted.predict(few)


def test_every_saved_file_follows_the_umask_safetensors_included(fitted, tmp_path):
    old = os.umask(0o022)
    try:
        out = fitted.save(tmp_path / "m")
    finally:
        os.umask(old)
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}
    assert modes["network/model.safetensors"] == 0o644  # safetensors itself writes 0600
    assert all(m == (0o755 if (out / name).is_dir() else 0o644) for name, m in modes.items()), modes


def test_missing_or_damaged_weight_files_are_one_sentence(fitted, tmp_path):
    out = fitted.save(tmp_path / "m")
    (out / "network" / "model.safetensors").unlink()
    with pytest.raises(GovtagError, match="incomplete.*model.safetensors"):
        Tagger.load(out)
    out = fitted.save(tmp_path / "m2")
    (out / "network" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(GovtagError, match=r"model.safetensors: damaged, cannot be read"):
        Tagger.load(out)
    out = fitted.save(tmp_path / "m3")
    (out / "tokenizer" / "tokenizer.json").write_text('{"model": {"type": "Word', encoding="utf-8")
    with pytest.raises(GovtagError, match=r"tokenizer.json: damaged, cannot be read"):
        Tagger.load(out)


def test_overwritten_weight_bytes_are_refused_not_scored_as_nan(fitted, tmp_path):
    out = fitted.save(tmp_path / "m")
    weights = out / "network" / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    start = 8 + int.from_bytes(raw[:8], "little")  # safetensors: 8-byte header length, JSON header, tensors
    raw[start:start + 4096] = b"\xff" * 4096  # float32 0xffffffff is NaN
    weights.write_bytes(bytes(raw))
    with pytest.raises(GovtagError, match="model.safetensors: weights hold NaN or infinite values"):
        Tagger.load(out)


def test_tfidf_mix_survives_save_and_load_through_public_methods(tiny_encoder, few, tmp_path):
    tagger = TransformerTagger(tiny_params(tiny_encoder, epochs=2, tfidf_weight=0.5)).fit(
        few, few, RunOptions(checkpoint_dir=str(tmp_path / "ck")))
    assert not (tmp_path / "ck").exists()  # a finished run removes its checkpoints
    loaded = Tagger.load(tagger.save(tmp_path / "m"))
    assert type(loaded.tfidf_).__name__ == "TfidfTagger"
    assert Tagger.load(tmp_path / "m" / "tfidf").backend == "tfidf"  # a TF-IDF model directory of its own
    np.testing.assert_allclose(tagger.predict_proba(few)[0], loaded.predict_proba(few)[0], atol=1e-6)
    (tmp_path / "m" / "tfidf" / "weights.npz").unlink()
    with pytest.raises(GovtagError, match="incomplete"):
        Tagger.load(tmp_path / "m")


def test_run_options_are_not_hyperparameters(fitted, tmp_path):
    meta = json.loads((fitted.save(tmp_path / "m") / "config.json").read_text(encoding="utf-8"))
    assert not {"resume", "threads", "checkpoint_dir"} & set(meta["params"])
    assert set(meta["params"]) == set(vars(TransformerParams()))


# --- precision ----------------------------------------------------------------------------------
def _proba_in(tagger, precision, records, monkeypatch):
    monkeypatch.setattr(tagger, "precision", precision)
    return tagger.predict_proba(records)


def test_bf16_scores_agree_with_fp32(fitted, few, monkeypatch):
    a32, t32 = _proba_in(fitted, "fp32", few, monkeypatch)
    a16, t16 = _proba_in(fitted, "bf16", few, monkeypatch)
    assert not np.array_equal(a32, a16)  # bf16 did run: its rounding shows
    assert (a32.argmax(1) == a16.argmax(1)).all()
    assert np.abs(a32 - a16).max() < 0.02 and np.abs(t32 - t16).max() < 0.02
    assert ((t32 >= fitted.thresholds_) == (t16 >= fitted.thresholds_)).mean() >= 0.95


@pytest.mark.parametrize("caps, same_as", [({"avx2": True}, "fp32"), ({"avx2": True, "avx512_bf16": True}, "bf16")])
def test_auto_follows_the_processor(fitted, few, monkeypatch, caps, same_as):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: caps)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    auto = _proba_in(fitted, "auto", few, monkeypatch)
    forced = _proba_in(fitted, same_as, few, monkeypatch)
    np.testing.assert_array_equal(auto[0], forced[0])
    np.testing.assert_array_equal(auto[1], forced[1])


def test_bf16_training_runs_under_autocast_and_keeps_fp32_weights(tiny_encoder, few, tmp_path, monkeypatch):
    from safetensors import safe_open

    seen = set()
    forward = TwoHeadModel.forward

    def spy(self, *args, **kwargs):
        if self.training:
            seen.add(torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else torch.float32)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(TwoHeadModel, "forward", spy)
    run = RunOptions(checkpoint_dir=str(tmp_path / "ck"), precision="bf16")
    tagger = TransformerTagger(tiny_params(tiny_encoder, epochs=6)).fit(few, few, run)
    assert seen == {torch.bfloat16} and tagger.train_log_["precision"] == "bf16 autocast on cpu"
    assert np.mean([p["area"] == r["area"] for p, r in zip(tagger.predict(few), few)]) >= 0.8
    with safe_open(tagger.save(tmp_path / "m") / "network" / "model.safetensors", "pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F32"}
    seen.clear()
    TransformerTagger(tiny_params(tiny_encoder, epochs=1)).fit(few, None, RunOptions(
        checkpoint_dir=str(tmp_path / "ck2"), precision="fp32"))
    assert seen == {torch.float32}


def test_evaluate_runs_the_model_once(fitted, tmp_path, monkeypatch):
    from govtag.evaluate import evaluate

    calls = []
    scores = TransformerTagger._scores
    monkeypatch.setattr(TransformerTagger, "_scores", lambda self, recs: calls.append(len(recs)) or scores(self, recs))
    m = evaluate(fitted.save(tmp_path / "m"), [ROOT / "data" / "seed.jsonl"], precision="fp32")
    assert calls == [m["n"]]


# --- interrupt and resume -----------------------------------------------------------------------
def test_ctrl_c_leaves_a_checkpoint_and_resume_finishes(tiny_encoder, few, tmp_path, monkeypatch):
    from govtag.backends import training

    ckpt = tmp_path / "ck"
    params = tiny_params(tiny_encoder, epochs=3)
    run = RunOptions(checkpoint_dir=str(ckpt))
    original = training.Interrupt.on_step_end

    def press_ctrl_c_at_step_3(self, args, state, control, **kw):
        if state.global_step == 3 and not self.hit:
            os.kill(os.getpid(), signal.SIGINT)  # goes through the real handler
        return original(self, args, state, control, **kw)

    monkeypatch.setattr(training.Interrupt, "on_step_end", press_ctrl_c_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        TransformerTagger(params).fit(few, few, run)
    assert (ckpt / "checkpoint-3" / "trainer_state.json").is_file()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    monkeypatch.setattr(training.Interrupt, "on_step_end", original)

    run.resume = True
    tagger = TransformerTagger(params).fit(few, few, run)
    assert tagger.train_log_["resumed_from"].endswith("checkpoint-3")
    steps = -(-len(few) // params.batch_size) * params.epochs
    assert tagger.train_log_["epochs"][-1]["step"] == steps
    assert not ckpt.exists()
    with pytest.raises(GovtagError, match="no checkpoint"):
        TransformerTagger(params).fit(few, few, run)


# --- the real encoder ---------------------------------------------------------------------------
@pytest.mark.slow
def test_default_encoder_trains_briefly_and_tags_the_seed_report(seed_records, tmp_path):
    from govtag.tag import tag

    train = [r for r in seed_records][:48]
    params = TransformerParams(epochs=1, batch_size=16, max_length=48)
    tagger = TransformerTagger(params).fit(train, seed_records[48:], RunOptions(checkpoint_dir=str(tmp_path / "ck")))
    out = tagger.save(tmp_path / "model")
    assert json.loads((out / "network" / "config.json").read_text())["encoder_config"]["pad_token_id"] == 1
    report = ROOT / "data" / "reports"
    assert tag([str(report)], out, tmp_path / "tags.jsonl").sentences > 50
    rows = [json.loads(x) for x in (tmp_path / "tags.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["area"] for r in rows} <= set(tagger.area_labels_)
    assert all(0 <= r["area_score"] <= 1 for r in rows)
