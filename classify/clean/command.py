"""`classify clean`: strip web noise from HTML or text documents, nothing else.

A plain typer-style function; the CLI registers it with ``app.command("clean")(clean_command)``.
Output: one record per document (`Document.to_record`: clean_text plus every removed line with its
reason), errors beside it. Exit codes follow `classify.cli`: 0 all documents processed, 1 some
documents in the errors file, 3 fatal (an unreadable repetition-counts file).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from classify.clean.options import FAVOR_CHOICES, CleanOptions
from classify.clean.repetition import SourceLineCounts
from classify.clean.stage import clean_documents
from classify.document import NOISE, Document, ErrorRecord
from classify.readers import ReadOptions, read_documents
from classify.writers import JsonlWriter, errors_path_for, open_writer, write_documents, write_errors

EXIT_OK, EXIT_SOME_ERRORS, EXIT_FATAL = 0, 1, 3


def clean_command(
    inputs: list[str] = typer.Argument(..., help="Files, directories or '-' for stdin (HTML or text)."),
    output: Path = typer.Option(Path("cleaned.jsonl"), "--output", "-o", help="Where document records go."),
    fmt: str = typer.Option("jsonl", "--format", "-f", help="Output format: jsonl or parquet."),
    glob: str = typer.Option("*", help="Which files of a directory input to read (recursively)."),
    text_field: str = typer.Option("text", help="Field holding the text in JSONL/CSV/Parquet inputs."),
    id_field: str = typer.Option("id", help="Field holding the document id in JSONL/CSV/Parquet inputs."),
    favor: str = typer.Option("balanced", help=f"Precision/recall trade-off: {', '.join(FAVOR_CHOICES)}."),
    min_source_repeats: int = typer.Option(3, min=2, help="A line in this many documents of one source is boilerplate."),
    counts: Optional[Path] = typer.Option(None, "--counts", help="Persistent repetition counts (JSON): read, updated, saved."),
    keep_title: bool = typer.Option(True, help="Keep an HTML page's headline."),
    batch_size: int = typer.Option(1000, min=1, help="Documents per batch (repetition evidence accumulates over the batches so far)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary line."),
) -> None:
    """Strip web noise line by line: HTML main content extraction, then line classification."""
    err_console = Console(stderr=True)
    try:
        options = CleanOptions(favor=favor, min_source_repeats=min_source_repeats, keep_title=keep_title)
        line_counts = SourceLineCounts.load(counts) if counts is not None and counts.exists() else SourceLineCounts()
    except (ValueError, KeyError, OSError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_FATAL) from exc
    documents = removed = failures = 0
    stream = iter(read_documents(inputs, ReadOptions(glob=glob, text_field=text_field, id_field=id_field)))
    with open_writer(output, fmt) as writer, JsonlWriter(errors_path_for(output)) as error_writer:
        while batch := list(islice(stream, batch_size)):
            docs = [item for item in batch if isinstance(item, Document)]
            errors = [item for item in batch if isinstance(item, ErrorRecord)]
            docs = clean_documents(docs, options, line_counts)
            write_documents(writer, docs)
            write_errors(error_writer, errors)
            documents += len(docs)
            failures += len(errors)
            removed += sum(1 for doc in docs for line in doc.lines if line.status == NOISE)
    if counts is not None:
        line_counts.save(counts)
    if not quiet:
        err_console.print(
            f"{documents} documents -> {output}: {removed} lines removed; "
            f"{failures} errors -> {errors_path_for(output)}"
        )
    raise typer.Exit(EXIT_SOME_ERRORS if failures else EXIT_OK)
