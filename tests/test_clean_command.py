"""`classify clean` as a command (records with clean text and reasons), and repetition evidence that
persists over batches through `SourceLineCounts`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from classify.clean import CleanOptions, clean_documents
from classify.clean.repetition import SourceLineCounts, line_key
from classify.cli import EXIT_OK, EXIT_USAGE, app
from classify.document import Document

ROOT = Path(__file__).resolve().parents[1]


def test_clean_command_writes_records_with_reasons(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["clean", str(ROOT / "seeds"), "--glob", "0*.txt", "-o", str(out)])
    assert result.exit_code == EXIT_OK, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4
    for record in records:
        assert record["clean_text"]
        assert all(item["reason"] for item in record["removed"])
        assert record["topic"] is None and record["duplicates"] == []  # later stages did not run


def test_repetition_counts_persist_over_batches(tmp_path: Path) -> None:
    signature = "Our journalists work every day so that you can read independent news from the region."
    bodies = [
        "The council approved the new budget on Tuesday after a long debate about schools and roads.",
        "Farmers in the valley expect a record harvest this autumn thanks to a mild and rainy summer.",
        "The city museum reopened its doors after two years of renovation with a new modern art wing.",
    ]
    counts = SourceLineCounts()
    docs = []
    for i, body in enumerate(bodies):  # one document per batch: only the persistent counts see the repetition
        doc = Document(id=str(i), text=f"{body}\n{signature}", source=f"in/{i}.txt", metadata={"source": "site"})
        docs += clean_documents([doc], CleanOptions(), counts)
    path = tmp_path / "counts.npz"
    counts.save(path)
    assert SourceLineCounts.load(path).count("site", line_key(signature)) == 3
    assert [line.status for line in docs[-1].lines] == ["content", "noise"]
    assert "repeated" in docs[-1].lines[1].reason
    assert all(doc.lines[0].kept for doc in docs)


def test_clean_command_refuses_unknown_favor(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["clean", str(ROOT / "seeds"), "-o", str(tmp_path / "o.jsonl"), "--favor", "speed"])
    assert result.exit_code == EXIT_USAGE
