"""The command line through typer's test runner: defaults, formats, exit codes."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from classify.cli import EXIT_FATAL, EXIT_OK, EXIT_SOME_ERRORS, EXIT_USAGE, app

runner = CliRunner()


def test_run_without_inputs_processes_the_seeds(tmp_path):
    out = tmp_path / "seeds.jsonl"
    result = runner.invoke(app, ["run", "--output", str(out)])
    assert result.exit_code == EXIT_OK, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in records) == [
        "000_ca1db0a250583544", "001_2ce0a0b5deedd5b2", "002_fb79e7f0bc89d135", "003_2307d7ecff4f133b"
    ]
    assert "003_2307d7ecff4f133b" in result.stdout  # the per-document summary table
    assert "4 documents" in result.output


def test_parquet_output_and_errors_exit_code(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Сенат одобрил закон о бюджете в первом чтении после долгих дебатов."}) + "\n{oops\n")
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["run", str(src), "-o", str(out), "--format", "parquet", "--quiet"])
    assert result.exit_code == EXIT_SOME_ERRORS, result.output
    assert pq.read_table(out).column("id").to_pylist() == ["a"]
    error = json.loads((tmp_path / "out.errors.jsonl").read_text())
    assert error["source"] == f"{src}:2"


def test_usage_errors(tmp_path):
    assert runner.invoke(app, ["run", "--format", "xml"]).exit_code == EXIT_USAGE
    assert runner.invoke(app, ["run", "--favor", "everything"]).exit_code == EXIT_USAGE
    assert runner.invoke(app, ["nonsense"]).exit_code == EXIT_USAGE
    # A value the options refuse is a usage error too, found before anything is written
    # (--jobs 0 used to fail in joblib with exit 3, after the run had opened its output).
    result = runner.invoke(app, ["run", "--jobs", "0", "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == EXIT_USAGE and "jobs must be at least 1" in result.output
    assert list(tmp_path.iterdir()) == []


def test_help_everywhere():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run",):
        assert runner.invoke(app, [command, "--help"]).exit_code == 0


def test_dask_engine_from_the_command_line_matches_local(tmp_path):
    local, dask = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    assert runner.invoke(app, ["run", "-o", str(local), "-q"]).exit_code == EXIT_OK
    result = runner.invoke(app, ["run", "-o", str(dask), "-q", "--engine", "dask", "--workers", "2"])
    assert result.exit_code == EXIT_OK, result.output
    assert dask.read_bytes() == local.read_bytes()
    assert runner.invoke(app, ["run", "-o", str(dask), "--engine", "dask", "--resume"]).exit_code == EXIT_USAGE


def test_command_line_defaults_are_the_options_defaults():
    """A flag left out means the library's default: every option of a pipeline command that names a
    field of the options dataclasses defaults to that field's default (not, say, a sibling field's)."""
    from dataclasses import fields

    import typer.main

    from classify.clean import CleanOptions
    from classify.dedup import DedupOptions
    from classify.pipeline import RunOptions
    from classify.readers import ReadOptions

    defaults = {}
    for options in (ReadOptions(), CleanOptions(), DedupOptions(), RunOptions()):
        defaults.update({f.name: getattr(options, f.name) for f in fields(options) if isinstance(getattr(options, f.name), (int, float, str))})
    checked = set()
    for name in ("run", "clean", "dedup"):  # the pipeline's commands (train's --seed is another seed)
        for param in typer.main.get_command(app).commands[name].params:
            if param.name in defaults:
                default = param.default.value if hasattr(param.default, "value") else param.default
                assert default == defaults[param.name], f"{name} --{param.name}"
                checked.add(param.name)
    assert {"document_threshold", "threshold", "max_bytes", "favor", "batch_size"} <= checked


def test_an_unexpected_failure_exits_as_fatal(tmp_path, monkeypatch):
    """Exit code 1 means "finished, some documents in errors": a crash must not look like that."""
    import classify.cli

    def explode(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(classify.cli, "run_pipeline", explode)
    result = runner.invoke(app, ["run", "-o", str(tmp_path / "out.jsonl"), "--quiet"])
    assert result.exit_code == EXIT_FATAL
    assert "internal error: RuntimeError: a bug" in result.output


@pytest.mark.parametrize("engine", [[], ["--engine", "dask"]])
def test_an_output_that_is_a_directory_fails_before_the_run(tmp_path, engine):
    """It used to fail only at the end, renaming the finished output onto the directory, after the
    whole run's work, and left the run's work directory behind."""
    (tmp_path / "out").mkdir()
    result = runner.invoke(app, ["run", "-o", str(tmp_path / "out"), "--quiet", *engine])
    assert result.exit_code == EXIT_FATAL
    assert "is a directory" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
