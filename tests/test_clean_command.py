"""`classify clean` as a command: records with clean text and reasons, errors, persistent counts."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from classify.clean.command import clean_command

ROOT = Path(__file__).resolve().parents[1]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(clean_command)
    return app


def test_clean_command_writes_records_with_reasons(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(_app(), [str(ROOT / "seeds"), "--glob", "0*.txt", "-o", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4
    for record in records:
        assert record["clean_text"]
        assert all(item["reason"] for item in record["removed"])


def test_clean_command_updates_persistent_counts(tmp_path: Path) -> None:
    signature = "Our journalists work every day so that you can read independent news from the region."
    body = "The council approved the new budget on Tuesday after a long debate about schools and roads."
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        (inputs / f"{i}.txt").write_text(f"{body} Story {i}.\n{signature}\n", encoding="utf-8")
    counts = tmp_path / "counts.json"
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(_app(), [str(inputs), "-o", str(out), "--counts", str(counts), "-q"])
    assert result.exit_code == 0, result.output
    assert counts.exists()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(any("repeated" in item["reason"] for item in r["removed"]) for r in records)


def test_clean_command_refuses_unknown_favor(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), [str(ROOT / "seeds"), "-o", str(tmp_path / "o.jsonl"), "--favor", "speed"])
    assert result.exit_code == 3
