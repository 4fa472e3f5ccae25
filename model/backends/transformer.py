"""The transformer backend: a fine-tuned encoder with an area head and a types head (`govtag.network`).

Input is the sentence as the first segment and its context (section path, report title, optionally the
previous sentence, in the configured order) as the second; the context is truncated first. Training
(`govtag.backends.training`) uses the ``transformers`` Trainer on ``datasets`` data: length-bucketed
batches, separate learning rates for encoder and heads, the best epoch kept by dev score, early
stopping, checkpoints for ``--resume``. Optionally the encoder's probabilities are mixed with those of
a TF-IDF model (`govtag.backends.tfidf`) trained on the same data (``tfidf_weight``), through its
public ``fit``, ``predict_proba``, ``save`` and ``load``.

A saved model directory holds ``network/`` (config.json + model.safetensors), ``tokenizer/``,
``tfidf/`` (a TF-IDF model directory of its own) when mixed, and ``training_log.json``; nothing is
pickled and loading needs no network.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from govtag.backends.base import RunOptions, Tagger
from govtag.backends.store import reading, require_finite
from govtag.backends.tfidf import TfidfParams, TfidfTagger
from govtag.calibrate import softmax
from govtag.context import context_part, context_problem
from govtag.errors import GovtagError

CLASS_WEIGHTS = ("none", "sqrt_inv", "inv")
BATCH_TOKENS = 1024  # padded tokens per forward batch when scoring; measured faster than whole batches of 64 (bench.py tag)
POOLINGS = ("mean", "cls", "text_mean")


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

    def check(self) -> list[tuple[str, str]]:
        p = []
        if not self.encoder.strip():
            p.append(("encoder", "must name an encoder: default, a local model directory or a hub name"))
        if self.pooling not in POOLINGS:
            p.append(("pooling", f"expected one of {', '.join(POOLINGS)}"))
        if context_problem(self.context):
            p.append(("context", context_problem(self.context)))
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
        for key in ("weight_decay", "types_loss_weight", "early_stopping_patience", "freeze_layers"):
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
    h.update(json.dumps(asdict(params), sort_keys=True).encode())
    h.update(str(seed).encode())
    for rec in list(train) + [None] + list(dev or []):
        h.update(b"|" if rec is None else json.dumps([rec.get("id"), rec["text"], rec["area"], rec["types"]],
                                                     ensure_ascii=False).encode())
    return h.hexdigest()[:12]


class TransformerTagger(Tagger):
    """A fine-tuned encoder with two heads, behind the common `Tagger` interface.

    Example:
        With an encoder folder (``default`` builds one offline) and labelled records ``train`` and ``dev``
        as `govtag.data.load_records` returns them::

            tagger = TransformerTagger(TransformerParams(epochs=3)).fit(train, dev, RunOptions(threads=2))
            tagger.predict([{"text": "加强党风廉政教育。", "doc": "", "section": []}])[0]["area"]  # '党建'
    """

    backend = "transformer"
    Params = TransformerParams
    resumable = True

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
    def _fit(self, train: list[dict], dev: list[dict] | None, run: RunOptions) -> None:
        import datasets
        import torch
        import transformers

        from govtag.backends.training import fine_tune
        from govtag.home import govtag_home

        p = self.params
        if run.threads:
            torch.set_num_threads(run.threads)
        transformers.set_seed(self.seed)
        self._network(train)

        def dataset(records):
            return datasets.Dataset.from_list(self._labelled(records))

        checkpoints = Path(run.checkpoint_dir).expanduser() if run.checkpoint_dir else \
            govtag_home() / "checkpoints" / f"transformer-{run_key(p, self.seed, train, dev)}"
        self.model_, self.train_log_ = fine_tune(self.model_, self._collate, dataset(train), dataset(dev) if dev else None,
                                                 p, checkpoints, run, self.seed)
        if p.tfidf_weight > 0:
            tfidf = TfidfParams(context=list(p.context))
            self.tfidf_ = TfidfTagger(params=tfidf, schema=self.schema, seed=self.seed).fit(train)

    def _labelled(self, records: list[dict]) -> list[dict]:
        """Encoded rows with their gold ``area`` index and ``types`` vector, as training batches take them."""
        rows = self._encode(records)
        for row, r in zip(rows, records):
            row["area"] = self.area_labels_.index(r["area"])
            row["types"] = [int(t in r["types"]) for t in self.type_labels_]
        return rows

    def _network(self, train: list[dict]) -> None:
        """The network to fine-tune: the encoder with fresh heads (area loss weighted by ``train``'s
        counts), its tokenizer, and the frozen parts frozen."""
        from govtag.backends.training import say
        from govtag.encoders import resolve_encoder
        from govtag.network import TwoHeadModel

        p = self.params
        encoder_dir = resolve_encoder(p.encoder, progress=say)
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

    # --- scores ---------------------------------------------------------------------------------
    def _scores(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        area, types = self._forward(self._encode(records))
        w = self.params.tfidf_weight
        if w > 0:  # the TF-IDF model is fitted without dev, so its probabilities are plain softmax ones
            t_area, t_types = self.tfidf_.predict_proba(records)
            area = np.log((1 - w) * softmax(area) + w * t_area + 1e-12)
            types = (1 - w) * types + w * t_types
        return area, types

    def _forward(self, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Area logits and type probabilities of encoded rows, in the run's precision.

        Rows are sorted by length and cut into batches of at most `BATCH_TOKENS` padded tokens, so short
        sentences are not padded to the longest one of the call.
        """
        import torch

        from govtag.backends.precision import autocast, autocast_dtype

        order = np.argsort([r["length"] for r in rows], kind="stable")
        area = np.zeros((len(rows), len(self.area_labels_)))
        types = np.zeros((len(rows), len(self.type_labels_)))
        self.model_.eval()
        device = next(self.model_.parameters()).device
        with torch.inference_mode(), autocast(device, autocast_dtype(self.precision, device)):
            for idx in _token_batches([rows[i]["length"] for i in order], BATCH_TOKENS):
                idx = order[idx]
                out = self.model_(**{k: v.to(device) for k, v in self._collate([rows[i] for i in idx]).items()})
                area[idx] = out.area_logits.double().cpu().numpy()
                types[idx] = torch.sigmoid(out.type_logits).double().cpu().numpy()
        return area, types

    # --- save / load ----------------------------------------------------------------------------
    def _save_weights(self, directory: Path) -> None:
        self.model_.save_pretrained(directory / "network")
        self.tokenizer_.save_pretrained(directory / "tokenizer")
        if self.params.tfidf_weight > 0:
            self.tfidf_.save(directory / "tfidf")
        log = getattr(self, "train_log_", {})
        (directory / "training_log.json").write_text(json.dumps(log, ensure_ascii=False, indent=2), encoding="utf-8")

    def _load_weights(self, directory: Path) -> None:
        import torch

        from govtag.backends.precision import run_device
        from govtag.network import TwoHeadConfig, TwoHeadModel

        net = directory / "network"
        with reading(net / "config.json"):
            config = TwoHeadConfig.from_pretrained(net)
        with reading(net / "model.safetensors"):  # checked first: else transformers looks for other formats
            self.model_ = TwoHeadModel.from_pretrained(net, config=config).eval()
        require_finite(all(bool(torch.isfinite(t).all()) for t in self.model_.state_dict().values()
                           if t.is_floating_point()), net / "model.safetensors")
        self.model_.to(run_device())
        with reading(directory / "tokenizer" / "tokenizer.json"):
            self._setup_tokenizer(str(directory / "tokenizer"))
        if self.params.tfidf_weight > 0:
            with reading(directory / "tfidf"):
                self.tfidf_ = TfidfTagger.load(directory / "tfidf", self.schema)


def _token_batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Cut positions ``0..n-1`` of ascending ``lengths`` into runs whose padded size (count x longest)
    stays within ``budget`` tokens; a row longer than the budget goes alone.

    Example:
        >>> _token_batches([10, 10, 20, 60], 64)
        [[0, 1, 2], [3]]
    """
    batches: list[list[int]] = []
    for i, n in enumerate(lengths):
        if batches and n * (len(batches[-1]) + 1) <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def _encoder_layers(encoder) -> list:
    """The encoder's transformer blocks, bottom first: the longest ModuleList of the model."""
    import torch

    lists = [m for m in encoder.modules() if isinstance(m, torch.nn.ModuleList)]
    if not lists:
        raise GovtagError("freeze_layers: this encoder has no list of layers to freeze; set freeze_layers: 0")
    return list(max(lists, key=len))
