"""Fine-tuning plumbing for the transformer backend, on the ``transformers`` Trainer.

Two learning rates (encoder and heads), the dev score that picks the best epoch, early stopping,
checkpoints each epoch, a first Ctrl-C that saves a checkpoint and stops (``--resume`` continues
it), and seconds per epoch. `fine_tune` runs it all and returns the trained network and its log;
the backend (`govtag.backends.transformer`) owns the inputs and the model directory.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import torch
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from govtag.backends.precision import describe, trainer_precision
from govtag.errors import GovtagError
from govtag.evaluate import area_macro_f1


def say(msg: str) -> None:
    """A status line on stderr (stdout may carry tagged rows)."""
    print(msg, file=sys.stderr, flush=True)


def fine_tune(model, collate, train_ds, dev_ds, params, checkpoints: Path, run, seed: int):
    """Train ``model`` on ``train_ds``, keep the best epoch by dev score, and remove the checkpoints.

    Args:
        model: the `govtag.network.TwoHeadModel` to train (in place).
        collate: turns a list of encoded rows into a batch of tensors.
        train_ds, dev_ds: ``datasets.Dataset`` of encoded rows with ``area`` and ``types`` (dev: None).
        params: the backend's hyperparameters (epochs, batch size, learning rates, ...).
        checkpoints: the run's checkpoint folder.
        run: the `govtag.backends.RunOptions`: ``resume`` continues from the last checkpoint there,
            ``precision`` picks bf16/fp16 mixed precision or fp32 (`govtag.backends.precision`).
        seed: seeds shuffling and dropout.

    Returns:
        ``(model, log)``: the network in eval mode and a dict with ``seconds``, ``epochs`` (dev scores
        per epoch), ``epoch_seconds``, ``best_score``, ``best_epoch``, ``resumed_from``, ``train_sentences``,
        ``precision`` (what the run computed in, e.g. ``bf16 autocast on cpu``).

    Example:
        `TransformerTagger.fit` calls it with the encoded sentences, e.g. "新增高新技术企业35家。"
        labelled 主体 + achievement + metric; see tests/test_transformer.py for a run on a tiny encoder.
    """
    resume = run.resume
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    if resume and last is None:
        raise GovtagError(f"--resume: no checkpoint in {checkpoints} for this config and data; "
                          "train without --resume")
    if not resume:
        _remove_checkpoints(checkpoints)
    dev = dev_ds is not None
    steps_per_epoch = math.ceil(len(train_ds) / params.batch_size)
    args = TrainingArguments(
        output_dir=str(checkpoints), per_device_train_batch_size=params.batch_size, per_device_eval_batch_size=64,
        num_train_epochs=params.epochs, learning_rate=params.lr_encoder, weight_decay=params.weight_decay,
        warmup_steps=params.warmup_ratio, lr_scheduler_type="linear", eval_strategy="epoch" if dev else "no",
        save_strategy="epoch", save_total_limit=1, load_best_model_at_end=dev,
        metric_for_best_model="score" if dev else None, greater_is_better=True,
        logging_steps=max(1, steps_per_epoch // 4), report_to="none", seed=seed, data_seed=seed,
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), remove_unused_columns=False,
        label_names=["area", "types"], train_sampling_strategy="group_by_length", length_column_name="length",
        disable_tqdm=False, **trainer_precision(run.precision))
    interrupt, timer = Interrupt(), EpochTimer()
    callbacks = [interrupt, timer]
    if dev and params.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=params.early_stopping_patience))
    trainer = TwoRateTrainer(model=model, args=args, data_collator=collate, train_dataset=train_ds,
                             eval_dataset=dev_ds, callbacks=callbacks, compute_metrics=_dev_score,
                             lr_heads=params.lr_heads)
    say(f"fine-tuning {params.encoder} for up to {params.epochs} epochs of {steps_per_epoch} steps "
        f"({describe(run.precision)}); "
        f"checkpoints in {checkpoints}" + (f", resuming from {last}" if resume else ""))
    started = time.perf_counter()
    with interrupt.installed():
        trainer.train(resume_from_checkpoint=last if resume else None)
    if interrupt.hit:
        say(f"interrupted: a checkpoint was saved in {checkpoints}; run the same command with --resume to continue")
        raise KeyboardInterrupt
    history = [{k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()}
               for e in trainer.state.log_history if "eval_score" in e]
    best = trainer.state.best_metric
    log = {"seconds": round(time.perf_counter() - started, 1), "epochs": history,
           "epoch_seconds": timer.seconds, "best_score": best,
           "best_epoch": next((e["epoch"] for e in history if best is not None
                               and abs(e["eval_score"] - best) < 1e-4), None),
           "resumed_from": last if resume else None, "train_sentences": len(train_ds),
           "precision": describe(run.precision)}
    _remove_checkpoints(checkpoints)  # a finished run needs none
    # mixed precision wrapped forward() in autocast; unwrapped, the tagger's own precision setting rules
    return trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False).eval(), log


def _remove_checkpoints(folder: Path) -> None:
    """Delete the Trainer's ``checkpoint-*`` folders, and ``folder`` itself once empty (nothing else is touched)."""
    if folder.is_dir():
        for old in folder.glob("checkpoint-*"):
            shutil.rmtree(old, ignore_errors=True)
        if not any(folder.iterdir()):
            folder.rmdir()


