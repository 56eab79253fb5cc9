"""`classify dedup`: flag duplicated paragraphs and near-duplicate documents, nothing else.

A plain typer-style function; the CLI registers it with ``app.command("dedup")(dedup_command)``.
Exit codes follow `classify.cli`: 0 all documents processed, 1 some documents in the errors file,
3 fatal (e.g. an index of another version or built with other options).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from classify.clean import clean_documents, split_lines
from classify.dedup.options import DedupOptions
from classify.dedup.stage import Deduplicator
from classify.dedup.storage import IndexFormatError
from classify.document import BLANK, Document, ErrorRecord
from classify.readers import ReadOptions, read_documents
from classify.writers import JsonlWriter, errors_path_for, open_writer, write_documents, write_errors

EXIT_OK, EXIT_SOME_ERRORS, EXIT_FATAL = 0, 1, 3


def _lines_as_paragraphs(docs: list[Document]) -> list[Document]:
    """Without cleaning, every non-blank line is a paragraph."""
    for doc in docs:
        if not doc.lines:
            doc.lines = split_lines(doc)
        for line in doc.lines:
            if not line.text.strip():
                line.status = BLANK
    return docs


def dedup_command(
    inputs: list[str] = typer.Argument(..., help="Files, directories or '-' for stdin."),
    output: Path = typer.Option(Path("deduplicated.jsonl"), "--output", "-o", help="Where document records go."),
    fmt: str = typer.Option("jsonl", "--format", "-f", help="Output format: jsonl or parquet."),
    glob: str = typer.Option("*", help="Which files of a directory input to read (recursively)."),
    text_field: str = typer.Option("text", help="Field holding the text in JSONL/CSV/Parquet inputs."),
    id_field: str = typer.Option("id", help="Field holding the document id in JSONL/CSV/Parquet inputs."),
    threshold: float = typer.Option(0.8, min=0.1, max=1.0, help="Jaccard from which paragraphs are duplicates."),
    document_threshold: float = typer.Option(0.8, min=0.1, max=1.0, help="Jaccard from which documents are near-duplicates."),
    shingle_size: int = typer.Option(5, min=1, help="Words per shingle."),
    num_perm: int = typer.Option(128, min=8, help="MinHash permutations."),
    min_chars: int = typer.Option(30, min=5, help="Paragraphs shorter than this (normalised) are not compared."),
    index: Optional[Path] = typer.Option(None, "--index", help="Persistent index: check against earlier runs and add this one."),
    drop_duplicates: bool = typer.Option(False, help="Leave flagged duplicate paragraphs out of clean_text."),
    clean: bool = typer.Option(True, help="Strip web noise first (else every non-blank line is a paragraph)."),
    batch_size: int = typer.Option(1000, min=1, help="Documents per batch."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary line."),
) -> None:
    """Flag duplicated paragraphs (within a document and across the corpus) and near-duplicate documents."""
    err_console = Console(stderr=True)
    try:
        dedup = Deduplicator(
            DedupOptions(
                threshold=threshold,
                document_threshold=document_threshold,
                shingle_size=shingle_size,
                num_perm=num_perm,
                min_chars=min_chars,
            ),
            index_path=index,
        )
    except (IndexFormatError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_FATAL) from exc
    documents = duplicates = near_duplicates = failures = 0
    stream = iter(read_documents(inputs, ReadOptions(glob=glob, text_field=text_field, id_field=id_field)))
    with open_writer(output, fmt) as writer, JsonlWriter(errors_path_for(output)) as error_writer:
        while batch := list(islice(stream, batch_size)):
            docs = [item for item in batch if isinstance(item, Document)]
            errors = [item for item in batch if isinstance(item, ErrorRecord)]
            docs = dedup.process(clean_documents(docs) if clean else _lines_as_paragraphs(docs))
            write_documents(writer, docs, drop_duplicates)
            write_errors(error_writer, errors)
            documents += len(docs)
            failures += len(errors)
            duplicates += sum(1 for doc in docs for line in doc.lines if line.duplicate_of is not None)
            near_duplicates += sum(1 for doc in docs if doc.near_duplicates)
    if index is not None:
        dedup.save()
    if not quiet:
        err_console.print(
            f"{documents} documents -> {output}: {duplicates} duplicate paragraphs, "
            f"{near_duplicates} near-duplicate documents; {failures} errors -> {errors_path_for(output)}"
            + (f"; index {index} ({len(dedup.paragraphs)} paragraphs)" if index is not None else "")
        )
    raise typer.Exit(EXIT_SOME_ERRORS if failures else EXIT_OK)
