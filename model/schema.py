"""The label schema: which areas and types exist, loaded from the packaged `schema.yaml` and checked."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from govtag.errors import GovtagError

# Shipped inside the package (not read from a checkout), so an installed wheel knows its labels.
DEFAULT_SCHEMA = resources.files("govtag") / "schema.yaml"


@dataclass(frozen=True)
class Schema:
    """The label sets a model predicts: one area out of `areas`, any subset of `types`.

    Attributes:
        name: the schema family, e.g. ``govtag-work-report``.
        version: bumped when a label changes meaning.
        areas: area labels in prediction-column order, e.g. ``("平台", ..., "其他")``.
        types: type labels in prediction-column order, e.g. ``("achievement", "plan", "metric")``.
        raw: the parsed YAML, kept so a model directory can store the schema verbatim.
    """

    name: str
    version: int
    areas: tuple[str, ...]
    types: tuple[str, ...]
    raw: dict

    def same_labels(self, other: "Schema") -> bool:
        """True when both schemas predict the same labels in the same order."""
        return (self.name, self.version, self.areas, self.types) == (
            other.name, other.version, other.areas, other.types)

    def describe(self) -> str:
        """One line naming the schema and its labels, for error messages and model cards."""
        return (f"{self.name} v{self.version} (areas: {', '.join(self.areas)}; "
                f"types: {', '.join(self.types)})")


def schema_from_dict(raw: object, where: str) -> Schema:
    """Validate a parsed schema document.

    Args:
        raw: the parsed YAML/JSON mapping.
        where: the file it came from, named in errors.

    Returns:
        The checked `Schema`.

    Example:
        >>> s = schema_from_dict(yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8")), "schema.yaml")
        >>> "乡村振兴" in s.areas
        True
    """
    if not isinstance(raw, dict):
        raise GovtagError(f"{where}: expected a mapping with keys name, version, area, types; "
                          f"found {type(raw).__name__}")
    for key in ("name", "version", "area", "types"):
        if key not in raw:
            raise GovtagError(f"{where}: missing key '{key}'; a schema needs name, version, area and types")
    unknown = set(raw) - {"name", "version", "area", "types"}
    if unknown:
        raise GovtagError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                          "expected only name, version, area, types")
    if not isinstance(raw["version"], int):
        raise GovtagError(f"{where}: version must be an integer, found {raw['version']!r}")
    labels = {}
    for key in ("area", "types"):
        entries = raw[key]
        if not isinstance(entries, list) or not entries:
            raise GovtagError(f"{where}: '{key}' must be a non-empty list of labels")
        seen: list[str] = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("label"), str) or not entry["label"]:
                raise GovtagError(f"{where}: {key}[{i}] must be a mapping with a non-empty 'label'")
            extra = set(entry) - {"label", "name", "description", "en"}
            if extra:
                raise GovtagError(f"{where}: {key}[{i}] ({entry['label']}) has unknown key(s) {', '.join(sorted(extra))}; "
                                  "expected label, name, description, en")
            for field in ("name", "description"):
                if not isinstance(entry.get(field), str) or not entry[field].strip():
                    raise GovtagError(f"{where}: {key}[{i}] ({entry['label']}) needs a non-empty '{field}'")
            if entry["label"] in seen:
                raise GovtagError(f"{where}: {key} label '{entry['label']}' is listed twice")
            seen.append(entry["label"])
        labels[key] = tuple(seen)
    if len(labels["area"]) < 2:
        raise GovtagError(f"{where}: 'area' needs at least two labels to choose between")
    return Schema(name=str(raw["name"]), version=raw["version"], areas=labels["area"],
                  types=labels["types"], raw=raw)


def load_schema(path: str | Path | None = None) -> Schema:
    """Read and validate a schema YAML file.

    Args:
        path: the schema file; defaults to the schema shipped with govtag (``govtag/schema.yaml``).

    Returns:
        The checked `Schema`.

    Example:
        >>> load_schema().areas[0]
        '平台'
    """
    path = DEFAULT_SCHEMA if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GovtagError(f"{path}: schema file not found; expected a YAML file like govtag's own schema.yaml") from None
    except UnicodeDecodeError:
        raise GovtagError(f"{path}: schema file is not UTF-8 text") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GovtagError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return schema_from_dict(raw, str(path))