def _dev_score(pred) -> dict:
    """Dev metrics each epoch: area macro-F1 (`govtag.evaluate.area_macro_f1`, the one `govtag evaluate`
    reports), types micro-F1 at 0.5, and their sum, the model-selection score."""
    from sklearn.metrics import f1_score

    (area_logits, type_logits), (area, types) = pred.predictions, pred.label_ids
    a = area_macro_f1(area.tolist(), area_logits.argmax(1).tolist())
    t = f1_score(types.astype(int), (type_logits > 0).astype(int), average="micro", zero_division=0)
    return {"area_macro_f1": a, "types_micro_f1": float(t), "score": float(a + t)}


class TwoRateTrainer(Trainer):
    """The Trainer with two learning rates: ``lr_encoder`` (``args.learning_rate``) for the encoder,
    ``lr_heads`` for the heads; weight decay skips biases and LayerNorm as the Trainer's own does."""

    def __init__(self, *args, lr_heads: float, **kwargs):
        self.lr_heads = lr_heads
        super().__init__(*args, **kwargs)

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            model = model or self.model
            decay = set(self.get_decay_parameter_names(model))
            groups = {}
            for name, prm in model.named_parameters():
                if not prm.requires_grad:
                    continue
                head = not name.startswith("encoder.")
                key = (head, name in decay)
                groups.setdefault(key, {"params": [], "lr": self.lr_heads if head else self.args.learning_rate,
                                        "weight_decay": self.args.weight_decay if key[1] else 0.0})["params"].append(prm)
            self.optimizer = torch.optim.AdamW(list(groups.values()), lr=self.args.learning_rate)
        return self.optimizer


class Interrupt(TrainerCallback):
    """First Ctrl-C: finish the current step, save a checkpoint, stop. A second Ctrl-C aborts at once."""

    def __init__(self):
        self.hit = False

    @contextlib.contextmanager
    def installed(self):
        """Install the Ctrl-C handler for the block (only the main thread may own signal handlers)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        old = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            self.hit = True
            say("\ninterrupt: saving a checkpoint after this step (Ctrl-C again to abort without one)")
            signal.signal(signal.SIGINT, old)

        signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, old)

    def on_step_end(self, args, state, control, **kwargs):
        if self.hit:
            control.should_save = True
            control.should_training_stop = True
        return control


class EpochTimer(TrainerCallback):
    """Records wall-clock seconds per epoch (training and dev evaluation)."""

    def __init__(self):
        self.seconds: list[float] = []
        self._t = 0.0

    def on_epoch_begin(self, args, state, control, **kwargs):
        self._t = time.perf_counter()

    def on_epoch_end(self, args, state, control, **kwargs):
        self.seconds.append(round(time.perf_counter() - self._t, 1))
