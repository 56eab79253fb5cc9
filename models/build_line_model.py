"""Build the cleaner's classifiers: `models/clean_blocks` (HTML blocks) and `models/clean_lines`
plus `models/clean_lines_stacked` (plain-text lines: per-line stage and document-context stage),
as npz + JSON, from the Scrapinghub article-extraction benchmark pages.

    python models/build_line_model.py [--folds 4] [--random-state 0] [--out models]

Deterministic for a given random state. The seeds (`seeds/`) are never read: they stay a test.
See `classify/clean/training.py` for how the line-level gold is derived.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classify.clean.training import BENCHMARK_DIR, fit_models, load_benchmark_pages  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--folds", type=int, default=4,
        help="grouped CV folds for choosing thresholds (and for the line model's out-of-fold stage-1 scores)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    if not BENCHMARK_DIR.exists():
        sys.exit(f"benchmark data not found at {BENCHMARK_DIR}")
    start = time.perf_counter()
    pages = load_benchmark_pages()
    thresholds = fit_models(pages, args.out, folds=args.folds, random_state=args.random_state)
    print(json.dumps(thresholds, indent=1))
    print(f"built {len(pages)} pages' models into {args.out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
