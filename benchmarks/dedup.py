"""Benchmark of `classify.dedup`: accuracy against exact Jaccard, throughput against datasketch and
rensa, linear scaling, incremental == one-shot, and clusters of real Telegram reposts.

    python benchmarks/dedup.py            # default run, ~5-10 min on 2 cores (sizes 10k, 100k, 1M)
    python benchmarks/dedup.py --quick    # smaller corpora (scaling 10k, 100k), ~2 min
    python benchmarks/dedup.py --full     # larger accuracy corpus and throughput sample

Writes benchmarks/results/dedup.json, dedup.md and dedup.png. Peers (rensa) come from the `bench`
extra; a missing peer is reported as missing, not silently skipped. Needs ../shared/data beside the
repo (news text from data/labels, posts from data/telegram); without it the script says so and exits.

Corpora are synthetic edits of real news paragraphs: every edit type and rate is known, and the
ground truth is the exact Jaccard of the shingle sets of *all* pairs (a sparse matrix product), so
recall counts every pair the deduplicator should have found, not only those LSH proposed.
"""

from __future__ import annotations

import argparse
import csv
import gc
import hashlib
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import sparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classify.dedup import DedupOptions, Deduplicator  # noqa: E402
from classify.dedup.minhash import MinHasher, lsh_params  # noqa: E402
from classify.dedup.shingles import normalise_text, shingle_paragraphs  # noqa: E402
from classify.document import Document, Line  # noqa: E402
from classify.writers import write_text_atomically  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
LABELS = SHARED / "labels"
TELEGRAM = SHARED / "telegram" / "nktkln_telegram_news"
RESULTS = REPO / "benchmarks" / "results"
REVIEW = REPO / "benchmarks" / "dedup_telegram_review.json"  # hand-checked verdicts, keyed by pair
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
EDIT_TYPES = ("insert", "delete", "substitute", "reorder", "boilerplate")
EDIT_RATES = (0.01, 0.02, 0.03, 0.05, 0.1, 0.2)
BOILERPLATE = (
    "Подписывайтесь на наш канал, чтобы первыми узнавать главные новости дня.",
    "Материал подготовлен редакцией при поддержке партнёров.",
    "Все права защищены, перепечатка только с активной ссылкой на источник.",
)
WORD = re.compile(r"\w+")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"A-ZА-ЯЁ])")
csv.field_size_limit(sys.maxsize)


# ---------------------------------------------------------------------------------------- corpora


