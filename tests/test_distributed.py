"""The Dask engine writes byte for byte what the local engine writes, on a 2-worker LocalCluster."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from distributed import LocalCluster  # noqa: E402

from classify import distributed  # noqa: E402
from classify.dedup import DedupOptions  # noqa: E402
from classify.distributed import run_dask  # noqa: E402
from classify.models import ModelError  # noqa: E402
from classify.pipeline import RunOptions, run  # noqa: E402
from classify.readers import ReadOptions  # noqa: E402

from conftest import SEEDS  # noqa: E402

WORDS = (
    "президент правительство министр закон бюджет регион экономика выборы депутат суд налог рынок банк "
    "компания завод город область школа больница дорога мост транспорт энергия газ нефть цена рубль "
    "курс доллар сделка договор проект программа развитие реформа кризис рост спад инвестиция экспорт "
    "импорт торговля граница безопасность армия учение полиция пожар авария погода урожай спорт матч"
).split()


@pytest.fixture(scope="module")
def scheduler():
    """One 2-worker cluster (processes, one thread each) for the module: starting one costs seconds."""
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def edited(text: str, rng: random.Random, edits: int) -> str:
    """`text` with `edits` words replaced, far apart: a near copy."""
    words = text.split()
    for position in rng.sample(range(0, len(words), 12), edits):
        words[position] = "изменено"
    return " ".join(words)


def synthetic_corpus(directory: Path, n_docs: int = 300, seed: int = 7) -> list[Path]:
    """A JSONL corpus with every case the dedup stage distinguishes, plus malformed inputs:
    exact document copies, near-copy documents, a wire paragraph in many outlets, chains of near
    copies (A ~ A' ~ A'' with A'' not similar to A: the canonical is not a direct match),
    within-document repeats, short (character-shingled) paragraphs, empty and broken records."""
    rng = random.Random(seed)
    wire = sentence(rng, 40)
    chain = [sentence(rng, 70)]
    chain.append(edited(chain[0], rng, 1))
    chain.append(edited(chain[1], rng, 1))
    records, bodies = [], []
    for i in range(n_docs):
        roll = rng.random()
        if bodies and roll < 0.05:
            paragraphs = list(rng.choice(bodies))  # exact copy of an earlier document
        elif bodies and roll < 0.12:
            paragraphs = [edited(p, rng, 1) if len(p.split()) > 24 else p for p in rng.choice(bodies)]  # near copy
        else:
            paragraphs = [sentence(rng, rng.randint(15, 60)) for _ in range(rng.randint(2, 5))]
            if roll < 0.3:
                paragraphs.insert(rng.randint(0, len(paragraphs)), wire)
            if roll > 0.9:
                paragraphs.append(paragraphs[0])  # repeated within the document
            if 0.8 < roll < 0.84:
                paragraphs.append(rng.choice(chain))
            if 0.5 < roll < 0.55:
                paragraphs.append(sentence(rng, 6))  # short: character shingles
        bodies.append(paragraphs)
        records.append(json.dumps({"id": f"d{i:04d}", "source": f"outlet{i % 7}", "text": "\n\n".join(paragraphs)}, ensure_ascii=False))
    records.insert(40, "{not json")
    records.insert(90, json.dumps({"id": "empty", "text": ""}))
    records.insert(150, json.dumps({"id": "no-text"}))
    (directory / "corpus.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    (directory / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (directory / "empty.txt").write_bytes(b"")
    (directory / "chain.txt").write_text("\n\n".join(chain), encoding="utf-8")
    return [directory / "corpus.jsonl", directory / "binary.txt", directory / "chain.txt", directory / "empty.txt"]


def both_engines(tmp_path: Path, inputs: list, options: RunOptions, fmt: str = "jsonl", **dask_args) -> tuple[dict, dict]:
    """Output and errors bytes, summary and `on_batch` calls of the local and the Dask engine."""
    results = {}
    for engine in ("local", "dask"):
        batches: list[tuple[int, int]] = []

        def on_batch(docs, errors, batches=batches) -> None:
            batches.append((len(docs), len(errors)))

        out = tmp_path / engine / f"out.{fmt}"
        out.parent.mkdir()
        errors = tmp_path / engine / "errors.jsonl"
        if engine == "local":
            summary = run(inputs, out, errors, options, fmt, on_batch)
        else:
            summary = run_dask(inputs, out, errors, options, fmt, on_batch=on_batch, **dask_args)
        results[engine] = {"summary": summary, "output": out.read_bytes(), "errors": errors.read_bytes(), "batches": batches}
    return results["local"], results["dask"]


def test_seeds_identical_on_own_local_cluster(tmp_path):
    """No scheduler given: run_dask starts (and stops) its own 2-worker LocalCluster."""
    options = RunOptions(read=ReadOptions(glob="*.txt"), batch_size=2)
    local, dask = both_engines(tmp_path, [SEEDS], options, workers=2, partition_batches=1)
    assert dask["output"] == local["output"]
    assert dask["errors"] == local["errors"]
    assert dask["summary"] == local["summary"]
    assert dask["batches"] == local["batches"]  # progress callbacks: same batches, same sizes
    assert local["summary"].documents == 4


def test_synthetic_corpus_identical(tmp_path, scheduler):
    inputs = synthetic_corpus(tmp_path)
    options = RunOptions(batch_size=16)
    # About 7 partitions in shards of 2: the last shard is smaller than the others.
    local, dask = both_engines(tmp_path, inputs, options, scheduler=scheduler, partition_batches=3, shard_partitions=2)
    records = [json.loads(line) for line in local["output"].decode("utf-8").splitlines()]
    # The corpus exercises what it claims: copies, near copies, canonicals reached through a chain.
    similarities = [d["similarity"] for r in records for d in r["duplicates"]]
    assert 1.0 in similarities and any(0.8 <= s < 1.0 for s in similarities)
    assert any(r["near_duplicates"] for r in records)
    assert any(d["doc_id"] == r["id"] for r in records for d in r["duplicates"])  # within a document
    assert any(s < 0.8 for s in similarities)  # a chain member flagged against a root it is not similar to
    assert local["summary"].errors >= 4
    assert dask["output"] == local["output"]
    assert dask["errors"] == local["errors"]
    assert dask["summary"] == local["summary"]


def test_dedup_only_low_cap_and_drop_duplicates_identical(tmp_path, scheduler, monkeypatch):
    """A bucket cap of 1 and a lower threshold make the bucket rules matter; the dedup-only prefix
    and dropping duplicates take other paths through both engines. Small partitions (about 50)
    give the shuffles more reducers (sqrt of the partitions) than the 2 per worker of the others;
    shards of 3 partitions doubling every 2 shards (3, 3, 6, 6, 12, 12, then the last 8) give the verification
    shards of unequal sizes to route pairs between; the LSH shuffle runs in 3 rounds and the
    verification in a wave per shard."""
    inputs = synthetic_corpus(tmp_path, n_docs=200, seed=11)
    options = RunOptions(
        dedup=DedupOptions(threshold=0.6, document_threshold=0.5, bucket_cap=1), batch_size=4,
        drop_duplicates=True, stages=("clean", "dedup"),
    )
    rounds, waves, real_waves = [], [], distributed.verify_waves
    monkeypatch.setattr(distributed, "band_rounds", lambda entries, workers: rounds.append(entries) or 3)
    # A pair's share of the budget as large as the budget: every shard with pairs its own wave.
    monkeypatch.setattr(distributed, "VERIFY_PAIR_BYTES", distributed.ROUND_BYTES)
    monkeypatch.setattr(distributed, "verify_waves", lambda pairs, workers: waves.append(cuts := real_waves(pairs, workers)) or cuts)
    local, dask = both_engines(
        tmp_path, inputs, options, scheduler=scheduler, partition_batches=1, shard_partitions=3, shards_per_size=2
    )
    assert rounds and rounds[0] > 1000  # the rounds were asked for, over all band entries
    assert len(waves) >= 2 and all(len(cuts) >= 2 for cuts in waves[:2])  # copies and near copies, in waves
    assert dask["output"] == local["output"]
    assert dask["errors"] == local["errors"]


def test_shards_double_and_band_rounds_bound_a_workers_share():
    # 16 partitions per shard for 32 shards, then 32: 977 partitions (1M documents) make 47 shards.
    sizes, left = [], 977
    while left > 0:
        sizes.append(min(left, distributed.shard_size(len(sizes))))
        left -= sizes[-1]
    assert sizes[:32] == [16] * 32 and sizes[32] == 32 and len(sizes) == 47
    assert distributed.band_rounds(1000, 2) == 1
    # Each round's share of a worker stays within the budget, whatever the corpus.
    for entries in (10**7, 10**8, 10**9):
        rounds = distributed.band_rounds(entries, 2)
        assert entries / rounds / 2 * distributed.BAND_ENTRY_BYTES <= distributed.ROUND_BYTES
    assert distributed.band_rounds(10**13, 2) == 256  # no more rounds than key bytes


def test_verify_waves_cut_between_shards_within_the_budget():
    per_wave = 2 * distributed.ROUND_BYTES // distributed.VERIFY_PAIR_BYTES  # pairs of one wave on 2 workers
    rng = np.random.default_rng(0)
    even = rng.integers(0, per_wave // 3, 40)
    for pairs in (even, np.concatenate([even[:20], [3 * per_wave], even[20:]])):
        waves = np.split(pairs, distributed.verify_waves(pairs, 2))
        assert np.array_equal(np.concatenate(waves), pairs) and all(len(w) for w in waves)
        # Within the budget, but for the shard that crosses a cut (a shard is never cut).
        assert all(w.sum() <= per_wave + w.max() for w in waves)
        assert len(waves) >= (pairs.sum() - pairs.max()) / per_wave
    assert len(distributed.verify_waves(np.array([5, 7]), 2)) == 0  # small: one wave
    assert len(distributed.verify_waves(np.array([10**9]), 2)) == 0


def test_parquet_and_classify_with_drop_duplicates_identical(tmp_path, scheduler):
    inputs = synthetic_corpus(tmp_path, n_docs=60, seed=3)
    options = replace(RunOptions(batch_size=16), drop_duplicates=True)
    local, dask = both_engines(tmp_path, inputs, options, "parquet", scheduler=scheduler, partition_batches=1)
    assert dask["output"] == local["output"]
    assert dask["errors"] == local["errors"]


def test_corpus_without_any_duplicate_identical(tmp_path, scheduler):
    """No paragraph and no document has a copy: the flags are empty, the run still completes."""
    rng = random.Random(5)
    records = [{"id": f"u{i}", "text": "\n\n".join(sentence(rng, 30) for _ in range(3))} for i in range(12)]
    corpus = tmp_path / "unique.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    local, dask = both_engines(tmp_path, [corpus], RunOptions(batch_size=4), scheduler=scheduler, partition_batches=1)
    assert local["summary"].documents == 12 and local["summary"].duplicate_paragraphs == 0
    assert dask["output"] == local["output"]
    assert dask["summary"] == local["summary"]


def test_copies_in_one_source_identical(tmp_path, scheduler):
    """Copies of one article in one source, one per partition: the copy counts cross the line
    counts' shuffle, and both engines keep the copies' text and remove the shared signature."""
    rng = random.Random(9)
    signature = sentence(rng, 12)
    article = [sentence(rng, 25) for _ in range(3)]
    bodies = [article] * 3 + [[sentence(rng, 25) for _ in range(3)] for _ in range(2)]
    records = [{"id": f"c{i}", "source": "outlet", "text": "\n\n".join([*body, signature])} for i, body in enumerate(bodies)]
    corpus = tmp_path / "copies.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    options = RunOptions(batch_size=1, stages=("clean",))
    local, dask = both_engines(tmp_path, [corpus], options, scheduler=scheduler, partition_batches=1)
    assert dask["output"] == local["output"]
    rows = [json.loads(line) for line in local["output"].decode("utf-8").splitlines()]
    assert all(all(p in row["clean_text"] for p in article) for row in rows[:3])
    assert all(signature not in row["clean_text"] for row in rows)


def test_missing_models_fail_before_any_work(tmp_path, scheduler):
    with pytest.raises(ModelError):
        run_dask([SEEDS], tmp_path / "o.jsonl", tmp_path / "e.jsonl", RunOptions(models_dir=tmp_path / "none"), scheduler=scheduler)
    assert not (tmp_path / "o.jsonl").exists()


def test_persistent_index_is_refused(tmp_path, scheduler):
    with pytest.raises(ValueError, match="index"):
        run_dask([SEEDS], tmp_path / "o.jsonl", tmp_path / "e.jsonl", RunOptions(index_path=tmp_path / "i.npz"), scheduler=scheduler)


class _CountingClient:
    """Stands in for a Dask client: counts the partitions handed to the cluster."""

    def __init__(self) -> None:
        self.scattered = 0

    def scatter(self, data, hash=True):  # noqa: A002 - Client.scatter's own argument name
        self.scattered += 1
        return data


def test_stream_keeps_at_most_window_partitions_on_the_cluster():
    """The inputs reach the cluster as they are consumed: never more than `window` partitions ahead."""
    from classify.distributed import _stream

    client, consumed = _CountingClient(), 0
    for future in _stream(client, ([n] for n in range(10)), lambda data: data, window=3):
        assert future == [consumed]  # in input order
        assert client.scattered - consumed <= 3
        consumed += 1
    assert consumed == client.scattered == 10
