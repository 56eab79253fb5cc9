"""Labelled examples from the user's files (JSONL, CSV, Parquet) via `classify.readers`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from classify.clean import clean_document
from classify.document import ErrorRecord
from classify.models.labelsets import LabelledExamples
from classify.readers import ReadOptions, read_documents


@dataclass
class LabelledRead:
    """What reading labelled files gave: the examples, and every record that was skipped and why."""

    examples: LabelledExamples
    skipped: list[ErrorRecord] = field(default_factory=list)


def read_labelled(
    paths: list[Path], text_field: str, label_field: str, target_field: str | None = None
) -> LabelledRead:
    """Examples with a text, a non-empty label and (if `target_field`) a target; HTML is cleaned first."""
    texts, labels, targets, skipped = [], [], [], []
    for item in read_documents(paths, ReadOptions(text_field=text_field)):
        if isinstance(item, ErrorRecord):
            skipped.append(item)
            continue
        label = item.metadata.get(label_field)
        if label is None or str(label).strip() == "":
            skipped.append(ErrorRecord(item.source, f"no {label_field!r} label", "read", item.id))
            continue
        target = item.metadata.get(target_field) if target_field else None
        if target_field and (target is None or str(target).strip() == ""):
            skipped.append(ErrorRecord(item.source, f"no {target_field!r} target", "read", item.id))
            continue
        text = clean_document(item).clean_text() if item.format == "html" else item.text
        texts.append(text)
        labels.append(str(label).strip())
        targets.append(str(target).strip() if target_field else None)
    return LabelledRead(LabelledExamples(texts, labels, list(labels), targets if target_field else []), skipped)
