"""`classify train` and `classify evaluate`: plain typer-style functions the CLI registers."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from classify.models.data import read_labelled
from classify.models.model import ModelError, TextModel
from classify.models.report import markdown_report, write_report
from classify.models.training import cross_validate, evaluate, train


def _read(data, text_field, label_field, target_field):
    read = read_labelled(data, text_field, label_field, target_field)
    for error in read.skipped[:5]:
        typer.echo(f"skipped {error.source}: {error.reason}", err=True)
    if len(read.skipped) > 5:
        typer.echo(f"... {len(read.skipped)} records skipped in all", err=True)
    if not read.examples.texts:
        typer.echo("error: no labelled examples read", err=True)
        raise typer.Exit(2)
    return read


def train_command(
    task: str = typer.Option(..., "--task", help="topic or stance"),
    data: list[Path] = typer.Option(..., "--data", help="JSONL/CSV/Parquet file or directory (repeatable)"),
    out: Path = typer.Option(..., "--out", help="model directory to write, e.g. models/mine"),
    text_field: str = typer.Option("text", "--text-field"),
    label_field: str = typer.Option("label", "--label-field"),
    target_field: Optional[str] = typer.Option(None, "--target-field", help="stance: field naming the target"),
    seed: int = typer.Option(0, "--seed"),
    c: float = typer.Option(1.0, "--C", help="inverse regularisation strength of the linear SVM"),
    cv: int = typer.Option(0, "--cv", help="also report k-fold cross-validation (k >= 2)"),
    article_min_chars: Optional[int] = typer.Option(
        None, "--article-min-chars", min=1,
        help="one expert for texts of at least this many characters and one for shorter ones "
        "(data mixing sentences or headlines with articles; the shipped topic model uses 400)",
    ),
) -> None:
    """Train a topic or stance model on labelled records and write it (model.json + model.npz)."""
    if task not in ("topic", "stance"):
        typer.echo(f"error: --task must be topic or stance, not {task!r}", err=True)
        raise typer.Exit(2)
    read = _read(data, text_field, label_field, target_field)
    ex = read.examples
    command = " ".join(
        ["classify train", f"--task {task}", *(f"--data {p}" for p in data), f"--text-field {text_field}",
         f"--label-field {label_field}", *([f"--target-field {target_field}"] if target_field else []),
         f"--seed {seed}", f"--C {c}",
         *([f"--article-min-chars {article_min_chars}"] if article_min_chars else []), f"--out {out}"]
    )
    info = {"command": command, "seed": seed, "training_data": [str(p) for p in data]}
    try:
        model = train(
            ex.texts, ex.labels, task, ex.targets or None, C=c, seed=seed, article_min_chars=article_min_chars, info=info
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if cv:
        model.info["cross_validation"] = cross_validate(
            ex.texts, ex.labels, task, ex.targets or None, cv, seed, C=c, article_min_chars=article_min_chars
        )
    model.save(out)
    typer.echo(f"trained a {task} model on {len(ex.texts)} examples ({len(model.labels)} labels) -> {out}")
    if cv:
        r = model.info["cross_validation"]
        typer.echo(f"{cv}-fold CV macro-F1 {r['macro_f1_mean']:.4f} ± {r['macro_f1_std']:.4f}")


def evaluate_command(
    model: Path = typer.Option(..., "--model", help="model directory (model.json + model.npz)"),
    data: list[Path] = typer.Option(..., "--data", help="JSONL/CSV/Parquet file or directory (repeatable)"),
    text_field: str = typer.Option("text", "--text-field"),
    label_field: str = typer.Option("label", "--label-field"),
    target_field: Optional[str] = typer.Option(None, "--target-field"),
    report: Optional[Path] = typer.Option(None, "--report", help="directory for metrics.json, report.md, confusion.png"),
    cv: int = typer.Option(0, "--cv", help="also k-fold cross-validate the model's recipe on this data"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Accuracy, macro-F1, per-class P/R/F1 and the confusion matrix of a model on labelled records."""
    try:
        loaded = TextModel.load(model)
    except ModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    ex = _read(data, text_field, label_field, target_field).examples
    result = evaluate(loaded, ex.texts, ex.labels, ex.targets or None)
    if cv:
        result["cross_validation"] = cross_validate(
            ex.texts, ex.labels, loaded.task, ex.targets or None, cv, seed, C=loaded.classifier.C
        )
    title = f"{model} on {', '.join(str(p) for p in data)}"
    typer.echo(markdown_report(result, title))
    if report:
        for path in write_report(result, report, title):
            typer.echo(f"wrote {path}")
