"""Resumable runs: kill -9 in the middle, then --resume gives exactly the uninterrupted output."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from classify.checkpoint import MANIFEST_VERSION, Checkpoint, ResumeError
from classify.locking import RunInProgress, index_lock, lock_directory
from classify.pipeline import RunOptions, run

WORDS = (
    "правительство президент министр заявил сообщил экономика бюджет рост снижение закон совет "
    "безопасность регион страна переговоры соглашение компания рынок цены налог суд полиция "
    "выборы депутаты парламент культура спорт матч команда университет исследование"
).split()


def make_corpus(path, n_docs: int, seed: int = 0) -> None:
    """Documents of a few sentences, some sharing a paragraph (so the dedup state matters), one broken line."""
    rng = random.Random(seed)
    shared = [" ".join(rng.choices(WORDS, k=14)).capitalize() + "." for _ in range(20)]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n_docs):
            paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(10, 20))).capitalize() + "." for _ in range(3)]
            if i % 7 == 0:
                paragraphs.append(rng.choice(shared))
            out.write(json.dumps({"id": f"d{i}", "text": "\n".join(paragraphs)}, ensure_ascii=False) + "\n")
            if i == n_docs // 2:
                out.write("{not json\n")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "classify", "run", *args, "--quiet"]


def test_kill_and_resume_gives_identical_output(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    make_corpus(corpus, 4000)
    common = ["--batch-size", "20", "--checkpoint-every", "2"]

    reference = tmp_path / "reference.jsonl"
    subprocess.run(cli(str(corpus), "-o", str(reference), *common), check=False, timeout=600)

    output = tmp_path / "out.jsonl"
    manifest = tmp_path / "out.jsonl.partial" / "manifest.json"
    system_tmp = tmp_path / "tmp"  # the killed run's temporary files must not land here, where nothing removes them
    system_tmp.mkdir()
    process = subprocess.Popen(cli(str(corpus), "-o", str(output), *common), env={**os.environ, "TMPDIR": str(system_tmp)})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if manifest.exists() and json.loads(manifest.read_text())["items_done"] >= 400:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be killed: make the corpus larger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = json.loads(manifest.read_text())["items_done"]
    assert 0 < done < 4001 and not output.exists()
    assert not any(system_tmp.iterdir())

    resumed = subprocess.run(cli(str(corpus), "-o", str(output), *common, "--resume"), timeout=600)
    assert resumed.returncode == 1  # one malformed line: finished with errors
    assert output.read_bytes() == reference.read_bytes()
    assert (tmp_path / "out.errors.jsonl").read_text() == (tmp_path / "reference.errors.jsonl").read_text()
    assert not (tmp_path / "out.jsonl.partial").exists()
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len({r["id"] for r in records}) == 4000
    assert any(r["duplicates"] for r in records[done:])  # dedup state survived the restart


def test_resume_refuses_other_inputs_or_options(tmp_path):
    corpus = tmp_path / "c.jsonl"
    make_corpus(corpus, 30)
    out = tmp_path / "o.jsonl"
    partial = tmp_path / "o.jsonl.partial"
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({"version": MANIFEST_VERSION, "fingerprint": "other", "items_done": 5, "parts": 1, "summary": {}}))
    with pytest.raises(ResumeError, match="other inputs or options"):
        run([corpus], out, tmp_path / "o.errors.jsonl", RunOptions(), resume=True)
    # Without --resume the stale work directory is discarded and the run starts over.
    summary = run([corpus], out, tmp_path / "o.errors.jsonl", RunOptions())
    assert summary.documents == 30 and not partial.exists()


def test_a_second_run_on_the_same_output_stops_and_leaves_the_first_alone(tmp_path):
    corpus = tmp_path / "c.jsonl"
    make_corpus(corpus, 30)
    out, errors = tmp_path / "o.jsonl", tmp_path / "o.errors.jsonl"
    with Checkpoint(out, errors, "jsonl", "first") as first:  # a live run, mid-way
        first.write([], [], 0, {}, None)
        first.commit(None)
        for resume in (False, True):
            with pytest.raises(RunInProgress, match="another classify run"):
                run([corpus], out, errors, RunOptions(), resume=resume)
        assert (first.workdir / "manifest.json").exists() and len(list(first.workdir.glob("part-*"))) == 2
        assert not out.exists()
        first.finish()
    # Released when the run ends: the next one runs, and no lock file is left behind.
    assert run([corpus], out, errors, RunOptions()).documents == 30
    assert sorted(path.name for path in tmp_path.iterdir()) == ["c.jsonl", "o.errors.jsonl", "o.jsonl"]


def test_a_failed_run_releases_its_output_for_the_resume(tmp_path):
    corpus = tmp_path / "c.jsonl"
    make_corpus(corpus, 200)
    out, errors = tmp_path / "o.jsonl", tmp_path / "o.errors.jsonl"
    options = RunOptions(batch_size=10, checkpoint_every=1)
    reference = run([corpus], tmp_path / "r.jsonl", tmp_path / "r.errors.jsonl", options)
    batches = 0

    def fail_at_the_fifth_batch(records, errors):
        nonlocal batches
        batches += 1
        if batches == 5:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        run([corpus], out, errors, options, on_batch=fail_at_the_fifth_batch)
    assert not out.exists()
    summary = run([corpus], out, errors, options, resume=True)
    assert summary == reference
    assert out.read_bytes() == (tmp_path / "r.jsonl").read_bytes()


def test_lock_directory_is_exclusive_and_follows_a_removed_directory(tmp_path):
    workdir = tmp_path / "w"
    held = lock_directory(workdir)
    with pytest.raises(RunInProgress):
        lock_directory(workdir)
    os.rmdir(workdir)  # the holder ends: its directory goes before its lock
    again = lock_directory(workdir)  # a new directory at the path: free
    assert os.fstat(again).st_ino == os.stat(workdir).st_ino
    os.close(held)
    os.close(again)
    os.close(lock_directory(workdir))


def test_two_runs_never_share_a_dedup_index(tmp_path):
    """Both would load the index and save it, the second save dropping what the first added."""
    corpus = tmp_path / "c.jsonl"
    make_corpus(corpus, 30)
    index = tmp_path / "index.npz"
    options = RunOptions(index_path=index)
    with index_lock(index):  # a live run using the index
        with pytest.raises(RunInProgress, match="dedup index"):
            run([corpus], tmp_path / "other.jsonl", tmp_path / "other.errors.jsonl", options)
        assert not (tmp_path / "other.jsonl.partial").exists() and not index.exists()
    assert run([corpus], tmp_path / "o.jsonl", tmp_path / "o.errors.jsonl", options).documents == 30
    assert index.exists() and not (tmp_path / "index.npz.lock").exists()
