"""The whole pipeline on the seeds against their line-level gold, and the no-loss invariant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classify.pipeline import RunOptions, run
from classify.readers import ReadOptions

from conftest import SEEDS


def gold_lines(spec) -> set[int]:
    if isinstance(spec, str):
        low, high = map(int, spec.split("-"))
        return set(range(low, high + 1))
    return set(spec)


@pytest.fixture(scope="module")
def seed_records(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("run") / "seeds.jsonl"
    summary = run([SEEDS], out, out.with_name("seeds.errors.jsonl"), RunOptions(read=ReadOptions(glob="*.txt")))
    assert (summary.documents, summary.errors) == (4, 0)
    return {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def test_seeds_noise_removed_content_kept(seed_records, seeds_gold):
    for name, gold in seeds_gold.items():
        record = seed_records[Path(name).stem]
        removed = {r["line"] for r in record["removed"]}
        content = gold_lines(gold["content"]) | {int(k) for k in gold["duplicate"]}
        assert gold_lines(gold["noise"]) <= removed, name
        assert not (content & removed), name
        assert record["lines_kept"] == len(content), name
        assert record["language"] == gold["lang"], name
        assert all(r["reason"] for r in record["removed"])


def test_seeds_duplicates_flagged(seed_records, seeds_gold):
    for name, gold in seeds_gold.items():
        record = seed_records[Path(name).stem]
        expected = {int(line): (Path(name).stem, of) for line, of in gold["duplicate"].items()}
        found = {d["line"]: (d["doc_id"], d["of_line"]) for d in record["duplicates"]}
        assert found == expected, name


def test_metadata_prefix_is_metadata(seed_records, seeds_gold):
    for name, gold in seeds_gold.items():
        if prefix := gold.get("metadata_prefix"):
            record = seed_records[Path(name).stem]
            key, value = prefix["text"].split(" ", 1)
            assert record["metadata"][key] == value
            assert not record["clean_text"].startswith(prefix["text"])
            assert prefix["text"] not in record["clean_text"]


def test_every_seed_gets_topic_and_stance(seed_records):
    for record in seed_records.values():
        assert record["topic"]["label"] and 0 < record["topic"]["score"] <= 1
        assert record["stance"]["label"] in {"negative", "neutral", "positive"}


def test_inputs_equal_outputs_plus_errors(tmp_path):
    """Whatever mix of good and bad inputs, each document lands in exactly one of the two files."""
    good = "Президент провёл встречу с министрами. Обсуждались вопросы экономики и безопасности региона."
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(good, encoding="utf-8")
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "in" / "b.txt").write_bytes(good.encode("cp1251"))
    wire = "Агентство сообщает, что переговоры министров завершились подписанием соглашения о торговле и транзите."
    leads = ["Депутаты утвердили поправки к закону о связи.", "В столице открылась выставка современного искусства.",
             "Сборная выиграла отборочный матч чемпионата.", "Учёные представили новый метод очистки воды.",
             "Цены на бензин выросли третью неделю подряд."]
    # The same wire paragraph in five outlets (sources), each under its own lead.
    lines = [json.dumps({"id": f"j{i}", "source": f"outlet{i}", "text": f"{lead}\n{wire}"}, ensure_ascii=False)
             for i, lead in enumerate(leads)]
    lines.insert(2, "{broken json")
    lines.append(json.dumps({"id": "no-text"}))
    (tmp_path / "in" / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected_inputs = 4 + 7

    out = tmp_path / "out.jsonl"
    errors = tmp_path / "out.errors.jsonl"
    summary = run([tmp_path / "in"], out, errors, RunOptions(batch_size=3))
    outputs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    error_rows = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert len(outputs) + len(error_rows) == expected_inputs
    assert (summary.documents, summary.errors) == (len(outputs), len(error_rows)) == (7, 4)
    assert {e["source"] for e in error_rows} == {
        str(tmp_path / "in" / "binary.txt"),
        str(tmp_path / "in" / "empty.txt"),
        f"{tmp_path / 'in' / 'c.jsonl'}:3",
        f"{tmp_path / 'in' / 'c.jsonl'}:7",
    }
    # a.txt and b.txt are the same text (two encodings): b is flagged. The wire paragraph is
    # flagged in every outlet but the first, pointing at the first one's line 2.
    by_id = {r["id"]: r for r in outputs}
    assert by_id["b"]["duplicates"] and not by_id["a"]["duplicates"]
    for i in range(1, 5):
        assert by_id[f"j{i}"]["duplicates"] == [{"line": 2, "doc_id": "j0", "of_line": 2, "similarity": 1.0}]
    assert not by_id["j0"]["duplicates"]


def test_a_stage_failure_becomes_an_error_record(tmp_path, monkeypatch):
    import classify.pipeline as pipeline

    real = pipeline.classify_documents

    def flaky(docs, *args, **kwargs):
        if any(d.id == "bad" for d in docs):
            raise RuntimeError("model exploded")
        return real(docs, *args, **kwargs)

    monkeypatch.setattr(pipeline, "classify_documents", flaky)
    path = tmp_path / "in.jsonl"
    text = "Правительство утвердило новый бюджет на следующий год после долгих обсуждений."
    path.write_text("\n".join(json.dumps({"id": i, "text": text + i}) for i in ("ok1", "bad", "ok2")) + "\n")
    out, errors = tmp_path / "o.jsonl", tmp_path / "o.errors.jsonl"
    summary = run([path], out, errors, RunOptions())
    assert [json.loads(l)["id"] for l in out.read_text().splitlines()] == ["ok1", "ok2"]
    [error] = [json.loads(l) for l in errors.read_text().splitlines()]
    assert error["id"] == "bad" and error["stage"] == "classify" and "model exploded" in error["reason"]
    assert (summary.documents, summary.errors) == (2, 1)
