"""Command line: `classify run` for the whole pipeline, plus one command per stage.

Exit codes (stable, for scripts):
  0  every input document was processed
  1  the run finished, but some documents are in the errors file
  2  usage error (bad option, missing input)
  3  fatal error (models missing or incompatible, output not writable, ...)
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from classify.clean import CleanOptions
from classify.dedup import DedupOptions
from classify.document import Document, ErrorRecord
from classify.models import ModelError
from classify.pipeline import RunOptions, run as run_pipeline
from classify.readers import ReadOptions
from classify.writers import errors_path_for

EXIT_OK, EXIT_SOME_ERRORS, EXIT_USAGE, EXIT_FATAL = 0, 1, 2, 3
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
SUMMARY_ROWS = 50  # per-document table only for small runs; larger runs get totals only

app = typer.Typer(
    help="Strip web noise from news documents, flag duplicated paragraphs, classify topic and stance.",
    no_args_is_help=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err_console = Console(stderr=True)


@app.callback()
def main_callback() -> None:
    """classify: boilerplate-robust news classifier and deduplicator."""


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


class Favor(str, Enum):
    precision = "precision"
    balanced = "balanced"
    recall = "recall"


def fail(message: str, code: int = EXIT_FATAL) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _summary_table(rows: list[Document]) -> Table:
    table = Table(title="classify run", show_lines=False)
    for column in ("id", "lang", "kept", "removed", "dup paras", "topic", "stance"):
        table.add_column(column, no_wrap=column in ("id", "topic", "stance"))
    for doc in rows:
        table.add_row(
            doc.id,
            doc.language or "",
            str(sum(1 for line in doc.lines if line.kept)),
            str(sum(1 for line in doc.lines if line.status == "noise")),
            str(sum(1 for line in doc.lines if line.duplicate_of)),
            f"{doc.topic.label} {doc.topic.score:.2f}" if doc.topic else "-",
            f"{doc.stance.label} {doc.stance.score:.2f}" if doc.stance else "-",
        )
    return table


@app.command()
def run(
    inputs: Optional[list[str]] = typer.Argument(
        None, help="Files, directories or '-' for stdin. Default: the example documents in seeds/."
    ),
    output: Path = typer.Option(Path("classified.jsonl"), "--output", "-o", help="Where document records go."),
    fmt: OutputFormat = typer.Option(OutputFormat.jsonl, "--format", "-f", help="Output format."),
    glob: str = typer.Option("*", help="Which files of a directory input to read (recursively)."),
    text_field: str = typer.Option("text", help="Field holding the text in JSONL/CSV/Parquet inputs."),
    id_field: str = typer.Option("id", help="Field holding the document id in JSONL/CSV/Parquet inputs."),
    max_bytes: int = typer.Option(ReadOptions.max_bytes, min=1, help="Larger documents go to the errors file."),
    max_line_chars: int = typer.Option(ReadOptions.max_line_chars, min=1, help="Texts with a longer line go to the errors file."),
    favor: Favor = typer.Option(Favor.balanced, help="Cleaning trade-off: drop doubtful lines (precision) or keep them (recall)."),
    threshold: float = typer.Option(0.8, min=0.1, max=1.0, help="Jaccard similarity from which paragraphs are duplicates."),
    drop_duplicates: bool = typer.Option(False, help="Remove flagged duplicate paragraphs from the clean text before classifying."),
    index: Optional[Path] = typer.Option(None, help="Persistent dedup index: check against earlier runs and add this one."),
    target: Optional[str] = typer.Option(None, help="Give stance toward this entity (e.g. 'ОДКБ') instead of the article's subject."),
    models: Optional[Path] = typer.Option(None, help="Directory of the topic and stance models (default: the shipped ones)."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=-1, help="Worker processes for cleaning (-1: all cores)."),
    batch_size: int = typer.Option(256, min=1, help="Documents per streaming batch."),
    checkpoint_every: int = typer.Option(64, min=1, help="Batches between checkpoints of a resumable run."),
    resume: bool = typer.Option(False, help="Go on with an interrupted run (same inputs and options) from its last checkpoint."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary table."),
) -> None:
    """Run the whole pipeline: read -> clean -> dedup -> classify -> write."""
    if not inputs:
        if not SEEDS_DIR.is_dir():
            fail("no input given and no seeds/ directory next to the package", EXIT_USAGE)
        inputs, glob = [str(SEEDS_DIR)], "*.txt"
    read_options = ReadOptions(
        glob=glob, text_field=text_field, id_field=id_field, max_bytes=max_bytes, max_line_chars=max_line_chars
    )
    options = RunOptions(
        read=read_options,
        clean=CleanOptions(favor=favor.value),
        dedup=DedupOptions(threshold=threshold),
        drop_duplicates=drop_duplicates,
        target=target,
        models_dir=models,
        index_path=index,
        batch_size=batch_size,
        jobs=jobs,
        checkpoint_every=checkpoint_every,
    )
    errors_output = errors_path_for(output)
    shown: list[Document] = []
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} docs"),
        TimeElapsedColumn(), console=err_console, transient=True, disable=quiet,
    )

    def on_batch(docs: list[Document], errors: list[ErrorRecord]) -> None:
        progress.advance(task, len(docs) + len(errors))
        if len(shown) <= SUMMARY_ROWS:
            shown.extend(docs[: SUMMARY_ROWS + 1 - len(shown)])

    with progress:
        task = progress.add_task("classifying", total=None)
        try:
            summary = run_pipeline(inputs, output, errors_output, options, fmt.value, on_batch, resume)
        except (OSError, ValueError, ModelError) as exc:  # missing models, bad index, unwritable output...
            fail(str(exc))
    if not quiet and shown and len(shown) <= SUMMARY_ROWS and str(output) != "-":
        # A terminal gets its own width; a pipe or file gets a width that keeps rows on one line.
        console = Console() if sys.stdout.isatty() else Console(width=120)
        console.print(_summary_table(shown))
    err_console.print(
        f"{summary.documents} documents -> {output}, {summary.errors} errors -> {errors_output}; "
        f"{summary.lines_removed} noise lines removed, {summary.duplicate_paragraphs} duplicate paragraphs flagged",
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_SOME_ERRORS if summary.errors else EXIT_OK)
