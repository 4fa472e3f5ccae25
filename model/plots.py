"""Pictures for people: a CJK font from an installed package, the area confusion matrix, and the
per-report stacked bars of a tagged batch.

The font comes from a registry package (``mplfonts`` ships Noto Sans CJK SC), never from the network;
when no CJK font is installed, labels fall back to the schema's Latin ``en`` names so no glyph ever
renders as a box.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from govtag.io import atomic_write
from govtag.schema import Schema

# Files that hold the Chinese glyphs govtag's labels need, best first, as shipped by packages.
_FONT_FILES = ("NotoSansCJKsc-Regular.otf", "SourceHanSansSC-Regular.otf", "SimHei.ttf")


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Register an installed CJK font with matplotlib and return its family name (None if there is none).

    Example:
        >>> cjk_font() in (None, "Noto Sans CJK SC", "Source Han Sans SC", "SimHei")
        True
    """
    from matplotlib import font_manager

    spec = importlib.util.find_spec("mplfonts")  # only its font files are used; importing it is not needed
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "fonts"
    for name in _FONT_FILES:
        path = folder / name
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    return None


def area_names(schema: Schema) -> list[str]:
    """Area labels as a picture shows them: the Chinese labels with a CJK font, else the ``en`` names.

    Example:
        >>> names = area_names(load_schema())
        >>> names[3] in ("乡村振兴", "rural revitalisation")
        True
    """
    if cjk_font():
        return list(schema.areas)
    en = {e["label"]: e.get("en", e["label"]) for e in schema.raw["area"]}
    return [en[a] for a in schema.areas]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    family = cjk_font()
    plt.rcParams["font.family"] = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False  # CJK fonts lack U+2212
    return plt


def _save(fig, path: Path) -> None:
    with atomic_write(path, binary=True) as f:
        fig.savefig(f, format="png")


def plot_confusion(m: dict, schema: Schema, path: str | Path) -> None:
    """Save the area confusion matrix (rows gold, columns predicted, counts in cells) as a PNG.

    Args:
        m: metrics from `govtag.evaluate.compute_metrics` (uses ``area.confusion``, ``n``, ``macro_f1``).
        schema: gives the label order and names.
        path: the PNG to write (atomically).
    """
    plt = _pyplot()
    cm = np.array(m["area"]["confusion"])
    labels = area_names(schema)
    fig, ax = plt.subplots(figsize=(6.4, 5.4), dpi=120)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if norm[i, j] > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted area")
    ax.set_ylabel("gold area")
    ax.set_title(f"Area confusion (n={m['n']}, macro-F1 {m['area']['macro_f1']:.3f})")
    fig.tight_layout()
    _save(fig, Path(path))
    plt.close(fig)


def plot_report_areas(reports: list[str], counts: np.ndarray, schema: Schema, path: str | Path) -> None:
    """Save stacked horizontal bars, one per report, split by area (sentence counts).

    Args:
        reports: report names, one per bar.
        counts: ``[len(reports), len(schema.areas)]`` sentence counts.
        schema: gives the area order and names.
        path: the PNG to write (atomically).

    Example:
        >>> plot_report_areas(["某县科技局2023年工作总结"], np.array([[3, 5, 2, 1, 4, 20]]), load_schema(), "s.png")
    """
    plt = _pyplot()
    names = area_names(schema)
    height = min(0.45 * len(reports) + 1.6, 60)
    fig, ax = plt.subplots(figsize=(9, height), dpi=110)
    left = np.zeros(len(reports))
    colours = plt.get_cmap("tab10").colors
    short = [r if len(r) <= 28 else r[:27] + "…" for r in reports]
    for j, name in enumerate(names):
        ax.barh(range(len(reports)), counts[:, j], left=left, label=name, color=colours[j % 10])
        left += counts[:, j]
    ax.set_yticks(range(len(reports)), short)
    ax.invert_yaxis()  # first report on top, as in the table
    ax.set_xlabel("sentences")
    ax.set_title("Sentences per work area")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    _save(fig, Path(path))
    plt.close(fig)
