"""Tagging at archive scale with Ray Data: the same rows as `govtag.tag`, computed on a cluster.

Reports are read and segmented in parallel Ray tasks, their records tagged in batches by a pool of
actors that each load the model once (by path: the model directory must be readable at the same
absolute path on every node, e.g. a shared file system), and the rows written as one JSONL shard per
report under ``OUT/shards/``. A shard appears only once its report is complete (`govtag.io.atomic_write`),
so a job that stops can be run again and skips every report whose shard exists. Reports that cannot
be read go to ``OUT/errors.jsonl``; small outputs are also merged into ``OUT/tagged.jsonl`` in input
order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from govtag.errors import GovtagError
from govtag.io import atomic_write, check_output_dir
from govtag.tag import FORMATS, TagSummary, expand_inputs, predict_rows, report_records

MERGE_LIMIT = 200_000  # rows up to which OUT/tagged.jsonl is written besides the shards
# reports read and segmented per Ray task: a task costs more than segmenting a small report (tagging the
# 215 corpus reports with TF-IDF took 11-13 s with a task each, 5 s with 16 each)
REPORTS_PER_TASK = 16
INSTALL = "pip install 'govtag[ray]'"


@dataclass
class RayTagSummary(TagSummary):
    """What a Ray tagging run did; ``bad`` holds the sentences also written to ``errors.jsonl``.

    Example:
        >>> RayTagSummary(files=2, sentences=120, review=9, skipped=1, seconds=4.0).describe("out/")
        '2 reports, 120 sentences tagged in 4.0 s (30 sentences/s), 9 flagged for review; 1 report skipped (its shard exists) → out/'
    """

    skipped: int = 0  # reports whose shard an earlier run wrote
    seconds: float = 0.0  # the Ray job's wall time, starting a local Ray left out

    def describe(self, out: str | Path | None = None) -> str:
        """The final line: reports, sentences, seconds and sentences per second of this run."""
        rate = self.sentences / self.seconds if self.seconds else 0.0
        skipped = (f"; {self.skipped} report{'s' if self.skipped != 1 else ''} skipped "
                   f"({'their shards exist' if self.skipped != 1 else 'its shard exists'})") if self.skipped else ""
        return (f"{self.files} report{'s' if self.files != 1 else ''}, {self.sentences} sentences tagged in "
                f"{self.seconds:.1f} s ({rate:.0f} sentences/s), {self.review} flagged for review{skipped} → {out}")


def shard_name(path: Path) -> str:
    """The shard file of a report: its name, shortened, and a hash of its absolute path (stable across runs).

    Example:
        >>> shard_name(Path("/data/县科技局2023年工作总结.txt"))
        '县科技局2023年工作总结-66869f242883.jsonl'
    """
    key = hashlib.sha1(str(path.absolute()).encode("utf-8")).hexdigest()[:12]
    return f"{path.stem[:40]}-{key}.jsonl"  # 40 Chinese characters are 120 bytes: within the 255-byte limit


def _segment(item: dict) -> list[dict]:
    """One report's records as rows of a Ray dataset; a report that cannot be read becomes one error row,
    and a report without records one marker row, so that every report reaches the driver."""
    try:
        records = report_records(Path(item["path"]))
    except GovtagError as exc:
        return [{"file": item["file"], "n": 0, "error": str(exc), "record": ""}]
    if not records:
        return [{"file": item["file"], "n": 0, "error": "", "record": ""}]
    return [{"file": item["file"], "n": len(records), "error": "", "record": json.dumps(r, ensure_ascii=False)}
            for r in records]


class Predictor:
    """A Ray actor's tagger: loads the model once, then turns batches of record rows into output rows.

    Args:
        model_dir: the model directory's absolute path, readable on every node.

    Example:
        ``Predictor("/shared/models/default")({"file": ["a.txt"], "n": [1], "error": [""], "record":
        ['{"text": "新增高企12家。", ...}']})["row"]`` holds that sentence's output row as JSON.
    """

    def __init__(self, model_dir: str, precision: str = "auto"):
        from govtag.backends import load_model

        self.tagger = load_model(model_dir, precision=precision)

    def __call__(self, batch: dict) -> dict:
        keep = [i for i, record in enumerate(batch["record"]) if record]  # error and marker rows pass through
        rows = iter(predict_rows([(Path(batch["file"][i]), json.loads(batch["record"][i])) for i in keep],
                                 self.tagger))
        out = {"file": list(batch["file"]), "n": list(batch["n"]), "error": list(batch["error"]),
               "index": [], "row": [], "review": [], "noise": []}
        for record in batch["record"]:
            r = next(rows) if record else None
            out["index"].append(r["index"] if r else -1)
            out["row"].append(json.dumps(r, ensure_ascii=False) if r else "")
            out["review"].append(bool(r and r["review"]))
            out["noise"].append(bool(r and r["is_noise"]))
        return out


def check_output_folder(out_dir: str | Path | None) -> Path:
    """Refuse an output that is not a folder govtag may write shards into, before any work starts.

    A new or empty folder, or one an earlier Ray run wrote (it holds ``shards/``), is fine; a file name,
    a file, a folder of other files or no folder at all ends in one sentence.

    Example:
        >>> check_output_folder("out/tagged.jsonl")
        Traceback (most recent call last):
        govtag.errors.GovtagError: out/tagged.jsonl: with --engine ray, -o names a folder (shards/, tagged.jsonl and errors.jsonl go in it), not a file; give a folder such as out/
    """
    if out_dir is None:
        raise GovtagError("with --engine ray the rows go to a folder of shards, not standard output; "
                          "give one with -o OUT/")
    out = Path(out_dir)
    if out.suffix.lower() in FORMATS and not out.is_dir():
        raise GovtagError(f"{out}: with --engine ray, -o names a folder (shards/, tagged.jsonl and errors.jsonl go "
                          "in it), not a file; give a folder such as out/")
    return check_output_dir(out, lambda p: (p / "shards").is_dir())


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (the extra installs Ray Data too; a bare `pip install ray` does not)
    except ImportError:
        raise GovtagError(f"--engine ray needs Ray with Ray Data, which is not installed; install it with "
                          f"{INSTALL}") from None
    return ray


def _start_ray(ray, address: str | None, num_cpus: int | None) -> bool:
    """Connect to the cluster at ``address``, or start Ray on this machine; True when this call started it."""
    if ray.is_initialized():  # a caller (a notebook, the tests) already holds a Ray session
        return False
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING)
    except ConnectionError as exc:
        raise GovtagError(f"{address}: no Ray cluster answers there ({exc}); start one with `ray start --head` "
                          "and pass the address it prints") from None
    return True


def _write_shard(path: Path, rows: list[tuple[int, str]]) -> None:
    with atomic_write(path, encoding="utf-8") as f:
        f.writelines(row + "\n" for _, row in sorted(rows))


def _merge(shards: list[Path], out: Path, progress: Callable[[str], None]) -> None:
    """Concatenate the shards, in input order, into ``tagged.jsonl`` when they hold few enough rows."""
    total = 0
    for shard in shards:
        with shard.open(encoding="utf-8") as f:
            total += sum(1 for _ in f)
        if total > MERGE_LIMIT:
            out.unlink(missing_ok=True)  # an earlier, smaller run's merge would be read as this run's
            progress(f"more than {MERGE_LIMIT} rows: no {out.name} is written; read the shards in {out.parent}/shards")
            return
    with atomic_write(out, encoding="utf-8") as merged:
        for shard in shards:
            with shard.open(encoding="utf-8") as f:
                shutil.copyfileobj(f, merged)


def _run(items: list[dict], model_dir: Path, shards: Path, summary: RayTagSummary, workers: int,
         num_gpus: float, batch_size: int, precision: str) -> dict[str, str]:
    """Tag the reports in ``items`` on Ray, writing each report's shard as soon as all its rows are in.

    Returns the reports that could not be read: ``{file: error sentence}``."""
    import ray.data

    blocks = -(-len(items) // REPORTS_PER_TASK)
    ds = (ray.data.from_items(items, override_num_blocks=blocks)
          # reading and segmenting is light next to the model: reserving no CPU for it keeps it from
          # waiting forever behind actors that hold every CPU (2 workers on a 2-CPU machine)
          .flat_map(_segment, num_cpus=0, compute=ray.data.TaskPoolStrategy(size=min(max(2, workers), blocks)))
          .map_batches(Predictor, fn_constructor_kwargs={"model_dir": str(model_dir), "precision": precision},
                       compute=ray.data.ActorPoolStrategy(size=workers), batch_size=batch_size,
                       num_gpus=num_gpus or None))
    names = {item["file"]: shards / item["shard"] for item in items}
    pending: dict[str, list[tuple[int, str]]] = {}  # rows of reports not complete yet
    failed = {}
    for r in ds.iter_rows():
        if r["error"]:
            failed[r["file"]] = r["error"]
            continue
        rows = pending.setdefault(r["file"], [])
        if r["row"]:
            rows.append((int(r["index"]), r["row"]))
            summary.sentences += 1
            summary.review += int(r["review"])
            summary.noise += int(r["noise"])
        if len(rows) == r["n"]:
            _write_shard(names[r["file"]], pending.pop(r["file"]))
            summary.files += 1
    return failed


def tag_with_ray(inputs: list[str], model_dir: str | Path, out_dir: str | Path | None, address: str | None = None,
                 workers: int = 1, num_cpus: int | None = None, num_gpus: float = 0, batch_size: int = 64,
                 progress: Callable[[str], None] = lambda message: None, precision: str = "auto") -> RayTagSummary:
    """Tag reports on Ray: segment in parallel tasks, predict in an actor pool, one JSONL shard per report.

    Writes ``OUT/shards/<report>-<hash>.jsonl`` (rows as `govtag.tag.tag_rows` makes them, in record
    order), ``OUT/errors.jsonl`` (``file``, ``error``: one row per report that could not be read) and,
    up to `MERGE_LIMIT` rows, ``OUT/tagged.jsonl`` (every shard of ``inputs`` in input order). Reports
    whose shard exists are skipped, so an interrupted job is resumed by running it again.

    Args:
        inputs: report files, folders or glob patterns, readable at the same path on every node.
        model_dir: a model directory from `govtag train`, readable at the same path on every node.
        out_dir: the output folder (new, empty, or written by an earlier run).
        address: a running cluster's ``HEAD:6379``; None starts Ray on this machine (and stops it after).
        workers: tagging actors, each loading the model once.
        num_cpus: CPUs of a Ray started on this machine (None: all of them).
        num_gpus: GPUs per actor (e.g. 1, or 0.5 to share one GPU between two actors); 0: CPU actors.
        batch_size: records per call to the model.
        progress: called with a line for what is skipped and what is not merged.
        precision: how each actor's network computes: ``auto``, ``bf16`` or ``fp32``.

    Returns:
        The run's `RayTagSummary` (its ``describe()`` is the final line).

    Example:
        After ``govtag train``, ``tag_with_ray(["data/reports/pingyang-keji-2022.txt"], "models/default",
        "out/")`` writes the report's rows to ``out/shards/pingyang-keji-2022-<hash>.jsonl`` and
        ``out/tagged.jsonl``; the row of "(六)加强科技指导帮扶,有效助力乡村振兴。" has area ``乡村振兴``.
    """
    from govtag.backends.store import read_model_config
    from govtag.schema import load_schema

    if workers < 1:
        raise GovtagError(f"--workers {workers}: expected at least 1 tagging actor")
    out = check_output_folder(out_dir)
    ray = _import_ray()
    files = expand_inputs(inputs)
    model_dir = Path(model_dir).absolute()
    read_model_config(model_dir, load_schema())  # a wrong model path ends here, not in every actor
    shards = out / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    items = [{"file": str(p), "path": str(p.absolute()), "shard": shard_name(p)} for p in files]
    todo = [item for item in items if not (shards / item["shard"]).exists()]
    summary = RayTagSummary(skipped=len(items) - len(todo))
    if summary.skipped:
        progress(f"{summary.skipped} of {len(items)} reports skipped: their shards exist in {shards}")
    failed: dict[str, str] = {}
    if todo:
        started = _start_ray(ray, address, num_cpus)
        start = time.perf_counter()  # the job's time: a cluster is already up, so starting Ray is left out
        try:
            failed = _run(todo, model_dir, shards, summary, workers, num_gpus, batch_size, precision)
        except ray.exceptions.RayError as exc:  # its last line is the worker's error, ours or another
            cause = str(exc).strip().splitlines()[-1].removeprefix(f"{GovtagError.__module__}.GovtagError: ")
            raise GovtagError(f"the Ray job stopped: {cause}; the reports tagged so far are kept in {shards}: "
                              "run the same command again to go on") from None
        finally:
            summary.seconds = time.perf_counter() - start
            if started:
                ray.shutdown()
    errors = [{"file": item["file"], "error": failed[item["file"]]} for item in items if item["file"] in failed]
    summary.bad = [e["error"] for e in errors]  # in input order, however Ray ordered them
    with atomic_write(out / "errors.jsonl", encoding="utf-8") as f:
        f.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in errors)
    _merge([shards / item["shard"] for item in items if (shards / item["shard"]).exists()], out / "tagged.jsonl",
           progress)
    return summary
