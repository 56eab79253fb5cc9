"""The whole pipeline on the seeds against their line-level gold, and the no-loss invariant."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest

from classify.clean import CleanOptions
from classify.document import NOISE, Document, DuplicateRef, ErrorRecord, Line, Prediction
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


def test_a_run_never_reads_what_it_writes(tmp_path):
    """Output, errors file, work directory and persistent index inside the input directory: a
    directory input skips them (they appear while the run reads the directory, and a second run
    would read the first's output back), and an input file the run would overwrite is refused."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in (("a.txt", "Депутаты утвердили поправки к закону о связи."), ("b.txt", "Учёные представили новый метод очистки воды.")):
        (corpus / name).write_text(text, encoding="utf-8")
    out, errors, index = corpus / "out.jsonl", corpus / "out.errors.jsonl", corpus / "dedup.index"
    options = RunOptions(index_path=index, batch_size=1, checkpoint_every=1)
    first = run([corpus], out, errors, options)
    first_output = out.read_bytes()
    assert (first.documents, first.errors) == (2, 0)
    assert index.exists() and Path(f"{index}.lines.npz").exists()
    second = run([corpus], out, errors, options)
    assert (second.documents, second.errors) == (2, 0) and errors.read_text() == ""
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "b"]
    assert [json.loads(line)["id"] for line in first_output.decode().splitlines()] == ["a", "b"]
    with pytest.raises(ValueError, match="also written by this run"):
        run([corpus / "a.txt", out], out, errors, RunOptions())


def _failing_for(real, stage_input):
    """`real`, raising for a batch that holds the document with id "bad"."""

    def flaky(*args, **kwargs):
        if any(x.id == "bad" for x in stage_input(*args)):
            raise RuntimeError("stage exploded")
        return real(*args, **kwargs)

    return flaky


# Worker stages are monkeypatched in this process, so they run with jobs=1 (joblib runs them here).
@pytest.mark.parametrize("stage, jobs", [("classify", 1), ("sketch", 1), ("write", 1), ("match", 1), ("match", 2)])
def test_a_stage_failure_becomes_an_error_record(tmp_path, monkeypatch, stage, jobs):
    """A failing batch is retried document by document, in the worker (classification, the dedup
    sketch, the record's encoding) or in the run's process (matching against the dedup index):
    only the failing document becomes an error record, the others keep their dedup flags."""
    import classify.pipeline as pipeline
    from classify.dedup import Deduplicator
    from classify.writers import EncodedRecord

    if stage == "classify":
        monkeypatch.setattr(pipeline, "classify_documents", _failing_for(pipeline.classify_documents, lambda docs, *_: docs))
    elif stage == "sketch":
        monkeypatch.setattr(pipeline, "batch_items", _failing_for(pipeline.batch_items, lambda docs, *_: docs))
    elif stage == "match":
        real = Deduplicator.match
        monkeypatch.setattr(Deduplicator, "match", _failing_for(real, lambda self, items, ids: [SimpleNamespace(id=i) for i in ids]))
    else:
        real = EncodedRecord.of.__func__
        monkeypatch.setattr(EncodedRecord, "of", classmethod(_failing_for(real, lambda cls, doc, *_: [doc])))
    path = tmp_path / "in.jsonl"
    text = "Правительство утвердило новый бюджет на следующий год после долгих обсуждений."
    # One text in three outlets (sources), so it is not a line repeated within a source.
    path.write_text("\n".join(json.dumps({"id": i, "source": i, "text": text}) for i in ("ok1", "bad", "ok2")) + "\n")
    out, errors = tmp_path / "o.jsonl", tmp_path / "o.errors.jsonl"
    summary = run([path], out, errors, RunOptions(jobs=jobs))
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["ok1", "ok2"]
    assert records[1]["duplicates"][0]["doc_id"] == "ok1"  # the same text: flagged as ever
    [error] = [json.loads(line) for line in errors.read_text().splitlines()]
    expected = {"sketch": "dedup", "match": "dedup"}.get(stage, stage)
    assert error["id"] == "bad" and error["stage"] == expected and "stage exploded" in error["reason"]
    assert error["source"].endswith("in.jsonl:2")
    assert (summary.documents, summary.errors, summary.duplicate_paragraphs) == (2, 1, 1)


SIGNATURE = "Our journalists work every day so that you can read independent news from the region."
BODIES = (
    "The council approved the new budget on Tuesday after a long debate about schools and roads.",
    "Farmers in the valley expect a record harvest this autumn thanks to a mild and rainy summer.",
    "The city museum reopened its doors after two years of renovation with a new modern art wing.",
    "Engineers finished the new bridge over the river two months ahead of the agreed schedule.",
)


