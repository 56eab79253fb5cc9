"""Command line: `classify run` for the whole pipeline, `clean` and `dedup` for its first stages,
`train` and `evaluate` for the models.

Exit codes (stable, for scripts):
  0  every input document was processed
  1  the run finished, but some documents are in the errors file
  2  usage error (bad option, missing input)
  3  fatal error (models missing or incompatible, bad index, output not writable, ..., or a bug)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from classify.clean import CleanOptions
from classify.dedup import DedupOptions
from classify.document import ErrorRecord
from classify.models import ModelError
from classify.models.command import evaluate_command, train_command
from classify.pipeline import STAGES, RunOptions, run as run_pipeline
from classify.readers import ReadOptions
from classify.writers import EncodedRecord, errors_path_for

EXIT_OK, EXIT_SOME_ERRORS, EXIT_USAGE, EXIT_FATAL = 0, 1, 2, 3
T = TypeVar("T")
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
SUMMARY_ROWS = 50  # per-document table only for small runs; larger runs get totals only

app = typer.Typer(
    help="Strip web noise from news documents, flag duplicated paragraphs, classify topic and stance.",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err_console = Console(stderr=True)


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


class Engine(str, Enum):
    local = "local"
    dask = "dask"


class Repetition(str, Enum):
    corpus = "corpus"
    batch = "batch"


class Favor(str, Enum):
    precision = "precision"
    balanced = "balanced"
    recall = "recall"


# Options shared by the pipeline commands: declared once, used in each signature.
DEFAULT_READ, DEFAULT_DEDUP = ReadOptions(), DedupOptions()
INPUTS = typer.Argument(None, help="Files, directories or '-' for stdin. Default: the example documents in seeds/.")
FORMAT = typer.Option(OutputFormat.jsonl, "--format", "-f", help="Output format.")
GLOB = typer.Option("*", help="Which files of a directory input to read (recursively).")
TEXT_FIELD = typer.Option("text", help="Field holding the text in JSONL/CSV/Parquet inputs.")
ID_FIELD = typer.Option("id", help="Field holding the document id in JSONL/CSV/Parquet inputs.")
MAX_BYTES = typer.Option(DEFAULT_READ.max_bytes, min=1, help="Larger documents go to the errors file.")
MAX_LINE_CHARS = typer.Option(DEFAULT_READ.max_line_chars, min=1, help="Texts with a longer line go to the errors file.")
FAVOR = typer.Option(Favor.balanced, help="Cleaning trade-off: drop doubtful lines (precision) or keep them (recall).")
THRESHOLD = typer.Option(DEFAULT_DEDUP.threshold, min=0.1, max=1.0, help="Jaccard similarity from which paragraphs are duplicates.")
DOCUMENT_THRESHOLD = typer.Option(DEFAULT_DEDUP.document_threshold, min=0.1, max=1.0, help="Jaccard similarity from which documents are near-duplicates.")
DROP_DUPLICATES = typer.Option(False, help="Remove flagged duplicate paragraphs from the clean text (and before classifying).")
INDEX = typer.Option(None, help="Persistent dedup index: check against earlier runs and add this one.")
JOBS = typer.Option(1, "--jobs", "-j", min=-1, help="Worker processes for cleaning (-1: all cores).")
BATCH_SIZE = typer.Option(256, min=1, help="Documents per streaming batch.")
CHECKPOINT_EVERY = typer.Option(64, min=1, help="Batches between checkpoints of a resumable run.")
RESUME = typer.Option(False, help="Go on with an interrupted run (same inputs and options) from its last checkpoint.")
REPETITION = typer.Option(
    Repetition.corpus,
    help="Count lines repeated in a source (site, channel, directory) over the whole corpus (a first, "
    "counting pass; stdin: per batch) or within each batch.",
)
QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary table.")


@app.callback()
def main_callback() -> None:
    """classify: boilerplate-robust news classifier and deduplicator."""


def fail(message: str, code: int = EXIT_FATAL) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", soft_wrap=True)  # one line, for logs and grep
    raise typer.Exit(code)


def _options(kind: Callable[..., T], **fields: Any) -> T:
    """Options (RunOptions, DedupOptions...) from the command line; a value they refuse is a usage
    error (exit 2), found before the run opens its output."""
    try:
        return kind(**fields)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)


def _summary_table(records: list[EncodedRecord], stages: tuple[str, ...]) -> Table:
    columns = ["id", "lang", "kept", "removed", "dup paras"] + (["topic", "stance"] if "classify" in stages else [])
    table = Table(title=f"classify {' + '.join(stages)}")
    for column in columns:
        table.add_column(column, no_wrap=column in ("id", "topic", "stance"))
    for record in map(EncodedRecord.to_dict, records):
        cells = [
            record["id"], record["language"] or "", str(record["lines_kept"]), str(record["lines_removed"]),
            str(len(record["duplicates"])),
        ]
        for prediction in (record["topic"], record["stance"]) if "classify" in stages else ():
            cells.append(f"{prediction['label']} {prediction['score']:.2f}" if prediction else "-")
        table.add_row(*cells)
    return table


def _execute(
    inputs: list[str] | None,
    output: Path,
    fmt: OutputFormat,
    read: ReadOptions,
    options: RunOptions,
    resume: bool,
    quiet: bool,
    engine: Engine = Engine.local,
    scheduler: str | None = None,
    workers: int = 2,
) -> None:
    """Run the pipeline with a progress bar, print the summary, exit with the documented code."""
    if not inputs:
        if not SEEDS_DIR.is_dir():
            fail("no input given and no seeds/ directory next to the package", EXIT_USAGE)
        inputs, read = [str(SEEDS_DIR)], replace(read, glob="*.txt")
    options.read = read
    errors_output = errors_path_for(output)
    shown: list[EncodedRecord] = []
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} docs"),
        TimeElapsedColumn(), console=err_console, transient=True, disable=quiet,
    )

    def on_batch(records: list[EncodedRecord], errors: list[ErrorRecord]) -> None:
        progress.advance(task, len(records) + len(errors))
        if len(shown) <= SUMMARY_ROWS:
            shown.extend(records[: SUMMARY_ROWS + 1 - len(shown)])

    with progress:
        task = progress.add_task(" + ".join(options.stages), total=None)
        try:
            if engine is Engine.dask:
                summary = _run_dask(inputs, output, errors_output, options, fmt, on_batch, resume, scheduler, workers)
            else:
                summary = run_pipeline(inputs, output, errors_output, options, fmt.value, on_batch, resume)
        except typer.Exit:  # a usage error found on the way (it is an Exception too)
            raise
        except (OSError, ValueError, ModelError) as exc:  # missing models, bad index, unwritable output...
            fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug is still a fatal error to scripts (not exit 1)
            err_console.print_exception()
            fail(f"internal error: {type(exc).__name__}: {exc}")
    if not quiet and shown and len(shown) <= SUMMARY_ROWS and str(output) != "-":
        # A terminal gets its own width; a pipe or file gets a width that keeps rows on one line.
        console = Console() if sys.stdout.isatty() else Console(width=120)
        console.print(_summary_table(shown, options.stages))
    err_console.print(
        f"{summary.documents} documents -> {output}, {summary.errors} errors -> {errors_output}; "
        f"{summary.lines_removed} noise lines removed, {summary.duplicate_paragraphs} duplicate paragraphs flagged",
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_SOME_ERRORS if summary.errors else EXIT_OK)


def _run_dask(inputs, output, errors_output, options, fmt, on_batch, resume, scheduler, workers):
    """The Dask engine, imported only when asked for (Dask is an optional extra)."""
    if resume or options.index_path:
        fail("--resume and --index work with the local engine only", EXIT_USAGE)
    try:
        from classify.distributed import run_dask
    except ImportError as exc:
        fail(f"the Dask engine needs the dask extra: pip install 'classify[dask]' ({exc})", EXIT_USAGE)
    return run_dask(inputs, output, errors_output, options, fmt.value, scheduler, workers, on_batch)


@app.command()
def run(
    inputs: Optional[list[str]] = INPUTS,
    output: Path = typer.Option(Path("classified.jsonl"), "--output", "-o", help="Where document records go."),
    fmt: OutputFormat = FORMAT,
    glob: str = GLOB,
    text_field: str = TEXT_FIELD,
    id_field: str = ID_FIELD,
    max_bytes: int = MAX_BYTES,
    max_line_chars: int = MAX_LINE_CHARS,
    favor: Favor = FAVOR,
    repetition: Repetition = REPETITION,
    threshold: float = THRESHOLD,
    document_threshold: float = DOCUMENT_THRESHOLD,
    drop_duplicates: bool = DROP_DUPLICATES,
    index: Optional[Path] = INDEX,
    target: Optional[str] = typer.Option(None, help="Give stance toward this entity (e.g. 'ОДКБ') instead of the article's subject."),
    models: Optional[Path] = typer.Option(None, help="Directory of the topic and stance models (default: the shipped ones)."),
    jobs: int = JOBS,
    batch_size: int = BATCH_SIZE,
    checkpoint_every: int = CHECKPOINT_EVERY,
    resume: bool = RESUME,
    engine: Engine = typer.Option(Engine.local, help="local: this machine (--jobs processes); dask: a Dask cluster."),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address (default: a LocalCluster on this machine)."),
    workers: int = typer.Option(2, min=1, help="Workers of the LocalCluster started when no --scheduler is given."),
    quiet: bool = QUIET,
) -> None:
    """Run the whole pipeline: read -> clean -> dedup -> classify -> write."""
    options = _options(
        RunOptions,
        clean=CleanOptions(favor=favor.value),
        dedup=DedupOptions(threshold=threshold, document_threshold=document_threshold),
        drop_duplicates=drop_duplicates, target=target, models_dir=models, index_path=index,
        batch_size=batch_size, jobs=jobs, checkpoint_every=checkpoint_every, stages=STAGES,
        repetition=repetition.value,
    )
    read = ReadOptions(glob=glob, text_field=text_field, id_field=id_field, max_bytes=max_bytes, max_line_chars=max_line_chars)
    _execute(inputs, output, fmt, read, options, resume, quiet, engine, scheduler, workers)


@app.command()
def clean(
    inputs: Optional[list[str]] = INPUTS,
    output: Path = typer.Option(Path("cleaned.jsonl"), "--output", "-o", help="Where document records go."),
    fmt: OutputFormat = FORMAT,
    glob: str = GLOB,
    text_field: str = TEXT_FIELD,
    id_field: str = ID_FIELD,
    max_bytes: int = MAX_BYTES,
    max_line_chars: int = MAX_LINE_CHARS,
    favor: Favor = FAVOR,
    repetition: Repetition = REPETITION,
    min_source_repeats: int = typer.Option(3, min=2, help="A line found in this many documents of one source is boilerplate."),
    keep_title: bool = typer.Option(True, help="Keep an HTML page's headline."),
    jobs: int = JOBS,
    batch_size: int = BATCH_SIZE,
    checkpoint_every: int = CHECKPOINT_EVERY,
    resume: bool = RESUME,
    quiet: bool = QUIET,
) -> None:
    """Strip web noise only (HTML or text in; clean text and per-line annotations out)."""
    options = _options(
        RunOptions,
        clean=CleanOptions(favor=favor.value, min_source_repeats=min_source_repeats, keep_title=keep_title),
        batch_size=batch_size, jobs=jobs, checkpoint_every=checkpoint_every, stages=("clean",),
        repetition=repetition.value,
    )
    read = ReadOptions(glob=glob, text_field=text_field, id_field=id_field, max_bytes=max_bytes, max_line_chars=max_line_chars)
    _execute(inputs, output, fmt, read, options, resume, quiet)


@app.command()
def dedup(
    inputs: Optional[list[str]] = INPUTS,
    output: Path = typer.Option(Path("deduplicated.jsonl"), "--output", "-o", help="Where document records go."),
    fmt: OutputFormat = FORMAT,
    glob: str = GLOB,
    text_field: str = TEXT_FIELD,
    id_field: str = ID_FIELD,
    max_bytes: int = MAX_BYTES,
    max_line_chars: int = MAX_LINE_CHARS,
    clean_first: bool = typer.Option(True, "--clean/--no-clean", help="Strip web noise first (else every non-blank line is a paragraph)."),
    favor: Favor = FAVOR,
    repetition: Repetition = REPETITION,
    threshold: float = THRESHOLD,
    document_threshold: float = DOCUMENT_THRESHOLD,
    shingle_size: int = typer.Option(DEFAULT_DEDUP.shingle_size, min=1, help="Words per shingle."),
    num_perm: int = typer.Option(DEFAULT_DEDUP.num_perm, min=8, help="MinHash permutations."),
    min_chars: int = typer.Option(DEFAULT_DEDUP.min_chars, min=5, help="Paragraphs shorter than this (normalised) are not compared."),
    drop_duplicates: bool = DROP_DUPLICATES,
    index: Optional[Path] = INDEX,
    jobs: int = JOBS,
    batch_size: int = BATCH_SIZE,
    checkpoint_every: int = CHECKPOINT_EVERY,
    resume: bool = RESUME,
    quiet: bool = QUIET,
) -> None:
    """Flag duplicated paragraphs (within a document and across the corpus) and near-duplicate documents."""
    dedup_options = _options(
        DedupOptions, threshold=threshold, document_threshold=document_threshold, shingle_size=shingle_size,
        num_perm=num_perm, min_chars=min_chars,
    )
    options = _options(
        RunOptions,
        clean=CleanOptions(favor=favor.value), dedup=dedup_options, drop_duplicates=drop_duplicates,
        index_path=index, batch_size=batch_size, jobs=jobs, checkpoint_every=checkpoint_every,
        stages=("clean", "dedup") if clean_first else ("dedup",), repetition=repetition.value,
    )
    read = ReadOptions(glob=glob, text_field=text_field, id_field=id_field, max_bytes=max_bytes, max_line_chars=max_line_chars)
    _execute(inputs, output, fmt, read, options, resume, quiet)


app.command("train")(train_command)
app.command("evaluate")(evaluate_command)