def real_paragraphs() -> list[str]:
    """Unique news paragraphs (>= 5 words) from the label sets: Lenta.ru articles, inosmi.ru
    articles (RuSentRel), RuSentNE news sentences, ROMIP news quotes, BBC Afrique (MasakhaNEWS)."""
    texts: list[str] = []
    with open(LABELS / "lenta_news9_asryan" / "train_news.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            texts += row["content"].splitlines()
    for part in ("train", "test"):
        for path in sorted((LABELS / "rusentrel_v1_1" / part).glob("art*.txt")):
            if path.name.count(".") == 1:  # artN.txt, not the annotation files
                texts += [t.replace("{Author, Unknown}", "") for t in path.read_text(encoding="utf-8").splitlines()]
    for name in ("train_data.csv", "validation_data_labeled.csv", "final_data.csv"):
        with open(LABELS / "rusentne2023" / name, encoding="utf-8", newline="") as f:
            texts += [r["sentence"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    for name in ("train.xml", "test.xml"):
        root = ET.parse(LABELS / "romip2012_news_quotes" / name).getroot()
        texts += [" ".join(s.findtext("speech", "").split()) for s in root.iter("sentence")]
    for name in ("dev.tsv", "test.tsv", "train_fewshot50.tsv"):
        with open(LABELS / "masakhanews_fra" / name, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                texts += r["text"].splitlines()
    return list(dict.fromkeys(t.strip() for t in texts if len(t.split()) >= 5))


def real_sentences(paragraphs: list[str]) -> list[str]:
    return list(dict.fromkeys(s for p in paragraphs for s in SENTENCE_END.split(p) if len(s.split()) >= 5))


def edit(text: str, kind: str, rate: float, vocabulary: list[str], rng: random.Random) -> str:
    """`text` with about `rate` of its words edited by `kind` (reorder: a span of that many words
    moved elsewhere; boilerplate: a stock sentence appended, `rate` ignored)."""
    words = text.split()
    count = max(1, round(rate * len(words)))
    if kind == "insert":
        for _ in range(count):
            words.insert(rng.randrange(len(words) + 1), rng.choice(vocabulary))
    elif kind == "delete":
        for _ in range(min(count, len(words) - 1)):
            del words[rng.randrange(len(words))]
    elif kind == "substitute":
        for i in rng.sample(range(len(words)), min(count, len(words))):
            words[i] = rng.choice(vocabulary)
    elif kind == "reorder":
        start = rng.randrange(max(1, len(words) - count))
        span, rest = words[start : start + count], words[:start] + words[start + count :]
        at = rng.randrange(len(rest) + 1)
        words = rest[:at] + span + rest[at:]
    else:
        words += rng.choice(BOILERPLATE).split()
    return " ".join(words)


def edited_corpus(base: list[str], copies: int, rng: random.Random) -> tuple[list[str], list[dict[str, Any]]]:
    """The base paragraphs plus `copies` edited copies (some of them copies of copies, some exact
    copies), shuffled; returns the texts and, per text, how it was made."""
    vocabulary = [w for p in rng.sample(base, min(2000, len(base))) for w in p.split()]
    texts = list(base)
    made = [{"kind": "original"} for _ in base]
    for _ in range(copies):
        source = rng.randrange(len(texts))
        if rng.random() < 0.1:
            texts.append(texts[source])
            made.append({"kind": "exact", "source": source})
            continue
        kind, rate = rng.choice(EDIT_TYPES), rng.choice(EDIT_RATES)
        texts.append(edit(texts[source], kind, rate, vocabulary, rng))
        made.append({"kind": kind, "rate": 0.0 if kind == "boilerplate" else rate, "source": source})
    order = list(range(len(texts)))
    rng.shuffle(order)
    position = {old: new for new, old in enumerate(order)}
    shuffled = [dict(made[i]) for i in order]
    for record in shuffled:
        if "source" in record:
            record["source"] = position[record["source"]]
    return [texts[i] for i in order], shuffled


def as_documents(paragraphs: list[str], per_doc: int = 1, prefix: str = "d") -> list[Document]:
    docs = []
    for start in range(0, len(paragraphs), per_doc):
        chunk = paragraphs[start : start + per_doc]
        lines = [Line(number=i, text=t) for i, t in enumerate(chunk, start=1)]
        docs.append(Document(id=f"{prefix}{start // per_doc}", text="\n".join(chunk), source="bench", lines=lines))
    return docs


# --------------------------------------------------------------------------------------- accuracy


def exact_pairs(texts: list[str], options: DedupOptions, min_jaccard: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i < j) with exact shingle-set Jaccard >= min_jaccard, by a sparse X @ X.T."""
    sets = shingle_paragraphs(texts, options).unique()
    _, columns = np.unique(sets.hashes, return_inverse=True)
    matrix = sparse.csr_matrix(
        (np.ones(len(columns), dtype=np.int32), columns.ravel(), sets.offsets), shape=(len(texts), columns.max() + 1)
    )
    inter = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    sizes = sets.sizes
    jaccard = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = jaccard >= min_jaccard
    return inter.row[keep], inter.col[keep], jaccard[keep]


def accuracy(paragraphs: list[str], base_count: int, copies: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    base = [p for p in rng.sample(paragraphs, min(base_count * 2, len(paragraphs))) if len(p.split()) >= 12][:base_count]
    texts, made = edited_corpus(base, copies, rng)
    rows = []
    for threshold in THRESHOLDS:
        options = DedupOptions(threshold=threshold)
        first, second, jaccard = exact_pairs(texts, options, threshold)
        should_flag = np.zeros(len(texts), dtype=bool)
        should_flag[second] = True  # second > first: it has an earlier paragraph at >= threshold
        dedup = Deduplicator(options)
        start = time.perf_counter()
        docs = dedup.process(as_documents(texts))
        seconds = time.perf_counter() - start
        flagged = np.array([doc.lines[0].duplicate_of is not None for doc in docs])
        clusters = dedup.paragraphs.clusters()
        assert len(clusters) == len(texts), "every paragraph is compared, so paragraph ids are positions"
        same_cluster = clusters[first] == clusters[second]
        canonical_similarity = [d.lines[0].duplicate_of.similarity for d in docs if d.lines[0].duplicate_of]
        true_flags = int((flagged & should_flag).sum())
        baseline = datasketch_lsh_flags(texts, options)
        row = {
            "threshold": threshold,
            "paragraphs": len(texts),
            "true_pairs": int(len(first)),
            "should_flag": int(should_flag.sum()),
            "flagged": int(flagged.sum()),
            "flag_precision": true_flags / max(int(flagged.sum()), 1),
            "flag_recall": true_flags / max(int(should_flag.sum()), 1),
            "pair_recall": float(same_cluster.mean()) if len(first) else 1.0,
            "flags_at_threshold_of_canonical": float(np.mean(np.array(canonical_similarity) >= threshold)),
            "seconds": seconds,
            "datasketch_lsh_precision": float((baseline & should_flag).sum() / max(baseline.sum(), 1)),
            "datasketch_lsh_recall": float((baseline & should_flag).sum() / max(should_flag.sum(), 1)),
        }
        rows.append(row)
        print(f"  accuracy t={threshold}: {row}", flush=True)
    by_edit = recall_by_edit(texts, made, 0.8)
    return {"base_paragraphs": len(base), "edited_copies": copies, "seed": seed, "rows": rows, "recall_by_edit_at_0.8": by_edit}


def datasketch_lsh_flags(texts: list[str], options: DedupOptions) -> np.ndarray:
    """Baseline without verification: flag a paragraph when datasketch's MinHashLSH (its own
    default banding for the threshold) returns any earlier paragraph; same shingles and signatures."""
    from datasketch import MinHashLSH

    hasher = MinHasher(options.num_perm, options.seed)
    signatures = hasher.signatures(shingle_paragraphs(texts, options))
    lsh = MinHashLSH(threshold=options.threshold, num_perm=options.num_perm)
    flags = np.zeros(len(texts), dtype=bool)
    for i, signature in enumerate(signatures):
        minhash = hasher.lean_minhash(signature)
        flags[i] = bool(lsh.query(minhash))
        lsh.insert(i, minhash)
    return flags


def recall_by_edit(texts: list[str], made: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    """For each edit type and rate: how many edited copies have exact Jaccard >= threshold with
    their source, and how many of those were flagged (a copy may precede its source after the
    shuffle; then the source is the one flagged, so pairs are checked by cluster)."""
    options = DedupOptions(threshold=threshold)
    dedup = Deduplicator(options)
    dedup.process(as_documents(texts))
    clusters = dedup.paragraphs.clusters()
    sets = shingle_paragraphs(texts, options).unique()
    cells: dict[tuple[str, float], list[int]] = defaultdict(lambda: [0, 0, 0])
    for i, m in enumerate(made):
        if m["kind"] == "original":
            continue
        j = m["source"]
        a = set(sets.hashes[sets.offsets[i] : sets.offsets[i + 1]].tolist())
        b = set(sets.hashes[sets.offsets[j] : sets.offsets[j + 1]].tolist())
        cell = cells[(m["kind"], m.get("rate", 0.0))]
        cell[0] += 1
        if len(a & b) / len(a | b) >= threshold:
            cell[1] += 1
            cell[2] += int(clusters[i] == clusters[j])
    return [
        {"edit": kind, "rate": rate, "copies": c[0], "at_or_above_threshold": c[1], "found": c[2]}
        for (kind, rate), c in sorted(cells.items())
    ]


# ------------------------------------------------------------------------------------- throughput


def best_time(run: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def throughput(sentences: list[str], num_perm: int = 128, shingle_size: int = 5) -> dict[str, Any]:
    """Signatures per second, all methods in this one run on the same sentences.

    Ours starts from the raw text (normalisation and shingling included). The peers get the
    shingles already built as Python lists (lower-cased 5-word shingles), which is their best
    case; building those lists in Python is timed separately as `python_shingling`.
    """
    from datasketch import MinHash

    options = DedupOptions(num_perm=num_perm, shingle_size=shingle_size, short_paragraph_words=shingle_size, min_chars=5)
    hasher = MinHasher(num_perm, options.seed)
    n = len(sentences)

    def python_shingles() -> list[list[str]]:
        """What a user of the peers would write: lower-cased words, joined into n-grams."""
        out = []
        for text in sentences:
            words = WORD.findall(text.lower())
            out.append([" ".join(words[i : i + shingle_size]) for i in range(max(1, len(words) - shingle_size + 1))])
        return out

    start = time.perf_counter()
    shingles = python_shingles()
    shingling = time.perf_counter() - start
    as_bytes = [[s.encode("utf-8") for s in row] for row in shingles]
    sets = shingle_paragraphs(sentences, options)

    def datasketch_update() -> None:
        for row in as_bytes:
            m = MinHash(num_perm=num_perm)
            for s in row:
                m.update(s)

    def datasketch_update_batch() -> None:
        for row in as_bytes:
            MinHash(num_perm=num_perm).update_batch(row)

    methods: dict[str, tuple[Callable[[], Any], int]] = {
        "classify.dedup (raw text -> signatures)": (lambda: hasher.signatures(shingle_paragraphs(sentences, options)), 3),
        "classify.dedup (shingle hashes -> signatures)": (lambda: hasher.signatures(sets), 3),
        "datasketch MinHash.update (per token)": (datasketch_update, 1),
        "datasketch MinHash.update_batch": (datasketch_update_batch, 1),
        "datasketch MinHash.bulk": (lambda: MinHash.bulk(as_bytes, num_perm=num_perm), 1),
    }
    peers_missing = []
    try:
        import rensa

        def rensa_update(cls: Any) -> Callable[[], None]:
            def run() -> None:
                for row in shingles:
                    m = cls(num_perm, options.seed)
                    m.update(row)
                    m.digest()

            return run

        methods["rensa RMinHash.update (per object)"] = (rensa_update(rensa.RMinHash), 3)
        methods["rensa CMinHash.update (per object)"] = (rensa_update(rensa.CMinHash), 3)
        if hasattr(rensa.RMinHash, "digest_matrix_from_token_sets"):  # rensa >= 0.5
            methods["rensa RMinHash.digest_matrix_from_token_sets (bulk)"] = (
                lambda: rensa.RMinHash.digest_matrix_from_token_sets(shingles, num_perm, options.seed),
                3,
            )
    except ImportError:
        peers_missing.append("rensa (pip install rensa, or the bench extra)")
    rows = []
    for name, (run, repeats) in methods.items():
        seconds = best_time(run, repeats)
        rows.append({"method": name, "seconds": seconds, "per_second": n / seconds})
        print(f"  throughput {name}: {n / seconds:,.0f}/s", flush=True)
    return {
        "sentences": n,
        "num_perm": num_perm,
        "shingle_size": shingle_size,
        "mean_words": float(np.mean([len(s.split()) for s in sentences])),
        "python_shingling_seconds": shingling,
        "python_shingling_per_second": n / shingling,
        "rows": rows,
        "peers_missing": peers_missing,
    }


def index_throughput(paragraphs: list[str], threshold: float = 0.8) -> dict[str, Any]:
    """Paragraphs per second for index insert + query, signatures precomputed for everyone.

    Ours: `NearDuplicateIndex.add` on the whole batch (LSH candidates, exact verification, union-find).
    datasketch: MinHashLSH query then insert, per paragraph, with our LeanMinHash signatures.
    rensa: RMinHashLSH query then insert, per paragraph (its own signatures).
    """
    from datasketch import MinHashLSH

    options = DedupOptions(threshold=threshold)
    hasher = MinHasher(options.num_perm, options.seed)
    sets = shingle_paragraphs(paragraphs, options).unique()
    keep = np.flatnonzero(sets.sizes > 0)
    sets = sets.select(keep)
    signatures = hasher.signatures(sets)
    n = len(keep)
    rows = []

    def ours() -> None:
        Deduplicator(options).paragraphs.add(sets, signatures)

    def ours_stage() -> None:
        Deduplicator(options).process(as_documents([paragraphs[i] for i in keep], per_doc=10))

    lean = [hasher.lean_minhash(s) for s in signatures]

    def datasketch() -> None:
        lsh = MinHashLSH(threshold=threshold, num_perm=options.num_perm)
        for i, m in enumerate(lean):
            lsh.query(m)
            lsh.insert(i, m)

    methods: dict[str, Callable[[], None]] = {
        "classify.dedup NearDuplicateIndex.add (candidates + exact verification)": ours,
        "classify.dedup Deduplicator.process (raw text, whole stage)": ours_stage,
        "datasketch MinHashLSH query+insert (no verification)": datasketch,
    }
    try:
        import rensa

        ours, _ = lsh_params(threshold, options.num_perm, options.lsh_recall)
        # rensa needs bands dividing num_perm: the divisor nearest to our band count.
        bands = min((b for b in range(1, options.num_perm + 1) if options.num_perm % b == 0), key=lambda b: abs(b - ours))
        words = [normalise_text(paragraphs[i]).split() for i in keep]
        rensa_hashes = []
        for row in words:
            m = rensa.RMinHash(options.num_perm, options.seed)
            m.update([" ".join(row[j : j + 5]) for j in range(max(1, len(row) - 4))])
            rensa_hashes.append(m)

        def rensa_lsh() -> None:
            lsh = rensa.RMinHashLSH(threshold, options.num_perm, bands)
            for i, m in enumerate(rensa_hashes):
                lsh.query(m)
                lsh.insert(i, m)

        methods[f"rensa RMinHashLSH query+insert ({bands} bands, no verification)"] = rensa_lsh
    except ImportError:
        pass
    for name, run in methods.items():
        seconds = best_time(run, 1)
        rows.append({"method": name, "seconds": seconds, "per_second": n / seconds})
        print(f"  index {name}: {n / seconds:,.0f}/s", flush=True)
    return {"paragraphs": n, "threshold": threshold, "rows": rows}


def templated(count: int, seed: int) -> dict[str, Any]:
    """The worst case for candidate verification: paragraphs from one template with two numbers
    changed, so every new paragraph has many earlier ones at Jaccard ~0.4-0.6 (candidates, but not
    duplicates at 0.8). Ours in batches of 1,000 against datasketch's MinHashLSH query+insert."""
    from datasketch import MinHashLSH

    rng = random.Random(seed)
    template = (
        "Официальный курс доллара на завтра установлен Центральным банком на уровне {} рубля, курс евро "
        "составил {} рубля, сообщает пресс-служба регулятора в своем канале"
    )
    texts = [template.format(f"{rng.randint(60, 100)},{rng.randint(0, 99)}", f"{rng.randint(60, 110)},{rng.randint(0, 99)}")
             for _ in range(count)]
    options = DedupOptions()
    docs = as_documents(texts)
    dedup = Deduplicator(options)
    start = time.perf_counter()
    for begin in range(0, len(docs), 1000):
        dedup.process(docs[begin : begin + 1000])
    ours = time.perf_counter() - start
    hasher = MinHasher(options.num_perm, options.seed)
    lean = [hasher.lean_minhash(s) for s in hasher.signatures(shingle_paragraphs(texts, options))]
    lsh = MinHashLSH(threshold=options.threshold, num_perm=options.num_perm)
    start = time.perf_counter()
    hits = 0
    for i, minhash in enumerate(lean):
        hits += bool(lsh.query(minhash))
        lsh.insert(i, minhash)
    peer = time.perf_counter() - start
    row = {
        "paragraphs": count,
        "distinct": len(set(texts)),
        "flagged": sum(1 for d in docs if d.lines[0].duplicate_of),
        "seconds": ours,
        "per_second": count / ours,
        "datasketch_lsh_seconds": peer,
        "datasketch_lsh_per_second": count / peer,
        "datasketch_lsh_flagged": hits,
    }
    print(f"  templated: {row}", flush=True)
    return row


# ---------------------------------------------------------------------------------------- scaling


def scaling_batches(sentences: list[str], paragraphs: int, seed: int, per_doc: int = 10, docs_per_batch: int = 1000):
    """Batches of documents: paragraphs of 2-3 random real sentences (so that chance repeats stay
    rare at any size), 5% exact reposts and 10% edited copies of earlier paragraphs (drawn from a
    bounded pool, so the generator's memory does not grow with the corpus and the measured growth
    is the index's)."""
    rng = random.Random(seed)
    vocabulary = [w for s in rng.sample(sentences, 2000) for w in s.split()]
    pool: list[str] = []
    made = 0
    while made < paragraphs:
        texts = []
        for _ in range(min(per_doc * docs_per_batch, paragraphs - made)):
            draw = rng.random()
            if pool and draw < 0.05:
                text = rng.choice(pool)
            elif pool and draw < 0.15:
                text = edit(rng.choice(pool), rng.choice(EDIT_TYPES), rng.choice(EDIT_RATES), vocabulary, rng)
            else:
                text = " ".join(rng.sample(sentences, rng.randint(2, 3)))
            if len(pool) < 20000:
                pool.append(text)
            else:
                pool[rng.randrange(len(pool))] = text
            texts.append(text)
        yield as_documents(texts, per_doc, prefix=f"s{made}-")
        made += len(texts)


def memory_status(field: str) -> int:
    """Bytes of a /proc/self/status field: VmRSS (now) or VmHWM (peak of this process image; unlike
    ru_maxrss, which Linux carries over from the parent across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def scaling_worker(paragraphs: int, seed: int) -> dict[str, Any]:
    """One corpus size in this (fresh) process: time in `process` only, index bytes, peak RSS."""
    sentences = real_sentences(real_paragraphs())
    dedup = Deduplicator(DedupOptions())
    gc.collect()
    baseline_rss = memory_status("VmRSS")
    seconds = 0.0
    flagged = 0
    for docs in scaling_batches(sentences, paragraphs, seed):
        start = time.perf_counter()
        dedup.process(docs)
        seconds += time.perf_counter() - start
        flagged += sum(1 for d in docs for line in d.lines if line.duplicate_of)
    peak_rss = memory_status("VmHWM")
    return {
        "paragraphs": paragraphs,
        "compared": len(dedup.paragraphs),
        "flagged": flagged,
        "seconds": seconds,
        "per_second": paragraphs / seconds,
        "state_bytes": dedup.nbytes,
        "state_bytes_per_paragraph": dedup.nbytes / paragraphs,
        "peak_rss_bytes": peak_rss,
        "rss_before_bytes": baseline_rss,
        "peak_rss_above_start_bytes": peak_rss - baseline_rss,
    }


def scaling(sizes: list[int], seed: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        result = subprocess.run(
            [sys.executable, __file__, "--scaling-worker", str(size), "--seed", str(seed)],
            check=True, capture_output=True, text=True,
        )
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(f"  scaling {size}: {rows[-1]}", flush=True)
    return rows


# ------------------------------------------------------------------------- incremental == one-shot


def flag_map(docs: list[Document]) -> dict[str, Any]:
    return {
        f"{doc.id}:{line.number}": [line.duplicate_of.doc_id, line.duplicate_of.line, line.duplicate_of.similarity]
        for doc in docs
        for line in doc.lines
        if line.duplicate_of
    } | {f"{doc.id}:near": doc.near_duplicates for doc in docs if doc.near_duplicates}


def incremental(paragraphs: list[str], seed: int, tmp: Path) -> dict[str, Any]:
    """The same corpus as one batch, as two batches in one process, and as two runs sharing a
    saved index (documents of 5 paragraphs, so near-duplicate documents are compared too)."""
    rng = random.Random(seed)
    texts, _ = edited_corpus(rng.sample(paragraphs, 4000), 4000, rng)
    options = DedupOptions()
    one_shot = flag_map(Deduplicator(options).process(as_documents(texts, per_doc=5)))
    docs = as_documents(texts, per_doc=5)
    half = len(docs) // 2
    two_batches = Deduplicator(options)
    two = flag_map(two_batches.process(docs[:half]) + two_batches.process(docs[half:]))
    index = tmp / "dedup-bench-index.npz"
    index.unlink(missing_ok=True)
    docs = as_documents(texts, per_doc=5)
    first = Deduplicator(options, index_path=index)
    first.process(docs[:half])
    first.save()
    second = Deduplicator(options, index_path=index)
    second.process(docs[half:])
    persisted = flag_map(docs)
    index_bytes = index.stat().st_size
    index.unlink()
    return {
        "paragraphs": len(texts),
        "flags_one_shot": len(one_shot),
        "two_batches_equal": two == one_shot,
        "two_runs_with_saved_index_equal": persisted == one_shot,
        "saved_index_bytes_after_first_half": index_bytes,
    }


# --------------------------------------------------------------------------------------- telegram


def telegram_posts() -> list[dict[str, Any]]:
    posts = []
    for path in sorted(TELEGRAM.glob("*_messages.json")):
        posts += [p for p in json.loads(path.read_text(encoding="utf-8")) if (p.get("text") or "").strip()]
    return sorted(posts, key=lambda p: (p["date"], p["sender_id"], p["message_id"]))  # input order = time


def telegram_documents(posts: list[dict[str, Any]], cleaned: bool) -> list[Document]:
    """One document per post. Cleaned: `classify.clean.clean_documents` in batches of 500 with
    repetition counted per channel across batches (as a long-running pipeline would). Raw: every
    non-blank line is a paragraph."""
    from classify.clean import clean_documents
    from classify.clean.repetition import SourceLineCounts

    docs = [
        Document(id=f"{p['sender_id']}:{p['message_id']}", text=p["text"], source=f"telegram/{p['sender_id']}",
                 metadata={"source": p["channel"]})
        for p in posts
    ]
    if cleaned:
        counts = SourceLineCounts()
        for begin in range(0, len(docs), 500):
            clean_documents(docs[begin : begin + 500], counts=counts)
    else:
        for doc in docs:
            doc.lines = [Line(number=i, text=t, status="content" if t.strip() else "blank")
                         for i, t in enumerate(doc.text.splitlines(), start=1)]
    return docs


def telegram(sample_size: int, seed: int) -> dict[str, Any]:
    """Posts of 12 channels in time order (the earliest post of a cluster is canonical), deduplicated
    raw and after cleaning; the hand-checked sample comes from the cleaned run."""
    posts = telegram_posts()
    channel = {f"{p['sender_id']}:{p['message_id']}": p["channel"] for p in posts}
    text = {f"{p['sender_id']}:{p['message_id']}": p["text"] for p in posts}

    def shown(post_id: str, line: int | None = None) -> str:
        body = text[post_id] if line is None else text[post_id].splitlines()[line - 1]
        return " ".join(body.split())[:220]

    runs = {}
    for mode in ("raw lines", "cleaned"):
        docs = telegram_documents(posts, cleaned=mode == "cleaned")
        dedup = Deduplicator(DedupOptions())
        start = time.perf_counter()
        for begin in range(0, len(docs), 500):
            dedup.process(docs[begin : begin + 500])
        seconds = time.perf_counter() - start
        paragraph_clusters = dedup.paragraph_clusters()
        paragraph_channels = [{channel[post] for post, _ in m} for m in paragraph_clusters]
        post_clusters = dedup.document_clusters()
        post_channels = [{channel[d] for d in m} for m in post_clusters]
        largest = sorted(zip(paragraph_clusters, paragraph_channels), key=lambda c: -len(c[0]))[:6]
        runs[mode] = {
            "docs": docs,
            "summary": {
                "mode": mode,
                "seconds": seconds,
                "paragraphs_compared": len(dedup.paragraphs),
                "duplicate_paragraphs": sum(1 for d in docs for line in d.lines if line.duplicate_of),
                "paragraph_clusters": len(paragraph_clusters),
                "paragraph_clusters_cross_channel": sum(1 for c in paragraph_channels if len(c) > 1),
                "near_duplicate_posts": sum(1 for d in docs if d.near_duplicates),
                "post_clusters": len(post_clusters),
                "post_clusters_cross_channel": sum(1 for c in post_channels if len(c) > 1),
                "post_cluster_sizes": dict(sorted(Counter(len(m) for m in post_clusters).items())),
                "largest_paragraph_clusters": [
                    {"size": len(m), "channels": sorted(c),
                     "text": shown(*m[0])[:120]}
                    for m, c in largest
                ],
            },
        }
        print(f"  telegram {mode}: {runs[mode]['summary']}", flush=True)

    docs = runs["cleaned"]["docs"]
    review = json.loads(REVIEW.read_text(encoding="utf-8")) if REVIEW.exists() else {}
    post_pairs = [(d.id, d.near_duplicates[0]["doc_id"], d.near_duplicates[0]["jaccard"]) for d in docs if d.near_duplicates]
    paragraph_pairs = [
        (f"{d.id}#{line.number}", f"{line.duplicate_of.doc_id}#{line.duplicate_of.line}", line.duplicate_of.similarity)
        for d in docs
        for line in d.lines
        if line.duplicate_of and channel[d.id] != channel[line.duplicate_of.doc_id]
    ]

    def shown_key(key: str) -> str:
        post, _, line = key.partition("#")
        return f"[{channel[post]}] {shown(post, int(line) if line else None)}"

    sample = []
    for kind, pairs in (
        ("post, cross-channel", [p for p in post_pairs if channel[p[0]] != channel[p[1]]]),
        ("post, same channel", [p for p in post_pairs if channel[p[0]] == channel[p[1]]]),
        ("paragraph, cross-channel", paragraph_pairs),
    ):
        # Bottom-k by a hash of the pair: a pair stays in the sample while it is found at all,
        # so a change elsewhere (e.g. in the cleaner) moves the sample little.
        for later, earlier, jaccard in sorted(pairs, key=lambda p: _stable_rank(f"{seed}|{p[0]}|{p[1]}"))[:sample_size]:
            key = f"{later}|{earlier}"
            sample.append({"kind": kind, "key": key, "jaccard": jaccard, "later": shown_key(later),
                           "earlier": shown_key(earlier), **review.get(key, {"verdict": "unchecked", "note": ""})})
    return {
        "posts": len(posts),
        "channels": len(set(channel.values())),
        "runs": [runs[mode]["summary"] for mode in runs],
        "sample": sample,
    }


def _stable_rank(text: str) -> int:
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big")


# ----------------------------------------------------------------------------------------- report


def markdown(results: dict[str, Any]) -> str:
    out = [f"# Dedup benchmark\n\nCommand: `{results['command']}`  \nMachine: {results['machine']}\n"]
    acc = results["accuracy"]
    out.append(
        f"## Accuracy against exact Jaccard\n\n{acc['base_paragraphs']} real news paragraphs + {acc['edited_copies']} "
        f"copies made by known edits ({'/'.join(EDIT_TYPES)} at {', '.join(f'{r:.0%}' for r in EDIT_RATES)} of the words; "
        "10% exact copies; copies of copies allowed), shuffled, one paragraph per document. Truth: exact Jaccard of the 5-word shingle "
        "sets over all pairs. A paragraph *should be flagged* when some earlier paragraph has J >= t. "
        "*Pair recall*: true pairs that end in one cluster. Baseline: datasketch `MinHashLSH` (its default banding "
        "for t, same signatures) flagging any earlier LSH hit, without verification.\n"
    )
    out.append("| t | paragraphs | true pairs | should flag | flagged | precision | recall | pair recall | datasketch LSH precision | datasketch LSH recall | seconds |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in acc["rows"]:
        out.append(
            f"| {r['threshold']} | {r['paragraphs']} | {r['true_pairs']} | {r['should_flag']} | {r['flagged']} | "
            f"{r['flag_precision']:.4f} | {r['flag_recall']:.4f} | {r['pair_recall']:.4f} | "
            f"{r['datasketch_lsh_precision']:.4f} | {r['datasketch_lsh_recall']:.4f} | {r['seconds']:.2f} |"
        )
    out.append("\nEdited copies found at t = 0.8, by edit (only copies whose exact J with their source is >= 0.8 count):\n")
    out.append("| edit | rate | copies | J >= 0.8 | found |")
    out.append("|---|---|---|---|---|")
    for r in acc["recall_by_edit_at_0.8"]:
        rate = f"{r['rate']:.0%}" if r["rate"] else "-"
        out.append(f"| {r['edit']} | {rate} | {r['copies']} | {r['at_or_above_threshold']} | {r['found']} |")
    thr = results["throughput"]
    out.append(
        f"\n## Signature throughput\n\n{thr['sentences']} real news sentences (mean {thr['mean_words']:.1f} words), "
        f"{thr['num_perm']} permutations, {thr['shingle_size']}-word shingles, one process, same run. Ours starts "
        "from raw text; peers get prebuilt shingle lists (their best case). Building those lists in Python alone runs "
        f"at {thr['python_shingling_per_second']:,.0f} sentences/s.\n"
    )
    ours = next(r for r in thr["rows"] if r["method"].startswith("classify.dedup (raw"))
    shingling = thr["python_shingling_seconds"]
    out.append(
        "The last column puts everyone on the same input, raw text: a peer's time plus the Python shingling it needs "
        "(ours already includes its normalisation and shingling).\n"
    )
    out.append("| method | sentences/s | ours (raw text) ÷ method | from raw text, sentences/s |")
    out.append("|---|---|---|---|")
    for r in thr["rows"]:
        raw = r["per_second"] if r["method"].startswith("classify.dedup") else thr["sentences"] / (r["seconds"] + shingling)
        shown = "" if "shingle hashes" in r["method"] else f"{raw:,.0f}"
        out.append(f"| {r['method']} | {r['per_second']:,.0f} | {ours['per_second'] / r['per_second']:.2f}x | {shown} |")
    if thr["peers_missing"]:
        out.append(f"\nMissing peers: {', '.join(thr['peers_missing'])}")
    idx = results["index_throughput"]
    out.append(f"\n## Index insert + query\n\n{idx['paragraphs']} real news paragraphs, t = {idx['threshold']}, signatures precomputed (except the whole-stage row).\n")
    out.append("| method | paragraphs/s |")
    out.append("|---|---|")
    for r in idx["rows"]:
        out.append(f"| {r['method']} | {r['per_second']:,.0f} |")
    tpl = results["templated"]
    out.append(
        f"\nTemplated text (the worst case for verification: {tpl['paragraphs']:,} paragraphs of one template with two "
        f"numbers changed, {tpl['distinct']:,} distinct, each with many earlier paragraphs at J ~0.4-0.6): classify.dedup "
        f"(whole stage, batches of 1,000) {tpl['per_second']:,.0f} paragraphs/s, {tpl['flagged']} flagged (exact J >= 0.8); "
        f"datasketch MinHashLSH query+insert {tpl['datasketch_lsh_per_second']:,.0f} paragraphs/s, "
        f"{tpl['datasketch_lsh_flagged']:,} flagged by an LSH hit alone.\n"
    )
    out.append(
        "\n## Scaling\n\nParagraphs of 2-3 real sentences, 5% exact and 10% edited copies, 10 paragraphs per document, "
        "batches of 1,000 documents, each size in a fresh process. Time is inside `Deduplicator.process` only; "
        "state = bytes of the index arrays; peak RSS = the process high-water mark (VmHWM), also shown above the RSS "
        "at the start (after loading the source text and the interpreter).\n"
    )
    out.append("| paragraphs | seconds | paragraphs/s | flagged | state MB | state bytes/paragraph | peak RSS MB | peak RSS above start MB |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in results["scaling"]:
        out.append(
            f"| {r['paragraphs']:,} | {r['seconds']:.1f} | {r['per_second']:,.0f} | {r['flagged']:,} | "
            f"{r['state_bytes'] / 1e6:.1f} | {r['state_bytes_per_paragraph']:.0f} | {r['peak_rss_bytes'] / 1e6:.0f} | "
            f"{r['peak_rss_above_start_bytes'] / 1e6:.0f} |"
        )
    inc = results["incremental"]
    out.append(
        f"\n## Incremental == one-shot\n\n{inc['paragraphs']} paragraphs (documents of 5), {inc['flags_one_shot']} flags "
        f"(duplicate paragraphs + near-duplicate documents) in one batch. Two batches in one process: "
        f"**{'identical' if inc['two_batches_equal'] else 'DIFFERENT'}**. Two runs sharing a saved index: "
        f"**{'identical' if inc['two_runs_with_saved_index_equal'] else 'DIFFERENT'}** "
        f"(index after the first half: {inc['saved_index_bytes_after_first_half'] / 1e6:.1f} MB).\n"
    )
    tg = results["telegram"]
    out.append(
        f"## Telegram reposts\n\n{tg['posts']} posts of {tg['channels']} channels in time order (the earliest post of a "
        "cluster is canonical), one document per post, t = 0.8, deduplicated twice: every non-blank line as a "
        "paragraph (raw), and after `classify.clean` (channel signatures become noise, so what remains is news text).\n"
    )
    out.append("| run | seconds | paragraphs compared | duplicate paragraphs | paragraph clusters (cross-channel) | near-duplicate posts | post clusters (cross-channel) | post cluster sizes |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in tg["runs"]:
        out.append(
            f"| {r['mode']} | {r['seconds']:.1f} | {r['paragraphs_compared']} | {r['duplicate_paragraphs']} | "
            f"{r['paragraph_clusters']} ({r['paragraph_clusters_cross_channel']}) | {r['near_duplicate_posts']} | "
            f"{r['post_clusters']} ({r['post_clusters_cross_channel']}) | {r['post_cluster_sizes']} |"
        )
    for r in tg["runs"]:
        out.append(f"\nLargest paragraph clusters, {r['mode']}:\n")
        out.append("| size | channels | text |")
        out.append("|---|---|---|")
        for c in r["largest_paragraph_clusters"]:
            out.append(f"| {c['size']} | {_cell(', '.join(c['channels']))} | {_cell(c['text'])} |")
    out.append("\nSample from the cleaned run, checked by hand (verdicts in `benchmarks/dedup_telegram_review.json`):\n")
    out.append("| kind | J | later | earlier | verdict | note |")
    out.append("|---|---|---|---|---|---|")
    for s in tg["sample"]:
        out.append(
            f"| {s['kind']} | {s['jaccard']:.2f} | {_cell(s['later'])} | {_cell(s['earlier'])} | {s['verdict']} | {_cell(s.get('note', ''))} |"
        )
    verdicts = Counter(s["verdict"] for s in tg["sample"])
    out.append(f"\nVerdicts: {dict(verdicts)}\n")
    review = json.loads(REVIEW.read_text(encoding="utf-8")) if REVIEW.exists() else {}
    out.append(
        f"All pairs checked by hand so far, this sample and earlier ones (the sample moves when `classify.clean` "
        f"changes): {dict(Counter(v['verdict'] for v in review.values()))}. Those that are not plain reposts:\n"
    )
    for key, v in review.items():
        if v["verdict"] not in ("repost", "edited repost"):
            out.append(f"- `{key}`: **{v['verdict']}**: {v['note']}")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.2))
    rows = results["accuracy"]["rows"]
    t = [r["threshold"] for r in rows]
    left.plot(t, [r["flag_precision"] for r in rows], "o-", label="classify.dedup precision")
    left.plot(t, [r["flag_recall"] for r in rows], "s-", label="classify.dedup recall")
    left.plot(t, [r["datasketch_lsh_precision"] for r in rows], "o--", label="datasketch LSH precision")
    left.plot(t, [r["datasketch_lsh_recall"] for r in rows], "s--", label="datasketch LSH recall")
    left.set(xlabel="Jaccard threshold", ylabel="vs exact Jaccard", title="Accuracy", ylim=(0, 1.02))
    left.legend(fontsize=8)
    thr = results["throughput"]["rows"]
    middle.barh([r["method"].replace(" (", "\n(") for r in thr], [r["per_second"] for r in thr])
    middle.set(xscale="log", xlabel="sentences / s (log)", title="Signatures, 128 perm")
    middle.tick_params(axis="y", labelsize=6)
    scale = results["scaling"]
    n = [r["paragraphs"] for r in scale]
    right.loglog(n, [r["seconds"] for r in scale], "o-", label="seconds")
    right.loglog(n, [r["state_bytes"] / 1e6 for r in scale], "s-", label="index state MB")
    right.loglog(n, [r["peak_rss_bytes"] / 1e6 for r in scale], "^-", label="peak RSS MB")
    right.set(xlabel="paragraphs", title="Scaling (log-log)")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


# ------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small corpora, scaling up to 100k")
    size.add_argument("--full", action="store_true", help="larger accuracy corpus and throughput sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render", action="store_true", help="only rebuild dedup.md/png from dedup.json and the review file")
    parser.add_argument("--scaling-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        results = json.loads((args.out / "dedup.json").read_text(encoding="utf-8"))
        review = json.loads(REVIEW.read_text(encoding="utf-8")) if REVIEW.exists() else {}
        for row in results["telegram"]["sample"]:
            row.update(review.get(row["key"], {"verdict": "unchecked", "note": ""}))
        write_results(results, args.out)
        return
    if not LABELS.is_dir() or not TELEGRAM.is_dir():
        print(f"SKIPPED: shared data not found at {SHARED} (needs data/labels and data/telegram beside the repo)")
        return
    if args.scaling_worker:
        print(json.dumps(scaling_worker(args.scaling_worker, args.seed)))
        return
    paragraphs = real_paragraphs()
    sentences = real_sentences(paragraphs)
    rng = random.Random(args.seed)
    print(f"{len(paragraphs)} real paragraphs, {len(sentences)} sentences", flush=True)
    results: dict[str, Any] = {
        "command": "python benchmarks/dedup.py" + (" --quick" if args.quick else " --full" if args.full else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, numpy {np.__version__}",
    }
    base, copies = (2000, 2000) if args.quick else (8000, 8000) if args.full else (5000, 5000)
    results["accuracy"] = accuracy(paragraphs, base, copies, args.seed)
    results["throughput"] = throughput(rng.sample(sentences, 20000 if not args.full else 50000))
    results["index_throughput"] = index_throughput(rng.sample(paragraphs, 20000))
    results["templated"] = templated(20000, args.seed)
    results["incremental"] = incremental(paragraphs, args.seed, args.out)
    results["scaling"] = scaling([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000], args.seed)
    results["telegram"] = telegram(sample_size=10, seed=args.seed)
    write_results(results, args.out)


def write_results(results: dict[str, Any], out: Path) -> None:
    write_text_atomically(out / "dedup.json", json.dumps(results, ensure_ascii=False, indent=1))
    write_text_atomically(out / "dedup.md", markdown(results))
    plot(results, out / "dedup.png")
    print(f"wrote {out / 'dedup.json'}, dedup.md, dedup.png")


if __name__ == "__main__":
    main()
