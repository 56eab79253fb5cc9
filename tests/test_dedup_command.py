"""`classify dedup` end to end: output records, the persistent index across runs, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from classify.cli import app

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def invoke(*args: str):
    return CliRunner().invoke(app, ["dedup", *args])


def records(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_a_second_run_against_the_index_finds_the_first(tmp_path: Path) -> None:
    index = tmp_path / "index.npz"
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    common = ["--glob", "*.txt", "--index", str(index), "--no-clean", "-q"]
    result = invoke(str(SEEDS), "-o", str(first), *common)
    assert result.exit_code == 0, result.output
    seed_003 = next(doc_id for doc_id in records(first) if "003_" in doc_id)
    assert records(first)[seed_003]["duplicates"] == [{"line": 103, "doc_id": seed_003, "of_line": 4, "similarity": 1.0}]

    result = invoke(str(SEEDS), "-o", str(second), *common)
    assert result.exit_code == 0, result.output
    for doc_id, record in records(second).items():
        assert record["near_duplicates"] == [{"doc_id": doc_id, "jaccard": 1.0}]
        assert record["duplicates"] and all(d["doc_id"] == doc_id and d["similarity"] == 1.0 for d in record["duplicates"])


def test_an_index_built_with_other_options_is_a_fatal_error(tmp_path: Path) -> None:
    index = tmp_path / "index.npz"
    out = str(tmp_path / "out.jsonl")
    assert invoke(str(SEEDS), "--glob", "*.txt", "--index", str(index), "--no-clean", "-q", "-o", out).exit_code == 0
    result = invoke(str(SEEDS), "--glob", "*.txt", "--index", str(index), "--shingle-size", "3", "-q", "-o", out)
    assert result.exit_code == 3
    assert "shingle_size=5" in result.output
