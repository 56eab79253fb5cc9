"""The records that flow through the pipeline: `Document`, its `Line`s, and `ErrorRecord`.

Every stage reads and annotates these; nothing else is passed between stages. A document keeps
all of its lines, whatever the cleaner decides, so the output always says what was removed and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

CONTENT = "content"
NOISE = "noise"
BLANK = "blank"

R = TypeVar("R")


def pickled_as_fields(cls: type[R]) -> type[R]:
    """Pickle a record as its constructor call with the field values in order.

    Records cross process boundaries batch after batch (joblib workers, Dask tasks); the default
    pickling of a slots dataclass goes through copyreg and a state dict per object, which made
    shipping a batch's lines back from a worker 4x slower than this.
    """
    names = tuple(f.name for f in fields(cls))

    def __reduce__(self):  # noqa: N807 - the pickle protocol's name
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__
    return cls


@pickled_as_fields
@dataclass(slots=True)
class DuplicateRef:
    """Where an earlier copy of a paragraph lives: document id, 1-based line number, Jaccard."""

    doc_id: str
    line: int
    similarity: float

    def to_record(self, line: int) -> dict[str, Any]:
        """The output record of line number `line` being this duplicate."""
        return {"line": line, "doc_id": self.doc_id, "of_line": self.line, "similarity": self.similarity}


@pickled_as_fields
@dataclass(slots=True)
class Line:
    """One line of a document's text with the cleaner's and the deduplicator's verdicts."""

    number: int  # 1-based, in the document's text (for HTML: in the extracted text)
    text: str
    status: str = CONTENT  # CONTENT | NOISE | BLANK
    reason: str | None = None  # why a line was removed (or kept against the odds)
    score: float | None = None  # content probability when a model scored the line
    duplicate_of: DuplicateRef | None = None

    @property
    def kept(self) -> bool:
        return self.status == CONTENT


@pickled_as_fields
@dataclass(slots=True)
class Prediction:
    """A classifier's answer: the best label, its probability, and the top-k alternatives."""

    label: str
    score: float
    top: list[tuple[str, float]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # sentences that drove the decision
    target: str | None = None  # stance only: the entity the stance is about

    def to_record(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score": self.score,
            "top": [{"label": label, "score": score} for label, score in self.top],
            "evidence": list(self.evidence),
            "target": self.target,
        }


@pickled_as_fields
@dataclass(slots=True)
class Document:
    """A document and everything the pipeline learned about it."""

    id: str
    text: str  # decoded input: plain text, or the HTML source when format == "html"
    source: str  # where it came from: a path, "path:line" for JSONL, "-" for stdin
    format: str = "text"  # "text" | "html"
    encoding: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)
    topic: Prediction | None = None
    stance: Prediction | None = None

    def kept_lines(self, drop_duplicates: bool = False) -> list[Line]:
        return [
            line
            for line in self.lines
            if line.kept and not (drop_duplicates and line.duplicate_of is not None)
        ]

    def clean_text(self, drop_duplicates: bool = False) -> str:
        return "\n".join(line.text for line in self.kept_lines(drop_duplicates))

    def to_record(self, drop_duplicates: bool = False) -> dict[str, Any]:
        """The output schema (documented in README.md): one flat-ish JSON-able dict per document."""
        removed = [line for line in self.lines if line.status == NOISE]
        duplicates = [line for line in self.lines if line.duplicate_of is not None]
        return {
            "id": self.id,
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "language": self.language,
            "metadata": self.metadata,
            "clean_text": self.clean_text(drop_duplicates),
            "lines_total": sum(1 for line in self.lines if line.status != BLANK),
            "lines_kept": sum(1 for line in self.lines if line.kept),
            "lines_removed": len(removed),
            "removed": [
                {"line": line.number, "text": line.text, "reason": line.reason} for line in removed
            ],
            "duplicates": [line.duplicate_of.to_record(line.number) for line in duplicates],
            "near_duplicates": self.near_duplicates,
            "topic": self.topic.to_record() if self.topic else None,
            "stance": self.stance.to_record() if self.stance else None,
        }


@dataclass(slots=True)
class ErrorRecord:
    """A document (or an input) that could not be processed, and why. Nothing is dropped silently."""

    source: str  # path, or path:line for a record inside a JSONL/CSV file
    reason: str
    stage: str = "read"  # read | clean | dedup | classify | write
    id: str | None = None

    def to_record(self) -> dict[str, Any]:
        return asdict(self)
