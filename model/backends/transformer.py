"""The transformer backend: a fine-tuned encoder with an area head and a types head (`govtag.network`).

Input is the sentence as the first segment and its context (section path, report title, optionally the
previous sentence, in the configured order) as the second; the context is truncated first. Training
uses the ``transformers`` Trainer on ``datasets`` data: length-bucketed batches, separate learning rates
for encoder and heads, evaluation on dev each epoch, the best epoch kept by dev score (area macro-F1 +
types micro-F1), early stopping, checkpoints for ``--resume``. Optionally the encoder's scores are
mixed with a character n-gram TF-IDF model trained on the same data (``tfidf_weight``).

A saved model directory holds ``network/`` (config.json + model.safetensors), ``tokenizer/``,
``tfidf/`` when mixed, and ``training_log.json``; nothing is pickled and loading needs no network.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from govtag.backends.base import Tagger
from govtag.backends.tfidf import TfidfParams, TfidfTagger, context_part
from govtag.errors import GovtagError

CONTEXT_PARTS = ("doc", "section", "prev")
CLASS_WEIGHTS = ("none", "sqrt_inv", "inv")
POOLINGS = ("mean", "cls", "text_mean")
NEEDED = ("network/config.json", "network/model.safetensors", "tokenizer/tokenizer.json")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class TransformerParams:
    """Hyperparameters of the transformer backend (configs/default.yaml explains each key)."""

    encoder: str = "default"
    pooling: str = "mean"
    context: list[str] = field(default_factory=lambda: ["section", "doc"])
    max_length: int = 64
    epochs: int = 4
    batch_size: int = 32
    lr_encoder: float = 1e-4
    lr_heads: float = 1e-3
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    label_smoothing: float = 0.0
    area_class_weight: str = "sqrt_inv"
    types_loss_weight: float = 1.0
    freeze_embeddings: bool = True
    freeze_layers: int = 0
    early_stopping_patience: int = 2
    tfidf_weight: float = 0.0
    resume: bool = False
    checkpoint_dir: str | None = None
    threads: int = 2

    def check(self) -> list[tuple[str, str]]:
        p = []
        if not self.encoder.strip():
            p.append(("encoder", "must name an encoder: default, a local model directory or a hub name"))
        if self.pooling not in POOLINGS:
            p.append(("pooling", f"expected one of {', '.join(POOLINGS)}"))
        bad = [c for c in self.context if c not in CONTEXT_PARTS]
        if bad or len(set(self.context)) != len(self.context):
            p.append(("context", f"expected distinct parts out of {', '.join(CONTEXT_PARTS)}, found {self.context}"))
        if not 8 <= self.max_length <= 512:
            p.append(("max_length", "must be between 8 and 512 tokens"))
        for key in ("epochs", "batch_size"):
            if getattr(self, key) < 1:
                p.append((key, "must be >= 1"))
        for key in ("lr_encoder", "lr_heads"):
            if getattr(self, key) <= 0:
                p.append((key, "must be > 0"))
        for key in ("warmup_ratio", "dropout", "label_smoothing"):
            if not 0 <= getattr(self, key) < 1:
                p.append((key, "must be >= 0 and < 1"))
        for key in ("weight_decay", "types_loss_weight", "early_stopping_patience", "threads", "freeze_layers"):
            if getattr(self, key) < 0:
                p.append((key, "must be >= 0"))
        if self.area_class_weight not in CLASS_WEIGHTS:
            p.append(("area_class_weight", f"expected one of {', '.join(CLASS_WEIGHTS)}"))
        if not 0 <= self.tfidf_weight <= 1:
            p.append(("tfidf_weight", "must be between 0 (encoder only) and 1 (TF-IDF only)"))
        return p


def class_weights(areas: list[int], n_classes: int, how: str) -> list[float] | None:
    """Per-area loss weights from training counts: ``inv`` = N / (K n_c), ``sqrt_inv`` its square root.

    Example:
        >>> class_weights([0, 0, 0, 1], 2, "inv")   # three 其他-like sentences, one rare
        [0.6667, 2.0]
    """
    if how == "none":
        return None
    counts = np.bincount(np.asarray(areas), minlength=n_classes).astype(float)
    w = len(areas) / (n_classes * np.maximum(counts, 1.0))
    w = np.where(counts > 0, w, 1.0)
    return [round(float(x), 4) for x in (np.sqrt(w) if how == "sqrt_inv" else w)]


def run_key(params: TransformerParams, seed: int, train: list[dict], dev: list[dict] | None) -> str:
    """A short hash of everything that defines a training run, naming its default checkpoint folder."""
    h = hashlib.sha256()
    skip = {"resume", "threads", "checkpoint_dir"}
    h.update(json.dumps({k: v for k, v in asdict(params).items() if k not in skip}, sort_keys=True).encode())
    h.update(str(seed).encode())
    for rec in list(train) + [None] + list(dev or []):
        h.update(b"|" if rec is None else json.dumps([rec.get("id"), rec["text"], rec["area"], rec["types"]],
                                                     ensure_ascii=False).encode())
    return h.hexdigest()[:12]


class TransformerTagger(Tagger):
    """A fine-tuned encoder with two heads, behind the common `Tagger` interface.

    Example:
        >>> t = TransformerTagger(TransformerTagger.Params(encoder="/tmp/tiny-bert", epochs=1)).fit(train, dev)
        >>> t.predict([{"text": "加强党风廉政教育。", "doc": "", "section": []}])[0]["area"]
        '党建'
    """

    backend = "transformer"
    Params = TransformerParams

    # --- input ----------------------------------------------------------------------------------
    def _context(self, record: dict) -> str:
        return " | ".join(s for s in (context_part(record, c).strip() for c in self.params.context) if s)

    def _encode(self, records: list[dict]) -> list[dict]:
        """Token ids of ``[CLS] sentence [SEP] context [SEP]``, context truncated first, plus a mask of
        the sentence's own tokens (for ``text_mean`` pooling)."""
        tok = self.tokenizer_.backend_tokenizer
        tok.no_truncation()
        tok.no_padding()
        post = tok.post_processor
        n_one = post.num_special_tokens_to_add(False) if post else 0
        n_two = post.num_special_tokens_to_add(True) if post else 0
        limit = self.max_length_
        texts = tok.encode_batch([r["text"] for r in records], add_special_tokens=False)
        ctxs = [self._context(r) for r in records]
        ctx_enc = tok.encode_batch([c or "-" for c in ctxs], add_special_tokens=False)
        out = []
        for text, ctx, c in zip(texts, ctx_enc, ctxs):
            budget = limit - n_two - len(text.ids)
            if not c or budget < 1:
                text.truncate(limit - n_one)
                enc = tok.post_process(text, None, add_special_tokens=True)
            else:
                ctx.truncate(budget)
                enc = tok.post_process(text, ctx, add_special_tokens=True)
            # sequence_ids of the first segment come back as None after post_process: mark its tokens by elimination
            own = [int(s != 1 and not special) for s, special in zip(enc.sequence_ids, enc.special_tokens_mask)]
            item = {"input_ids": enc.ids, "attention_mask": enc.attention_mask, "pool_mask": own, "length": len(enc.ids)}
            if self.use_type_ids_:
                item["token_type_ids"] = enc.type_ids
            out.append(item)
        return out

    def _collate(self, batch: list[dict]) -> dict:
        import torch

        width = max(len(b["input_ids"]) for b in batch)
        pad = self.tokenizer_.pad_token_id or 0
        out = {"input_ids": torch.tensor([b["input_ids"] + [pad] * (width - len(b["input_ids"])) for b in batch])}
        for key in ("attention_mask", "pool_mask", "token_type_ids"):
            if key in batch[0]:
                out[key] = torch.tensor([b[key] + [0] * (width - len(b[key])) for b in batch])
        if "area" in batch[0]:
            out["area"] = torch.tensor([b["area"] for b in batch])
            out["types"] = torch.tensor([b["types"] for b in batch], dtype=torch.float32)
        return out

    def _setup_tokenizer(self, directory: str) -> None:
        from transformers import AutoTokenizer

        self.tokenizer_ = AutoTokenizer.from_pretrained(directory)
        if not getattr(self.tokenizer_, "is_fast", False):
            raise GovtagError(f"the encoder {self.params.encoder!r} has no fast tokenizer (tokenizer.json); "
                              "use an encoder whose folder has one")
        positions = getattr(self.model_.config.encoder_config, "max_position_embeddings", 512) or 512
        self.max_length_ = min(self.params.max_length, positions)
        self.use_type_ids_ = getattr(self.model_.config.encoder_config, "type_vocab_size", 1) > 1

    # --- training -------------------------------------------------------------------------------
    def _fit(self, train: list[dict], dev: list[dict] | None) -> None:
        import datasets
        import torch
        import transformers
        from transformers import EarlyStoppingCallback, TrainingArguments
        from transformers.trainer_utils import get_last_checkpoint

        from govtag.encoders import resolve_encoder
        from govtag.network import TwoHeadModel

        p = self.params
        if p.threads:
            torch.set_num_threads(p.threads)
        transformers.set_seed(self.seed)
        encoder_dir = resolve_encoder(p.encoder, progress=_say)
        y_area = [self.area_labels_.index(r["area"]) for r in train]
        self.model_ = TwoHeadModel.from_encoder(
            encoder_dir, pooling=p.pooling, num_areas=len(self.area_labels_), num_types=len(self.type_labels_),
            dropout=p.dropout, label_smoothing=p.label_smoothing, types_loss_weight=p.types_loss_weight,
            area_class_weights=class_weights(y_area, len(self.area_labels_), p.area_class_weight))
        self._setup_tokenizer(encoder_dir)
        if p.freeze_embeddings:
            self.model_.encoder.get_input_embeddings().weight.requires_grad_(False)
        if p.freeze_layers:
            for layer in _encoder_layers(self.model_.encoder)[:p.freeze_layers]:
                layer.requires_grad_(False)
            if hasattr(self.model_.encoder, "embeddings"):  # else backprop would still run through the frozen layers
                self.model_.encoder.embeddings.requires_grad_(False)

        def dataset(records):
            rows = self._encode(records)
            for row, r in zip(rows, records):
                row["area"] = self.area_labels_.index(r["area"])
                row["types"] = [int(t in r["types"]) for t in self.type_labels_]
            return datasets.Dataset.from_list(rows)

        train_ds, dev_ds = dataset(train), (dataset(dev) if dev else None)
        ckpt = Path(p.checkpoint_dir).expanduser() if p.checkpoint_dir else _default_checkpoints(
            run_key(p, self.seed, train, dev))
        last = get_last_checkpoint(str(ckpt)) if ckpt.is_dir() else None
        if p.resume and last is None:
            raise GovtagError(f"--resume: no checkpoint in {ckpt} for this config and data; train without --resume")
        if not p.resume:
            _remove_checkpoints(ckpt)
        steps_per_epoch = math.ceil(len(train) / p.batch_size)
        args = TrainingArguments(
            output_dir=str(ckpt), per_device_train_batch_size=p.batch_size, per_device_eval_batch_size=64,
            num_train_epochs=p.epochs, learning_rate=p.lr_encoder, weight_decay=p.weight_decay,
            warmup_steps=p.warmup_ratio, lr_scheduler_type="linear", eval_strategy="epoch" if dev else "no",
            save_strategy="epoch", save_total_limit=1, load_best_model_at_end=bool(dev),
            metric_for_best_model="score" if dev else None, greater_is_better=True,
            logging_steps=max(1, steps_per_epoch // 4), report_to="none", seed=self.seed, data_seed=self.seed,
            dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), remove_unused_columns=False,
            label_names=["area", "types"], train_sampling_strategy="group_by_length", length_column_name="length",
            disable_tqdm=False)
        callbacks = [_Interrupt(), _EpochTimer()]
        if dev and p.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=p.early_stopping_patience))
        trainer = _TwoHeadTrainer(model=self.model_, args=args, data_collator=self._collate,
                                  train_dataset=train_ds, eval_dataset=dev_ds, callbacks=callbacks,
                                  compute_metrics=_dev_score, lr_heads=p.lr_heads)
        _say(f"fine-tuning {p.encoder} ({encoder_dir}) for up to {p.epochs} epochs of {steps_per_epoch} steps; "
             f"checkpoints in {ckpt}" + (f", resuming from {last}" if p.resume else ""))
        started = time.perf_counter()
        with callbacks[0].installed():
            trainer.train(resume_from_checkpoint=last if p.resume else None)
        if callbacks[0].hit:
            _say(f"interrupted: a checkpoint was saved in {ckpt}; run the same command with --resume to continue")
            raise KeyboardInterrupt
        self.model_ = trainer.model.eval()
        history = [{k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()}
                   for e in trainer.state.log_history if "eval_score" in e]
        best = trainer.state.best_metric
        self.train_log_ = {"seconds": round(time.perf_counter() - started, 1), "epochs": history,
                           "epoch_seconds": callbacks[1].seconds, "best_score": best,
                           "best_epoch": next((e["epoch"] for e in history if best is not None
                                               and abs(e["eval_score"] - best) < 1e-4), None),
                           "resumed_from": last if p.resume else None, "train_sentences": len(train)}
        if p.tfidf_weight > 0:
            self.tfidf_ = self._new_tfidf().fit(train)
        _remove_checkpoints(ckpt)  # a finished run needs none

    def _new_tfidf(self) -> TfidfTagger:
        return TfidfTagger(params=TfidfParams(context=list(self.params.context)), schema=self.schema, seed=self.seed)

    # --- scores ---------------------------------------------------------------------------------
    def _scores(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        if self.params.threads:
            torch.set_num_threads(self.params.threads)
        rows = self._encode(records)
        order = np.argsort([r["length"] for r in rows], kind="stable")
        area = np.zeros((len(rows), len(self.area_labels_)))
        types = np.zeros((len(rows), len(self.type_labels_)))
        self.model_.eval()
        device = next(self.model_.parameters()).device
        with torch.inference_mode():
            for start in range(0, len(rows), 64):
                idx = order[start:start + 64]
                out = self.model_(**{k: v.to(device) for k, v in self._collate([rows[i] for i in idx]).items()})
                area[idx] = out.area_logits.double().cpu().numpy()
                types[idx] = torch.sigmoid(out.type_logits).double().cpu().numpy()
        w = self.params.tfidf_weight
        if w > 0:
            from govtag.calibrate import softmax

            t_area, t_types = self.tfidf_._scores(records)
            area = np.log((1 - w) * softmax(area) + w * softmax(t_area) + 1e-12)
            types = (1 - w) * types + w * t_types
        return area, types

    # --- save / load ----------------------------------------------------------------------------
    def _save_weights(self, directory: Path) -> None:
        self.model_.save_pretrained(directory / "network")
        self.tokenizer_.save_pretrained(directory / "tokenizer")
        if self.params.tfidf_weight > 0:
            (directory / "tfidf").mkdir()
            self.tfidf_._save_weights(directory / "tfidf")
        log = getattr(self, "train_log_", {})
        (directory / "training_log.json").write_text(json.dumps(log, ensure_ascii=False, indent=2), encoding="utf-8")

    def _load_weights(self, directory: Path) -> None:
        from govtag.network import TwoHeadModel

        needed = list(NEEDED) + (["tfidf/weights.npz", "tfidf/vectorizers.json"] if self.params.tfidf_weight > 0 else [])
        for name in needed:
            if not (directory / name).is_file():
                raise FileNotFoundError(2, "missing", str(directory / name))
        try:
            self.model_ = TwoHeadModel.from_pretrained(directory / "network").eval()
        except Exception as exc:  # noqa: BLE001 - safetensors, JSON and shape errors all mean: unreadable
            raise GovtagError(f"{directory}: the network weights cannot be read ({type(exc).__name__}); "
                              "retrain the model or copy the whole folder again") from None
        self._setup_tokenizer(str(directory / "tokenizer"))
        if self.params.tfidf_weight > 0:
            self.tfidf_ = self._new_tfidf()
            self.tfidf_.area_labels_, self.tfidf_.type_labels_ = self.area_labels_, self.type_labels_
            self.tfidf_._load_weights(directory / "tfidf")


def _encoder_layers(encoder) -> list:
    """The encoder's transformer blocks, bottom first: the longest ModuleList of the model."""
    import torch

    lists = [m for m in encoder.modules() if isinstance(m, torch.nn.ModuleList)]
    if not lists:
        raise GovtagError("freeze_layers: this encoder has no list of layers to freeze; set freeze_layers: 0")
    return list(max(lists, key=len))


def _remove_checkpoints(folder: Path) -> None:
    """Delete the Trainer's ``checkpoint-*`` folders, and ``folder`` itself once empty (nothing else is touched)."""
    if folder.is_dir():
        for old in folder.glob("checkpoint-*"):
            shutil.rmtree(old, ignore_errors=True)
        if not any(folder.iterdir()):
            folder.rmdir()


def _default_checkpoints(key: str) -> Path:
    from govtag.home import govtag_home

    return govtag_home() / "checkpoints" / f"transformer-{key}"


def _dev_score(pred) -> dict:
    """Dev metrics each epoch: area macro-F1, types micro-F1 (at 0.5) and their sum, the model-selection score."""
    from sklearn.metrics import f1_score

    (area_logits, type_logits), (area, types) = pred.predictions, pred.label_ids
    a = f1_score(area, area_logits.argmax(1), average="macro", labels=np.unique(area), zero_division=0)
    t = f1_score(types.astype(int), (type_logits > 0).astype(int), average="micro", zero_division=0)
    return {"area_macro_f1": float(a), "types_micro_f1": float(t), "score": float(a + t)}


def _trainer_base():
    from transformers import Trainer, TrainerCallback

    return Trainer, TrainerCallback


Trainer, TrainerCallback = _trainer_base()


class _TwoHeadTrainer(Trainer):
    """The Trainer with two learning rates: ``lr_encoder`` for the encoder, ``lr_heads`` for the heads."""

    def __init__(self, *args, lr_heads: float, **kwargs):
        self.lr_heads = lr_heads
        super().__init__(*args, **kwargs)

    def create_optimizer(self, model=None):
        import torch

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


class _Interrupt(TrainerCallback):
    """First Ctrl-C: finish the current step, save a checkpoint, stop. A second Ctrl-C aborts at once."""

    def __init__(self):
        self.hit = False

    def installed(self):
        import contextlib

        @contextlib.contextmanager
        def ctx():
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            old = signal.getsignal(signal.SIGINT)

            def handler(signum, frame):
                self.hit = True
                _say("\ninterrupt: saving a checkpoint after this step (Ctrl-C again to abort without one)")
                signal.signal(signal.SIGINT, old)

            signal.signal(signal.SIGINT, handler)
            try:
                yield
            finally:
                signal.signal(signal.SIGINT, old)

        return ctx()

    def on_step_end(self, args, state, control, **kwargs):
        if self.hit:
            control.should_save = True
            control.should_training_stop = True
        return control


class _EpochTimer(TrainerCallback):
    """Records wall-clock seconds per epoch (training and dev evaluation)."""

    def __init__(self):
        self.seconds: list[float] = []
        self._t = 0.0

    def on_epoch_begin(self, args, state, control, **kwargs):
        self._t = time.perf_counter()

    def on_epoch_end(self, args, state, control, **kwargs):
        self.seconds.append(round(time.perf_counter() - self._t, 1))
