"""Precision that fits the machine (`govtag.backends.precision`): detection, the choice ``auto`` makes,
the Trainer's flags, and the ``precision`` option in configs and on the command line.

The processor is mocked through ``torch.cpu.get_capabilities``, torch's own report of the CPU features,
so every branch runs on any machine. The agreement of bf16 with fp32 on a fitted model is in
tests/test_transformer.py, beside the tiny model it uses.
"""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from govtag.backends import RunOptions
from govtag.backends import precision as prec
from govtag.cli import app
from govtag.config import load_config
from govtag.errors import GovtagError
from tests.conftest import ROOT

CPU = torch.device("cpu")
NO_BF16 = {"architecture": "x86_64", "avx2": True, "avx512_f": True, "avx512_vnni": True}  # e.g. Skylake-X, Zen 3
AVX512_BF16 = {**NO_BF16, "avx512_bf16": True}  # Cooper Lake, Zen 4
AMX = {**NO_BF16, "amx_tile": True, "amx_bf16": True}  # Sapphire Rapids
ARM_BF16 = {"architecture": "aarch64", "neon": True, "bf16": True}  # Graviton 3


@pytest.fixture
def cpu_with(monkeypatch):
    """Pretend to run on a CPU-only machine whose processor reports ``caps``."""

    def pretend(caps: dict) -> None:
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: caps)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    return pretend


@pytest.mark.parametrize("caps, native", [(NO_BF16, False), (AVX512_BF16, True), (AMX, True), (ARM_BF16, True)])
def test_native_bf16_is_read_from_the_processor(cpu_with, caps, native):
    cpu_with(caps)
    assert prec.native_cpu_bf16() is native


def test_auto_is_fp32_without_native_bf16_and_bf16_with_it(cpu_with):
    cpu_with(NO_BF16)
    assert prec.run_device() == CPU
    assert prec.autocast_dtype("auto", CPU) is None
    assert prec.describe("auto") == "fp32 on cpu"
    assert prec.autocast_dtype("bf16", CPU) is torch.bfloat16  # forced: emulated, but it is asked for
    cpu_with(AVX512_BF16)
    assert prec.autocast_dtype("auto", CPU) is torch.bfloat16
    assert prec.autocast_dtype("fp32", CPU) is None
    assert prec.describe("auto") == "bf16 autocast on cpu"


def test_gpu_uses_bf16_where_it_has_it_else_fp16(monkeypatch):
    gpu = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert prec.autocast_dtype("auto", gpu) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: False)  # e.g. a T4
    assert prec.autocast_dtype("auto", gpu) is torch.float16
    assert prec.autocast_dtype("fp32", gpu) is None


def test_trainer_gets_mixed_precision_only_where_it_pays(cpu_with):
    from transformers import TrainingArguments

    cpu_with(NO_BF16)
    assert prec.trainer_precision("auto") == {"bf16": False, "fp16": False, "use_cpu": True}
    cpu_with(AMX)
    flags = prec.trainer_precision("auto")
    assert flags == {"bf16": True, "fp16": False, "use_cpu": True}
    args = TrainingArguments(output_dir="unused", report_to="none", **flags)  # accepted on a CPU-only machine
    assert args.mixed_precision == "bf16"


def test_autocast_context_computes_in_the_dtype_or_leaves_fp32():
    a = torch.ones(4, 4)
    with prec.autocast(CPU, torch.bfloat16):
        assert (a @ a).dtype is torch.bfloat16
    with prec.autocast(CPU, None):
        assert (a @ a).dtype is torch.float32


def test_unknown_precision_is_one_sentence():
    with pytest.raises(GovtagError, match=r"--precision: unknown precision 'fp16'; expected auto .*, bf16 or fp32"):
        prec.check_precision("fp16")
    assert RunOptions(precision="half").check() == [("precision", "expected one of auto, bf16, fp32")]


def test_config_run_section_and_override(tmp_path):
    default = ROOT / "configs" / "default.yaml"
    assert load_config(default).run.precision == "auto"
    assert load_config(default, {"precision": "fp32"}).run.precision == "fp32"
    bad = tmp_path / "bad.yaml"
    bad.write_text(default.read_text(encoding="utf-8").replace("precision: auto", "precision: half"), encoding="utf-8")
    with pytest.raises(GovtagError, match=r"bad.yaml: run -> precision: expected one of auto, bf16, fp32"):
        load_config(bad)
    with pytest.raises(GovtagError, match="unknown precision 'fp8'"):
        load_config(default, {"precision": "fp8"})


def test_precision_is_not_saved_with_the_model(tfidf_model):
    from govtag.backends import load_model

    assert load_model(tfidf_model, precision="fp32").precision == "fp32"  # TF-IDF keeps and ignores it
    with pytest.raises(GovtagError, match="unknown precision"):
        load_model(tfidf_model, precision="int8")


@pytest.mark.parametrize("command", [["tag", "data/reports"], ["evaluate", "--data", "data/seed.jsonl"]])
def test_cli_refuses_an_unknown_precision_in_one_line(tfidf_model, command, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, [*command, "--model", str(tfidf_model), "--precision", "fp16"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: --precision: unknown precision 'fp16'; expected auto (bf16 where the processor computes it "
        "natively, else fp32), bf16 or fp32"]


def test_cli_train_passes_precision_to_the_config(monkeypatch):
    import govtag.train

    seen = {}
    monkeypatch.setattr(govtag.train, "train", lambda cfg, progress: seen.setdefault("run", cfg.run))
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["train", "--config", "configs/default.yaml", "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    assert seen["run"].precision == "fp32"
