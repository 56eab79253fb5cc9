"""Where the time of `classify run` goes, per stage, against corpus size.

    python benchmarks/stages.py [--sizes 10000 100000] [--rate 20]

The scale benchmark (`benchmarks/scale.py`) says whether time per document grows with the corpus;
this one says which stage makes it grow. Each size runs `python -m classify run --jobs 1` over the
scale benchmark's corpus (same files, same builder) under the sampling profiler py-spy
(`--nonblocking`: the profiled process is never paused), and every sample is charged to the
outermost pipeline stage on its stack. A stage's milliseconds per document are its share of the
samples times the run's wall time, divided by the documents; "other" is start-up, model loading
and the pipeline's own loop. Sampling error: a stage's share is a count of about rate x seconds
samples, so shares under 1% of a short run are noise.

Writes benchmarks/results/stages.{json,md}. Needs py-spy (`bench` extra) and the shared data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import scale  # noqa: E402  (benchmarks/ is not a package)
from provenance import git_commit  # noqa: E402

from classify.writers import write_text_atomically  # noqa: E402

# Outermost match wins: the first pass's reading is "count lines", not "read".
STAGES = (
    ("count lines (first pass)", "count_corpus_lines", "pipeline.py"),
    ("read", "read_batch", "readers.py"),
    ("clean", "clean_documents", "stage.py"),
    ("language", "detect_language", "language.py"),
    ("classify", "classify_documents", "bundle.py"),
    ("encode", "encode_records", "pipeline.py"),
    ("dedup: shingles + MinHash", "sketch_batch", "pipeline.py"),
    ("dedup: index", "deduplicate", "pipeline.py"),
    ("write + checkpoint", "Checkpoint.write", "checkpoint.py"),
    ("write + checkpoint", "Checkpoint.finish", "checkpoint.py"),
    ("write + checkpoint", "Deduplicator.save", "stage.py"),  # the index saved at the end
)
OTHER = "other"


def stage_names() -> list[str]:
    return list(dict.fromkeys(stage for stage, _, _ in STAGES)) + [OTHER]


def stage_of(stack: str) -> str:
    """The outermost stage on a py-spy raw stack ("fn (path:line);fn (path:line);...")."""
    for frame in stack.split(";"):
        name, _, where = frame.partition(" (")
        file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1]
        for stage, function, module in STAGES:
            if name == function and file == module:
                return stage
    return OTHER


def samples_by_stage(profile: Path) -> Counter:
    counts: Counter = Counter()
    for line in profile.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            counts[stage_of(stack)] += int(count)
    return counts


def profile_run(n_docs: int, rate: int) -> dict:
    corpus = scale.corpus(n_docs)
    out, profile = scale.WORK / f"stages-out-{n_docs}.jsonl", scale.WORK / f"stages-profile-{n_docs}.txt"
    command = [
        "py-spy", "record", "--nonblocking", "-f", "raw", "-r", str(rate), "-o", str(profile), "--",
        sys.executable, "-m", "classify", "run", str(corpus), "-o", str(out), "--quiet", "--jobs", "1",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    counts = samples_by_stage(profile)
    total = sum(counts.values())
    stages = {
        stage: {"share": counts[stage] / total, "ms_per_doc": counts[stage] / total * seconds / n_docs * 1000}
        for stage in stage_names()
    }
    for path in (out, out.with_name(out.stem + ".errors.jsonl")):
        path.unlink(missing_ok=True)
    return {"documents": n_docs, "seconds": round(seconds, 2), "samples": total, "stages": stages}


def write_results(rows: list[dict], meta: dict) -> None:
    write_text_atomically(scale.RESULTS / "stages.json", json.dumps({"meta": meta, "rows": rows}, indent=2))
    names = stage_names()
    lines = [
        "# Stages: milliseconds per document of `classify run --jobs 1`, by corpus size",
        "",
        f"Command: `{meta['command']}` at commit {meta['commit']}; machine {meta['machine']}; "
        f"py-spy at {meta['rate']} samples/s. A stage's time is its share of the samples times the wall time.",
        "",
        "| stage | " + " | ".join(f"{r['documents']:,} docs" for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for name in names:
        cells = [f"{r['stages'][name]['ms_per_doc']:.3f} ({r['stages'][name]['share']:.1%})" for r in rows]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **total (wall)** | " + " | ".join(f"**{r['seconds'] / r['documents'] * 1000:.3f}**" for r in rows) + " |")
    write_text_atomically(scale.RESULTS / "stages.md", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--rate", type=int, default=20, help="py-spy samples per second")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        sys.exit("py-spy is not installed: pip install -e '.[bench]'")
    if not scale.SHARED.exists():
        sys.exit(f"shared data not found at {scale.SHARED}: this benchmark needs ../shared/data/labels")
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": shlex.join(["python", "benchmarks/stages.py", *sys.argv[1:]]),
        "commit": git_commit(),
        "rate": args.rate,
    }
    rows = []
    for n_docs in args.sizes:
        rows.append(profile_run(n_docs, args.rate))
        print(json.dumps({"documents": n_docs, "seconds": rows[-1]["seconds"]}), flush=True)
        write_results(rows, meta)


if __name__ == "__main__":
    main()
