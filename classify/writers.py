"""Stage 5: write document records (JSONL or Parquet) and error records (JSONL), atomically.

Each writer streams into a temporary file beside its destination and renames it into place on
`close()`, so a reader never sees a half-written output and an interrupted run leaves the previous
output untouched. Used as a context manager: an exception inside the block discards the temporary.

Writers take `EncodedRecord`s: a document's record JSON-encoded where the document was processed
(a worker process, usually), but for its dedup fields, which the run's process fills in.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from classify.document import Document, ErrorRecord

FORMATS = ("jsonl", "parquet")


DEDUP_FIELDS = ("duplicates", "near_duplicates")


@dataclass(slots=True)
class EncodedRecord:
    """A document's output record (`Document.to_record`) as JSON, with its dedup fields apart.

    A worker encodes the record once its document is cleaned and classified; only the matching
    against the corpus-wide dedup index is left, in the run's process, which appends to
    `duplicates` and `near_duplicates`. So the run's process receives text and writes it, rather
    than rebuilding every document's lines from a pickle and encoding them itself.
    `head` is the JSON object up to the dedup fields (its closing brace left off), `tail` the rest
    (its opening brace left off); `to_json()` is exactly `json.dumps` of the whole record.
    """

    id: str
    source: str
    head: str
    tail: str
    lines_removed: int
    duplicates: list[dict[str, Any]]
    near_duplicates: list[dict[str, Any]]

    @classmethod
    def of(cls, doc: Document, drop_duplicates: bool = False) -> EncodedRecord:
        record = doc.to_record(drop_duplicates)
        names = list(record)
        first, last = names.index(DEDUP_FIELDS[0]), names.index(DEDUP_FIELDS[-1])
        head = {name: record[name] for name in names[:first]}
        tail = {name: record[name] for name in names[last + 1 :]}
        return cls(
            doc.id,
            doc.source,
            json.dumps(head, ensure_ascii=False)[:-1],
            json.dumps(tail, ensure_ascii=False)[1:],
            record["lines_removed"],
            *(record[name] for name in DEDUP_FIELDS),
        )

    def to_json(self) -> str:
        dedup = ", ".join(f'"{name}": {json.dumps(getattr(self, name), ensure_ascii=False)}' for name in DEDUP_FIELDS)
        return f"{self.head}, {dedup}, {self.tail}"

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())


class AtomicFile:
    """A temporary file in the destination's directory, renamed over the destination on commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        self.tmp = Path(tmp)

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write a whole text file so that readers see the old file or the new one, never a part."""
    out = AtomicFile(path)
    try:
        out.tmp.write_text(text, encoding="utf-8")
    except BaseException:
        out.discard()
        raise
    out.commit()


class _RecordWriter:
    """Context-manager protocol of the writers: commit on success, discard the temporary on error."""

    def close(self, commit: bool = True) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(commit=exc_type is None)


class JsonlWriter(_RecordWriter):
    """One JSON object per line. Path "-" writes to standard output (not atomic, by nature)."""

    def __init__(self, path: Path | str) -> None:
        self.count = 0
        if str(path) == "-":
            self._atomic, self._stream = None, sys.stdout
        else:
            self._atomic = AtomicFile(Path(path))
            self._stream: TextIO = open(self._atomic.tmp, "w", encoding="utf-8")

    def write(self, records: list[EncodedRecord] | list[dict[str, Any]]) -> None:
        """Documents' `EncodedRecord`s, or plain dicts (error records)."""
        self._stream.writelines(
            (r.to_json() if isinstance(r, EncodedRecord) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records
        )
        self.count += len(records)

    def close(self, commit: bool = True) -> None:
        if self._atomic is None:
            self._stream.flush()
            return
        self._stream.close()
        self._atomic.commit() if commit else self._atomic.discard()


def _parquet_schema():
    import pyarrow as pa

    prediction = pa.struct(
        [
            ("label", pa.string()),
            ("score", pa.float64()),
            ("top", pa.list_(pa.struct([("label", pa.string()), ("score", pa.float64())]))),
            ("evidence", pa.list_(pa.string())),
            ("target", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("source", pa.string()),
            ("format", pa.string()),
            ("encoding", pa.string()),
            ("language", pa.string()),
            ("metadata", pa.string()),  # JSON text: its keys differ from input to input
            ("clean_text", pa.string()),
            ("lines_total", pa.int64()),
            ("lines_kept", pa.int64()),
            ("lines_removed", pa.int64()),
            (
                "removed",
                pa.list_(pa.struct([("line", pa.int64()), ("text", pa.string()), ("reason", pa.string())])),
            ),
            (
                "duplicates",
                pa.list_(
                    pa.struct(
                        [("line", pa.int64()), ("doc_id", pa.string()), ("of_line", pa.int64()), ("similarity", pa.float64())]
                    )
                ),
            ),
            ("near_duplicates", pa.list_(pa.struct([("doc_id", pa.string()), ("jaccard", pa.float64())]))),
            ("topic", prediction),
            ("stance", prediction),
        ]
    )


class ParquetWriter(_RecordWriter):
    """Columnar output with a fixed schema (see README), one row group per written batch."""

    def __init__(self, path: Path | str) -> None:
        import pyarrow.parquet as pq

        if str(path) == "-":
            raise ValueError("Parquet output needs a file path, not standard output")
        self.count = 0
        self._schema = _parquet_schema()
        self._atomic = AtomicFile(Path(path))
        self._writer = pq.ParquetWriter(self._atomic.tmp, self._schema)

    def write(self, records: list[EncodedRecord]) -> None:
        import pyarrow as pa

        if not records:
            return
        rows = [{**r, "metadata": json.dumps(r["metadata"], ensure_ascii=False)} for r in map(EncodedRecord.to_dict, records)]
        self.write_table(pa.Table.from_pylist(rows, schema=self._schema))

    def write_table(self, table) -> None:
        """Append rows already in this schema (e.g. a row group of another output of ours)."""
        self._writer.write_table(table)
        self.count += table.num_rows

    def close(self, commit: bool = True) -> None:
        self._writer.close()
        self._atomic.commit() if commit else self._atomic.discard()


def open_writer(path: Path | str, fmt: str = "jsonl") -> JsonlWriter | ParquetWriter:
    """A writer for document records in `fmt` ("jsonl" or "parquet")."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return JsonlWriter(path) if fmt == "jsonl" else ParquetWriter(path)


def errors_path_for(output: Path | str) -> Path:
    """Where error records go: beside the output, `NAME.errors.jsonl` (or ./errors.jsonl for stdout)."""
    if str(output) == "-":
        return Path("errors.jsonl")
    output = Path(output)
    return output.with_name(output.name.split(".")[0] + ".errors.jsonl")


def write_errors(writer: JsonlWriter, errors: list[ErrorRecord]) -> None:
    writer.write([error.to_record() for error in errors])