def write_site(path: Path, bodies: tuple[str, ...]) -> Path:
    """One site's articles, each ending with the site's signature line."""
    records = [{"id": f"{path.stem}-{i}", "source": "site", "text": f"{body}\n{SIGNATURE}"} for i, body in enumerate(bodies)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def signature_reasons(out: Path) -> list[str | None]:
    reasons = []
    for record in map(json.loads, out.read_text(encoding="utf-8").splitlines()):
        removed = {r["text"]: r["reason"] for r in record["removed"]}
        reasons.append(removed.get(SIGNATURE))
    return reasons


@pytest.mark.parametrize("jobs", [1, 2])
def test_repetition_is_counted_over_the_corpus_not_the_batch(tmp_path, jobs):
    """One document per batch: only the corpus's counting pass sees the signature in 3 documents."""
    corpus = write_site(tmp_path / "site.jsonl", BODIES[:3])
    out = tmp_path / "corpus.jsonl"
    run([corpus], out, tmp_path / "corpus.errors.jsonl", RunOptions(batch_size=1, jobs=jobs, stages=("clean",)))
    assert all(reason and "repeated in 3" in reason for reason in signature_reasons(out))
    per_batch = tmp_path / "batch.jsonl"
    run([corpus], per_batch, tmp_path / "batch.errors.jsonl", RunOptions(batch_size=1, stages=("clean",), repetition="batch"))
    assert not any(reason and "repeated" in reason for reason in signature_reasons(per_batch))


def test_repetition_counts_persist_with_the_index(tmp_path):
    """A persistent index keeps the line counts: a later run sees the earlier runs' repetitions."""
    index = tmp_path / "index.npz"
    options = RunOptions(batch_size=1, stages=("clean", "dedup"), index_path=index)
    first = write_site(tmp_path / "first.jsonl", BODIES[:2])
    run([first], tmp_path / "1.jsonl", tmp_path / "1.errors.jsonl", options)
    assert not any(reason and "repeated" in reason for reason in signature_reasons(tmp_path / "1.jsonl"))
    second = write_site(tmp_path / "second.jsonl", BODIES[2:3])
    run([second], tmp_path / "2.jsonl", tmp_path / "2.errors.jsonl", options)
    assert [reason and "repeated in 3" in reason for reason in signature_reasons(tmp_path / "2.jsonl")] == [True]


@pytest.mark.parametrize("jobs", [1, 2])
def test_copies_of_a_page_keep_their_text(tmp_path, jobs):
    """One article saved three times in one directory (as a crawl fetches a page under three
    URLs; here in three encodings): its paragraphs are in three documents of the source, but as
    copies of one document they are not the site's boilerplate. Each copy in its own batch: the
    corpus's counting pass decides."""
    paragraphs = [
        "Городской совет во вторник утвердил новый бюджет после долгого спора о школах и дорогах.",
        "Фермеры долины ожидают этой осенью рекордного урожая благодаря мягкому и дождливому лету.",
        "Городской музей открылся после двух лет ремонта, и в нём появилось новое крыло искусства.",
    ]
    site = tmp_path / "site"
    site.mkdir()
    for encoding in ("utf-8", "windows-1251", "koi8-r"):
        (site / f"{encoding}.txt").write_bytes("\n".join(["Бюджет", *paragraphs]).encode(encoding))
    out = tmp_path / "out.jsonl"
    run([site], out, tmp_path / "errors.jsonl", RunOptions(batch_size=1, jobs=jobs, stages=("clean",)))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3
    for record in records:
        assert all(p in record["clean_text"] for p in paragraphs), record["removed"]


def test_a_large_source_needs_a_share_of_its_documents(tmp_path):
    """In a source of 1,000 documents, a line in 3 of them is not its boilerplate (min_source_share)."""
    records = [{"id": str(i), "source": "big", "text": f"Story {i} begins here and tells its own news in full."}
               for i in range(997)]
    records += [{"id": f"r{i}", "source": "big", "text": f"{BODIES[i]}\n{SIGNATURE}"} for i in range(3)]
    corpus = tmp_path / "big.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    options = RunOptions(stages=("clean",), clean=CleanOptions(min_source_share=0.005))
    run([corpus], out, tmp_path / "errors.jsonl", options)
    reasons = signature_reasons(out)[-3:]
    assert not any(reason and "repeated" in reason for reason in reasons)


def test_line_counts_left_without_their_index_are_not_reused(tmp_path):
    """Deleting the index starts afresh: stale line counts beside it are ignored, then replaced."""
    index = tmp_path / "index.npz"
    options = RunOptions(batch_size=1, stages=("clean", "dedup"), index_path=index)
    first = write_site(tmp_path / "first.jsonl", BODIES[:2])
    run([first], tmp_path / "1.jsonl", tmp_path / "1.errors.jsonl", options)
    index.unlink()
    second = write_site(tmp_path / "second.jsonl", BODIES[2:3])
    run([second], tmp_path / "2.jsonl", tmp_path / "2.errors.jsonl", options)
    assert not any(reason and "repeated" in reason for reason in signature_reasons(tmp_path / "2.jsonl"))


def test_records_survive_the_trip_to_a_worker_and_back():
    """Batches cross process boundaries as pickles (joblib, Dask): every field must come back."""
    doc = Document(
        id="a", text="<p>x</p>", source="in.jsonl:3", format="html", encoding="utf-8", language="ru",
        metadata={"url": "https://example.org/1"},
        lines=[Line(1, "x", NOISE, "ticker", 0.25, DuplicateRef("b", 2, 0.9)), Line(2, "y")],
        near_duplicates=[{"doc_id": "b", "similarity": 0.8}],
        topic=Prediction("sport", 0.7, [("sport", 0.7)], ["x"]),
        stance=Prediction("neutral", 0.6, target="Acme"),
    )
    error = ErrorRecord("in.jsonl:4", "bad JSON", stage="read")
    back, back_error = pickle.loads(pickle.dumps((doc, error)))
    assert back == doc and back.to_record() == doc.to_record()
    assert back_error == error


def test_a_worker_sketches_without_importing_datasketch():
    """Importing datasketch costs a process 0.7 s (it pulls in scipy.integrate), paid by every
    worker at start: the run sends its MinHasher along, and the worker's signatures are the ones
    a MinHasher built in the worker would give."""
    import subprocess
    import sys

    code = (
        "import pickle, sys\n"
        "from classify.pipeline import RunOptions, prepare_in_worker\n"
        "from classify.readers import read_batches\n"
        "hasher = pickle.loads(sys.stdin.buffer.read())\n"
        "options = RunOptions(stages=('clean', 'dedup'))\n"
        "(batch,) = read_batches([sys.argv[1]], options.read, 8)\n"
        "items = prepare_in_worker(batch, options, None, hasher)[3]\n"
        "assert 'datasketch' not in sys.modules, 'the worker imported datasketch'\n"
        "sys.stdout.buffer.write(pickle.dumps(items.signatures))\n"
    )
    from classify.dedup.minhash import MinHasher

    seed = sorted(SEEDS.glob("*.txt"))[0]
    done = subprocess.run([sys.executable, "-c", code, str(seed)], input=pickle.dumps(MinHasher()), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    options = RunOptions(stages=("clean", "dedup"))
    from classify.pipeline import prepare_in_worker
    from classify.readers import read_batches

    (batch,) = read_batches([str(seed)], options.read, 8)
    expected = prepare_in_worker(batch, options)[3].signatures
    assert len(expected) > 0 and (pickle.loads(done.stdout) == expected).all()


def test_worker_models_reload_when_their_files_change(tmp_path):
    """Workers outlive a run (joblib's reusable pool, a Dask cluster): models retrained in the same
    directory since must be reloaded, while unchanged ones are loaded once."""
    import os
    import shutil

    from classify.models import default_models_dir
    from classify.pipeline import worker_models

    models = tmp_path / "models"
    for task in ("topic", "stance"):
        shutil.copytree(default_models_dir() / task, models / task)
    first = worker_models(models)
    assert worker_models(models) is first
    stamp = (models / "stance" / "model.npz").stat().st_mtime_ns + 10**9
    os.utime(models / "stance" / "model.npz", ns=(stamp, stamp))
    assert worker_models(models) is not first


def test_a_run_that_fails_in_its_set_up_leaves_its_workers_alone(tmp_path):
    """With --jobs 2 the worker pool starts while this process sets up (see `started_workers`): a
    run that fails there (here, an unreadable dedup index) reports its own error, and the workers'
    warm-up is waited for, not cancelled mid-import (joblib warns when it cancels tasks)."""
    import warnings

    from classify.dedup.storage import IndexFormatError

    index = tmp_path / "index.npz"
    index.write_text("not an index", encoding="utf-8")
    seed = sorted(SEEDS.glob("*.txt"))[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(IndexFormatError, match="not a readable dedup index"):
            run([seed], tmp_path / "out.jsonl", tmp_path / "errors.jsonl", RunOptions(jobs=2, index_path=index))
    assert [str(w.message) for w in caught if "cancelled" in str(w.message)] == []
