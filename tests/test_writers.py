"""Writers: atomic outputs in JSONL and Parquet with the documented schema."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from classify.document import BLANK, NOISE, Document, DuplicateRef, ErrorRecord, Line, Prediction
from classify.writers import EncodedRecord, JsonlWriter, errors_path_for, open_writer, write_errors


def sample_document() -> Document:
    doc = Document(id="d1", text="A\n\nB\nA", source="in.txt", metadata={"date": "2018-02", "source": "x"})
    doc.lines = [
        Line(1, "Первый абзац статьи."),
        Line(2, "", status=BLANK),
        Line(3, "Фото: агентство", status=NOISE, reason="photo/source credit"),
        Line(4, "Первый абзац статьи.", duplicate_of=DuplicateRef("d1", 1, 1.0)),
    ]
    doc.topic = Prediction("politics", 0.7, top=[("politics", 0.7), ("economy", 0.2)])
    doc.stance = Prediction("neutral", 0.5, top=[("neutral", 0.5)], evidence=["Первый абзац статьи."], target="ОДКБ")
    return doc


def test_record_schema_and_duplicate_policy():
    record = sample_document().to_record()
    assert record["clean_text"] == "Первый абзац статьи.\nПервый абзац статьи."
    assert (record["lines_total"], record["lines_kept"], record["lines_removed"]) == (3, 2, 1)
    assert record["removed"] == [{"line": 3, "text": "Фото: агентство", "reason": "photo/source credit"}]
    assert record["duplicates"] == [{"line": 4, "doc_id": "d1", "of_line": 1, "similarity": 1.0}]
    assert record["topic"]["top"][1] == {"label": "economy", "score": 0.2}
    assert sample_document().to_record(drop_duplicates=True)["clean_text"] == "Первый абзац статьи."


def test_encoded_record_is_the_record_json_with_dedup_fields_filled_in_later():
    doc = sample_document()
    doc.near_duplicates = [{"doc_id": "d0", "jaccard": 0.9}]
    assert EncodedRecord.of(doc).to_json() == json.dumps(doc.to_record(), ensure_ascii=False)
    # A worker encodes the record before dedup; the run's process appends the flags it finds.
    flags, line = doc.lines[3].duplicate_of, doc.lines[3].number
    doc.lines[3].duplicate_of, doc.near_duplicates = None, []
    record = EncodedRecord.of(doc)
    record.duplicates.append(flags.to_record(line))
    record.near_duplicates.append({"doc_id": "d0", "jaccard": 0.9})
    doc.lines[3].duplicate_of, doc.near_duplicates = flags, [{"doc_id": "d0", "jaccard": 0.9}]
    assert record.to_json() == json.dumps(doc.to_record(), ensure_ascii=False)
    assert record.to_dict() == doc.to_record()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_writers_round_trip(tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    with open_writer(path, fmt) as writer:
        writer.write([EncodedRecord.of(sample_document()), EncodedRecord.of(sample_document())])
    if fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert rows[0]["metadata"] == {"date": "2018-02", "source": "x"}
    else:
        rows = pq.read_table(path).to_pylist()
        assert json.loads(rows[0]["metadata"]) == {"date": "2018-02", "source": "x"}
    assert len(rows) == 2
    assert rows[0]["stance"]["target"] == "ОДКБ"
    assert rows[0]["duplicates"][0]["of_line"] == 1
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_failed_write_leaves_previous_output_untouched(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("previous run\n")
    with pytest.raises(RuntimeError):
        with JsonlWriter(path) as writer:
            writer.write([EncodedRecord.of(sample_document())])
            raise RuntimeError("crash in the middle of a run")
    assert path.read_text() == "previous run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_error_records(tmp_path):
    path = errors_path_for(tmp_path / "run.parquet")
    assert path.name == "run.errors.jsonl"
    with JsonlWriter(path) as writer:
        write_errors(writer, [ErrorRecord("a.jsonl:3", "malformed JSON line: ...", id=None)])
    assert json.loads(path.read_text()) == {"source": "a.jsonl:3", "reason": "malformed JSON line: ...", "stage": "read", "id": None}


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="format"):
        open_writer(tmp_path / "x", "xml")


def test_a_failed_text_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    from classify.writers import write_text_atomically

    target = tmp_path / "results.json"
    write_text_atomically(target, '{"old": true}\n')
    with pytest.raises(TypeError):
        write_text_atomically(target, None)  # type: ignore[arg-type]  # fails after the temporary was made
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
