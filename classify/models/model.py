"""A trained text classifier on disk and in memory: hashed features + calibrated linear model.

On disk a model is a directory with `model.json` (format version, task, feature and classifier
parameters, labels, training record) and `model.npz` (idf and coefficients; loaded with
allow_pickle=False, so loading never executes code from the file).
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import platform
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp

from classify.models.features import HashedNgrams, weight
from classify.models.linear import CalibratedLinearClassifier

FORMAT = "classify-hashed-linear"
# 2: one expert per input domain (coef is domains x labels x buckets); 3: experts chosen by length.
FORMAT_VERSION = 3
TASKS = ("topic", "stance")
# Input domains of a model trained on a mix of plain and target-marked examples (stance): the
# expert used is chosen by whether the input names a target.
TARGET_DOMAINS = ("untargeted", "targeted")
# Input domains of a model trained on a mix of short texts (single sentences, headlines) and
# articles (topic): the expert used is chosen by the input's length, `article_min_chars`.
LENGTH_DOMAINS = ("short", "article")
# A single-domain model has ["any"].


class ModelError(RuntimeError):
    """A model directory is missing, incomplete, or was written by an incompatible version."""


def library_versions() -> dict[str, str]:
    from classify import __version__

    return {
        "classify": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": importlib.metadata.version("scikit-learn"),  # without importing it (see linear.py)
    }


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like np.savez_compressed, but byte-for-byte reproducible (fixed zip timestamps, sorted names)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            archive.writestr(info, buffer.getvalue())


@dataclass
class TextModel:
    """Features + classifier + what the card needs to say about them."""

    task: str
    features: HashedNgrams
    idf: np.ndarray
    classifier: CalibratedLinearClassifier
    info: dict[str, Any] = field(default_factory=dict)  # training data, command, metrics, versions
    domains: list[str] = field(default_factory=lambda: ["any"])  # names of the classifier's experts
    article_min_chars: int | None = None  # length from which an input is an article (LENGTH_DOMAINS)

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    def experts_for(self, texts: list[str], targeted: bool = False) -> np.ndarray:
        """The expert (index into `domains`) that reads each text: by whether a target is named for
        a model with TARGET_DOMAINS, by the text's length for LENGTH_DOMAINS, else expert 0."""
        if self.domains == list(LENGTH_DOMAINS):
            return np.array([len(text) >= self.article_min_chars for text in texts], dtype=np.int64)
        expert = self.domains.index(TARGET_DOMAINS[int(targeted)]) if self.domains == list(TARGET_DOMAINS) else 0
        return np.full(len(texts), expert, dtype=np.int64)

    def predict_proba(self, texts: list[str], n_jobs: int | None = None, targeted: bool = False) -> np.ndarray:
        """Calibrated class probabilities, columns in `labels` order, each text read by its expert
        (`experts_for`; `targeted`: the texts have a named target marked).

        Texts go in chunks to `n_jobs` threads (default: all cores); numpy and scipy release the
        GIL in the heavy loops, so the chunks run in parallel.
        """
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        n_jobs = n_jobs or os.cpu_count() or 1
        chunk = max(64, -(-len(texts) // (4 * n_jobs)))
        chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
        if n_jobs == 1 or len(chunks) == 1:
            return np.vstack([self._predict_chunk(c, targeted) for c in chunks])
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            return np.vstack(list(pool.map(lambda c: self._predict_chunk(c, targeted), chunks)))

    def _predict_chunk(self, texts: list[str], targeted: bool) -> np.ndarray:
        return self.proba_from_counts(self.features.counts(texts), self.experts_for(texts, targeted))

    def proba_from_counts(self, counts: sp.csr_matrix, experts: int | np.ndarray = 0) -> np.ndarray:
        """Probabilities from raw n-gram counts (`HashedNgrams.counts`), row i read by expert
        `experts[i]` (`experts_for`; one int for all rows); weights `counts` in place."""
        if counts.shape[0] == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self.classifier.predict_proba(weight(counts, self.idf), experts)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = self.classifier.to_arrays()
        arrays["idf"] = self.idf.astype(np.float16)
        meta_path, array_path = self.files(directory)
        write_npz(array_path, arrays)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "labels": self.labels,
            "domains": self.domains,
            "article_min_chars": self.article_min_chars,
            "features": self.features.get_params(),
            "classifier": {
                "C": self.classifier.C,
                "class_weight": self.classifier.class_weight,
                "calibration_folds": self.classifier.calibration_folds,
                "calibration_class_weight": self.classifier.calibration_class_weight,
                "tune_macro_f1": self.classifier.tune_macro_f1,
                "random_state": self.classifier.random_state,
                "calibrate_across_domains": self.classifier.calibrate_across_domains,
            },
            **self.info,
        }
        meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @staticmethod
    def files(directory: Path) -> tuple[Path, Path]:
        """The model's two files in `directory`: its metadata (JSON) and its arrays (npz)."""
        return directory / "model.json", directory / "model.npz"

    @classmethod
    def load(cls, directory: Path) -> TextModel:
        meta_path, array_path = cls.files(directory)
        for path in (meta_path, array_path):
            if not path.is_file():
                raise ModelError(f"model file {path} is missing (rebuild with `python models/build.py`)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ModelError(f"{meta_path}: format {meta.get('format')!r} is not {FORMAT!r}")
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                f"{meta_path}: model format version {meta.get('format_version')} but this classify reads "
                f"version {FORMAT_VERSION}; retrain it with this version (`classify train` or models/build.py)"
            )
        if meta.get("task") not in TASKS:
            raise ModelError(f"{meta_path}: unknown task {meta.get('task')!r}")
        with np.load(array_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        features = HashedNgrams(
            n_features=meta["features"]["n_features"],
            char_ngrams=tuple(meta["features"]["char_ngrams"]),
            stem_length=meta["features"]["stem_length"],
            max_chars=meta["features"]["max_chars"],
        )
        domains = meta.get("domains", ["any"])
        expected = (len(domains), len(meta["labels"]), features.n_features)
        if arrays["coef"].shape != expected or arrays["idf"].shape != (features.n_features,):
            raise ModelError(f"{array_path}: coefficient shape {arrays['coef'].shape}, expected {expected}")
        if list(arrays["classes"]) != meta["labels"]:
            raise ModelError(f"{array_path}: labels disagree with {meta_path}")
        classifier = CalibratedLinearClassifier.from_arrays(arrays, **meta["classifier"])
        if domains == list(LENGTH_DOMAINS) and not isinstance(meta.get("article_min_chars"), int):
            raise ModelError(f"{meta_path}: a model with length domains needs an integer article_min_chars")
        skip = ("format", "format_version", "task", "labels", "domains", "article_min_chars", "features", "classifier")
        info = {k: v for k, v in meta.items() if k not in skip}
        return cls(
            meta["task"], features, arrays["idf"].astype(np.float32), classifier, info, domains,
            meta.get("article_min_chars"),
        )
