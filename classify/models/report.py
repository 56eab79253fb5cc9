"""Evaluation reports: metrics as JSON, per-class and confusion tables as markdown, a confusion PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def markdown_report(result: dict[str, Any], title: str) -> str:
    labels = result["labels"]
    lines = [
        f"# {title}",
        "",
        f"n = {result['n']}, accuracy = {result['accuracy']:.4f}, macro-F1 = {result['macro_f1']:.4f}",
        "",
        "| class | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for label in labels:
        c = result["per_class"][label]
        lines.append(f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
    lines += ["", "Confusion matrix (rows: gold, columns: predicted)", ""]
    lines.append("| gold \\ predicted | " + " | ".join(labels) + " |")
    lines.append("|---" * (len(labels) + 1) + "|")
    for label, row in zip(labels, result["confusion"]):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    if "cross_validation" in result:
        cv = result["cross_validation"]
        lines += [
            "",
            f"{cv['folds']}-fold cross-validation on the same data (training the model's recipe afresh): "
            f"accuracy {cv['accuracy_mean']:.4f} ± {cv['accuracy_std']:.4f}, "
            f"macro-F1 {cv['macro_f1_mean']:.4f} ± {cv['macro_f1_std']:.4f}",
        ]
    return "\n".join(lines) + "\n"


def confusion_png(result: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels, matrix = result["labels"], np.array(result["confusion"])
    size = 1.0 + 0.6 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, matrix[i, j], ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black", fontsize=8)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(result: dict[str, Any], directory: Path, title: str) -> list[Path]:
    """metrics.json, report.md and confusion.png in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "metrics.json", directory / "report.md", directory / "confusion.png"]
    paths[0].write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(markdown_report(result, title), encoding="utf-8")
    confusion_png(result, paths[2], title)
    return paths
