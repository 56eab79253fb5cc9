"""Scale benchmark: documents per second and peak memory of `classify run` against corpus size.

The corpus is made from real news text in ../shared/data/labels (Lenta.ru articles, RuSentNE
sentences): each document is 3-6 paragraphs of 2-4 sentences drawn at random, so documents are
distinct; 5% of them carry a paragraph copied from a recent document (a wire paragraph in several
outlets) and 1% are exact copies of an earlier document; every page is then wrapped in site
templates and page noise by `benchmarks/webnoise.py` (menus, tickers, trending lists with view
counts, credits, repeated paragraphs).

Every configuration runs `python -m classify run` in a subprocess over the same corpus file:
`--jobs 1`, `--jobs 2`, `--engine dask` with a 2-worker LocalCluster, and the halves reference
below. Time is wall-clock; memory is the peak resident set of the largest process of the run
(getrusage of the reaped subprocess tree); the local runs also save their dedup index (`--index`),
whose size is the part of the memory that grows with the corpus by design. With `--repeats N` the configs run N times,
interleaved, and the fastest run of each is reported with all their times. The run also measures
the bound that `--jobs 2`'s speed-up is to be read against, the config "2 x jobs 1, halves": two
independent `--jobs 1` runs side by side, one per half of the corpus, with no coordination at all
(on a shared VM the two cores slow each other down on this memory-heavy work).

Linearity is also judged inside each local run, where a drift of the host between runs cannot
fake it: every few seconds the run's checkpoint manifest (`OUTPUT.partial/manifest.json`) is read
for its count of input items done, and the rate over each tenth of the corpus is reported. A
rate that falls from tenth to tenth is a cost that grows with the corpus.

    python benchmarks/scale.py            # 10k and 100k documents
    python benchmarks/scale.py --full     # 10k, 100k and 1M documents (about an hour per 1M config)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data" / "labels"
RESULTS = HERE / "results"
WORK = Path(os.environ.get("CLASSIFY_BENCH_WORK", "/tmp/classify-scale"))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from provenance import git_commit  # noqa: E402  (benchmarks/ is not a package)
from webnoise import WebNoise  # noqa: E402

from classify.writers import write_text_atomically  # noqa: E402

HALVES = "2 x jobs 1, halves"
CONFIGS = {
    "jobs 1": ["--jobs", "1"],
    "jobs 2": ["--jobs", "2"],
    "dask 2 workers": ["--engine", "dask", "--workers", "2"],
    HALVES: ["--jobs", "1"],  # see run_config: the reference for what 2 processes can reach here
}
_MEASURE = (
    "import json, resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'maxrss_kib': u.ru_maxrss, 'cpu_seconds': u.ru_utime + u.ru_stime}))\n"
    "sys.exit(code)\n"
)
POLL_SECONDS = 5.0  # how often a running config's manifest is read for its progress
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[А-ЯЁA-Z«\"])")


def sentence_pool() -> list[str]:
    """Real Russian news sentences: Lenta.ru article bodies split into sentences, and RuSentNE sentences."""
    sentences: list[str] = []
    with open(SHARED / "lenta_news9_asryan" / "train_news.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            sentences += [s.strip() for s in _SENTENCE.split(row["content"].replace("\n", " ")) if len(s.split()) >= 5]
    for name in ("train_data.csv", "validation_data_labeled.csv"):
        with open(SHARED / "rusentne2023" / name, encoding="utf-8") as f:
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            sentences += [row[0].strip() for row in reader if row and len(row[0].split()) >= 5]
    return sorted(set(sentences))


def build_corpus(path: Path, n_docs: int, seed: int = 0, chunk: int = 200) -> None:
    """Write `n_docs` noisy documents as JSONL (`id`, `source`, `text`), deterministically."""
    rng = random.Random(seed)
    pool = sentence_pool()
    recent: list[list[str]] = []  # paragraphs of recent documents, for wire copies and exact copies
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for start in range(0, n_docs, chunk):
            bodies = []
            for _ in range(min(chunk, n_docs - start)):
                if recent and rng.random() < 0.01:
                    paragraphs = list(rng.choice(recent))
                else:
                    paragraphs = [" ".join(rng.sample(pool, rng.randint(2, 4))) for _ in range(rng.randint(3, 6))]
                    if recent and rng.random() < 0.05:
                        paragraphs.insert(rng.randint(1, len(paragraphs)), rng.choice(rng.choice(recent)))
                recent = (recent + [paragraphs])[-500:]
                bodies.append("\n".join(paragraphs))
            noisy, sites = WebNoise("ru", sites=20, random_state=seed * 1_000_003 + start).transform(bodies)
            for offset, (text, site) in enumerate(zip(noisy, sites)):
                record = {"id": f"doc{start + offset:07d}", "source": site, "text": text}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)


def corpus(n_docs: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"corpus-{n_docs}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        build_corpus(path, n_docs)
        print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def halves(corpus_path: Path) -> tuple[Path, Path]:
    """The corpus cut in two files of equal document count (made once, beside it)."""
    parts = (corpus_path.with_name(f"{corpus_path.stem}-half1.jsonl"), corpus_path.with_name(f"{corpus_path.stem}-half2.jsonl"))
    if not all(part.exists() for part in parts):
        with open(corpus_path, "rb") as f:
            lines = f.readlines()
        for part, chunk in zip(parts, (lines[: len(lines) // 2], lines[len(lines) // 2 :])):
            part.write_bytes(b"".join(chunk))
    return parts


def run_config(corpus_path: Path, args: list[str], label: str) -> dict:
    """One measured `classify run`; for HALVES, two `--jobs 1` runs side by side, one per half of
    the corpus: no coordination at all, so the speed-up that two processes can reach on this host
    with this workload (their output differs from one run's: dedup does not see across halves)."""
    inputs = halves(corpus_path) if label == HALVES else (corpus_path,)
    runs = []
    started = time.perf_counter()
    for number, part in enumerate(inputs):
        name = f"{corpus_path.stem}-{label.replace(' ', '_')}-{number}"
        out, index = WORK / f"out-{name}.jsonl", WORK / f"index-{name}.npz"
        command = [sys.executable, "-m", "classify", "run", str(part), "-o", str(out), "--quiet", *args]
        # The index's line counts live beside it; both go, or a rerun would start from the last run's.
        state = (index, index.with_name(index.name + ".lines.npz"))
        if "--engine" not in args:  # the local engine saves its dedup index: its size is the state that grows
            for path in state:
                path.unlink(missing_ok=True)
            command += ["--index", str(index)]
        # A fresh wrapper process per run: its RUSAGE_CHILDREN covers this run's process tree only
        # (ru_maxrss is the largest process of the tree, KiB on Linux).
        process = subprocess.Popen([sys.executable, "-c", _MEASURE, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs.append((process, out, index, state))
    progress = poll_progress([(process, out) for process, out, *_ in runs], started)
    results = [(process.communicate(), process.returncode) for process, *_ in runs]
    seconds = time.perf_counter() - started
    documents, cpu, rss, index_bytes, digests = 0, 0.0, 0, 0, []
    for ((stdout, stderr), code), (_, out, index, state) in zip(results, runs):
        if code not in (0, 1):
            raise RuntimeError(f"{label} failed ({code}): {stderr[-2000:]}")
        usage = json.loads(stdout.strip().splitlines()[-1])
        documents += sum(1 for _ in open(out, encoding="utf-8"))
        cpu += usage["cpu_seconds"]
        rss = max(rss, usage["maxrss_kib"])
        digests.append(_sha256(out))
        out.unlink()
        index_bytes += index.stat().st_size if index.exists() else 0
        for path in state:
            path.unlink(missing_ok=True)
    row = {
        "config": label,
        "documents": documents,
        "seconds": round(seconds, 2),
        "docs_per_second": round(documents / seconds, 1),
        "peak_rss_mb": round(rss / 1024, 1),
        "cpu_seconds": round(cpu, 1),
        "dedup_index_mb": round(index_bytes / 1e6, 1) if index_bytes else None,
        "output_sha256": "+".join(digests),
    }
    tenths = rate_by_tenth(progress[0], documents) if len(runs) == 1 and len(progress[0]) > 1 else []
    if any(rate is not None for rate in tenths):
        row["docs_per_second_by_tenth"] = tenths
    return row


def poll_progress(runs: list[tuple[subprocess.Popen, Path]], started: float) -> list[list[tuple[float, int]]]:
    """Until every run has ended: each run's (seconds since `started`, input items done) read from
    its checkpoint manifest, whenever the count changes. Empty for a run without a manifest (Dask)."""
    samples: list[list[tuple[float, int]]] = [[] for _ in runs]
    while running := [process for process, _ in runs if process.poll() is None]:
        for (_, out), seen in zip(runs, samples):
            try:
                done = json.loads(out.with_name(out.name + ".partial").joinpath("manifest.json").read_text())["items_done"]
            except (OSError, ValueError, KeyError):  # not written yet, or being replaced right now
                continue
            if not seen or done != seen[-1][1]:
                seen.append((time.perf_counter() - started, done))
        try:  # returns as soon as the process ends, so the run's wall time is not rounded up
            running[0].wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    return samples


def rate_by_tenth(samples: list[tuple[float, int]], total: int) -> list[float | None]:
    """Documents per second over each tenth of the `total` items, the time of reaching each tenth
    interpolated between the progress samples (None where the samples do not cover it)."""
    seconds, done = np.array(samples, dtype=float).T
    marks = np.linspace(0, total, 11)
    covered = (marks >= done[0]) & (marks <= done[-1])
    reached = np.interp(marks, done, seconds)
    rates = (total / 10) / np.maximum(np.diff(reached), 1e-9)
    return [round(float(rate), 1) if covered[k] and covered[k + 1] else None for k, rate in enumerate(rates)]


def best_runs(runs: list[dict]) -> dict:
    """The row of a config's fastest run (as timeit reports the minimum: slower runs measure the
    neighbours on a shared host), with every run's seconds beside it."""
    digests = {r["output_sha256"] for r in runs}
    if len(digests) > 1:
        raise RuntimeError(f"{runs[0]['config']}: repeated runs wrote different output ({sorted(digests)})")
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "seconds_all": [r["seconds"] for r in runs]}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def write_results(rows: list[dict], sizes: list[int], meta: dict) -> None:
    write_text_atomically(RESULTS / "scale.json", json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [
        "# Scale: `classify run` against corpus size",
        "",
        f"Machine: {meta['machine']}. Last command: `{meta.get('command', 'python benchmarks/scale.py')}`"
        " (rows of earlier commands are kept with `--merge`; each row names its commit).",
        "Peak RSS: the largest process of the run. CPU: user + system seconds of the whole process tree.",
        "Same output: SHA-256 of the output equal to that of `jobs 1` at the same size and commit. Seconds: the best of the repeats listed.",
        "Speed-up: against `jobs 1` at the same size and commit only (rows of other commits ran other code, on another day).",
        "",
        "| documents | config | seconds | repeats (s) | docs/s | speed-up vs jobs 1 | CPU s | peak RSS MB | dedup index MB | same output | commit |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|:---:|---|",
    ]
    for size in sizes:
        group = [r for r in rows if r["documents_in"] == size]
        base = next((r for r in group if r["config"] == "jobs 1"), None)
        for r in group:
            comparable = base and r.get("commit") == base.get("commit")
            speedup = f"{r['docs_per_second'] / base['docs_per_second']:.2f}x" if comparable else "-"
            # Another commit's output may differ by design (other models, rules): compare within a commit.
            same = "n/a" if r["config"] == HALVES or not comparable else "yes" if r["output_sha256"] == base["output_sha256"] else "no"
            lines.append(
                f"| {size:,} | {r['config']} | {r['seconds']} | {' / '.join(map(str, r.get('seconds_all', [r['seconds']])))} "
                f"| {r['docs_per_second']:,} | {speedup} | {r.get('cpu_seconds', '-')} | {r['peak_rss_mb']} "
                f"| {r['dedup_index_mb'] if r['dedup_index_mb'] is not None else '-'} | {same} "
                f"| {r.get('commit', '-')} |"
            )
    tenths = [r for r in rows if r.get("docs_per_second_by_tenth")]
    if tenths:
        lines += [
            "",
            "Within each run: documents per second over each tenth of the corpus, from the run's checkpoint",
            "manifest (-: a tenth that no two checkpoints enclose: before the first one, and in the run's",
            "last window, which ends with the run instead); the last column is the second half's rate over",
            "the first half's. Times between two checkpoints are interpolated, so tenths inside one checkpoint",
            "window (64 batches, 16,384 documents) share its rate: at 100k, neighbouring tenths often show one value.",
            "",
            "| documents | config | " + " | ".join(f"{k}0%" for k in range(1, 11)) + " | 2nd / 1st half | commit |",
            "|---:|---|" + "---:|" * 11 + "---|",
        ]
        for r in sorted(tenths, key=lambda r: (r["documents_in"], r["config"])):
            rates = r["docs_per_second_by_tenth"]
            halves_ratio = _half_ratio(rates)
            lines.append(
                f"| {r['documents_in']:,} | {r['config']} | " + " | ".join("-" if v is None else f"{v:,}" for v in rates)
                + f" | {'-' if halves_ratio is None else f'{halves_ratio:.2f}'} | {r.get('commit', '-')} |"
            )
    write_text_atomically(RESULTS / "scale.md", "\n".join(lines) + "\n")
    plot(rows, sizes)


def _half_ratio(rates: list[float | None]) -> float | None:
    """The second half's rate over the first half's, from the tenths that the samples cover; a
    half's rate is its tenths' harmonic mean (their time per document averaged)."""
    first, second = [v for v in rates[:5] if v], [v for v in rates[5:] if v]
    if not first or not second:
        return None
    return _harmonic_mean(second) / _harmonic_mean(first)


def _harmonic_mean(values: list[float]) -> float:
    return len(values) / sum(1 / v for v in values)


def plot(rows: list[dict], sizes: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(10, 4))
    for config in CONFIGS:
        points = sorted((r["documents_in"], r["seconds"], r["peak_rss_mb"]) for r in rows if r["config"] == config)
        if points:
            xs = [p[0] for p in points]
            ax_time.plot(xs, [p[1] for p in points], marker="o", label=config)
            ax_mem.plot(xs, [p[2] for p in points], marker="o", label=config)
    for ax, title in ((ax_time, "wall time (s)"), (ax_mem, "peak RSS of largest process (MB)")):
        ax.set_xscale("log")
        ax.set_xlabel("documents")
        ax.set_title(title)
        ax.legend()
    ax_time.set_yscale("log")
    fig.tight_layout()
    fig.savefig(RESULTS / "scale.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="include 1M documents")
    parser.add_argument("--sizes", type=int, nargs="*", help="corpus sizes (overrides --full)")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--merge", action="store_true", help="keep rows of earlier runs for other sizes/configs")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size and config, interleaved; the best is reported")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"skipped: the labelled news sets are not at {SHARED}")
    sizes = args.sizes or ([10_000, 100_000, 1_000_000] if args.full else [10_000, 100_000])
    rows = json.loads((RESULTS / "scale.json").read_text())["rows"] if args.merge and (RESULTS / "scale.json").exists() else []
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "command": shlex.join(["python", "benchmarks/scale.py", *sys.argv[1:]]),
        "commit": git_commit(),
    }
    print(json.dumps(meta), flush=True)
    for size in sizes:
        path = corpus(size)
        runs: dict[str, list[dict]] = {label: [] for label in args.configs}
        for _ in range(args.repeats):  # configs interleaved, so a slow spell of the host hits all
            for label in args.configs:
                runs[label].append(run_config(path, CONFIGS[label], label))
                print(json.dumps(runs[label][-1]), flush=True)
                # Written after every run: an hour-long 1M config is not lost to a later failure.
                row = {"documents_in": size, **best_runs(runs[label]), "commit": meta["commit"]}
                rows = [r for r in rows if (r["documents_in"], r["config"]) != (size, label)] + [row]
                write_results(rows, sorted({r["documents_in"] for r in rows}), meta)


if __name__ == "__main__":
    main()
