"""Benchmark of the topic and stance models against TF-IDF + LinearSVC, fastText and the majority
class, prediction speed, and robustness to web noise.

    python benchmarks/models.py            # all sets, speed on 3,000 documents, robustness: ~14 min on
                                           # 2 cores shared with other jobs (fastText's grid is most of it)
    python benchmarks/models.py --quick    # speed on 1,000 documents, robustness on 500 quotes

Writes benchmarks/results/models.json, models.md, models.png and models_robustness.png. fastText
comes from the `bench` extra (fasttext-wheel); when it is missing the table says so.
Needs ../shared/data beside the repository; without it the script says so and exits.

Accuracy: on every label set, each peer is trained on that set's training split (the set's labels
mapped onto our scheme, classify/models/labelsets.py) and scored on its test split (official, or a
fixed stratified 80/20 split, seed 0). Columns:
- "ours (same data)": our recipe (classify.models.train with the defaults) trained on that split
  only, the like-for-like comparison with the peers;
- "shipped": the model in models/, trained once on all training splits together, with its
  prediction restricted to the labels the set uses (MasakhaNEWS: evaluation only, never trained on).
Robustness: test articles wrapped in synthetic web noise (benchmarks/webnoise.py), scored clean,
noisy as given to the model, and noisy after classify.clean + classify.dedup (flagged duplicates
dropped, and kept as `classify run` does by default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from classify.document import Document  # noqa: E402
from classify.models import classify_documents, load_models, train  # noqa: E402
from classify.models.bundle import text_to_classify  # noqa: E402
from classify.models.features import normalise  # noqa: E402
from classify.models.labelsets import LABEL_SETS, labels_root, load_label_set  # noqa: E402
from classify.models.training import metrics, predict_labels  # noqa: E402
from classify.writers import write_text_atomically  # noqa: E402
from webnoise import WebNoise  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
SEED = 0


# --- peers -------------------------------------------------------------------------------------


class Majority:
    name = "majority"

    def fit(self, texts, labels):
        self.label = Counter(labels).most_common(1)[0][0]
        return self

    def predict(self, texts):
        return [self.label] * len(texts)


class TfidfSvc:
    """The usual strong baseline: TF-IDF word 1-2 grams + char_wb 2-5 grams, LinearSVC."""

    name = "TF-IDF+LinearSVC"

    def fit(self, texts, labels):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline, make_union
        from sklearn.svm import LinearSVC

        self.pipeline = make_pipeline(
            make_union(
                TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
                TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5), min_df=2),
            ),
            LinearSVC(random_state=SEED),
        ).fit(texts, labels)
        return self

    def predict(self, texts):
        return list(self.pipeline.predict(texts))


class FastText:
    """fastText supervised (Joulin et al. 2017): word bigrams + char 3-5 subwords, 1 thread for
    determinism. On these small sets it is sensitive to lr/epochs, so (lr, epoch) is chosen among
    `GRID` on a stratified 20% of the training split, then refitted on all of it."""

    name = "fastText"
    GRID = ((1.0, 50), (0.2, 100), (0.5, 25))

    def _train(self, texts, labels, lr, epoch):
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            for text, label in zip(texts, labels):
                f.write(f"__label__{label} {normalise(text).strip()}\n")
            path = f.name
        try:
            return fasttext.train_supervised(
                path, lr=lr, epoch=epoch, wordNgrams=2, minn=3, maxn=5, dim=50, bucket=200_000,
                thread=1, seed=SEED, verbose=0,
            )
        finally:
            os.unlink(path)

    def fit(self, texts, labels):
        from classify.models.labelsets import LabelledExamples, stratified_split

        split = stratified_split(LabelledExamples(list(texts), list(labels), list(labels)), 0.2, SEED)
        scores = {}
        for lr, epoch in self.GRID:
            self.model = self._train(split["train"].texts, split["train"].labels, lr, epoch)
            scores[(lr, epoch)] = metrics(split["test"].labels, self.predict(split["test"].texts))["macro_f1"]
        self.params = max(scores, key=scores.get)
        self.model = self._train(texts, labels, *self.params)
        return self

    def predict(self, texts):
        labels, _ = self.model.predict([normalise(t).strip() for t in texts])
        return [row[0].removeprefix("__label__") for row in labels]


def fasttext_available() -> bool:
    try:
        import fasttext  # noqa: F401
    except ImportError:
        return False
    return True


def peer_inputs(texts, targets):
    """Peers see a targeted example as "sentence | target" (they have no other way to know it)."""
    return [f"{t} | {g}" for t, g in zip(texts, targets)] if targets else texts


# --- accuracy ----------------------------------------------------------------------------------


def accuracy_benchmark(bundle, use_fasttext: bool) -> dict[str, Any]:
    out = {}
    for name, (task, _, _, shippable) in LABEL_SETS.items():
        splits = load_label_set(name)
        train_split, test = splits["train"], splits["test"]
        row: dict[str, Any] = {"task": task, "n_train": len(train_split), "n_test": len(test), "shipped_trained_on_it": shippable}
        peers = [Majority(), TfidfSvc()] + ([FastText()] if use_fasttext else [])
        for peer in peers:
            start = time.perf_counter()
            peer.fit(peer_inputs(train_split.texts, train_split.targets), train_split.labels)
            predicted = peer.predict(peer_inputs(test.texts, test.targets))
            row[peer.name] = summary(metrics(test.labels, predicted), time.perf_counter() - start)
        start = time.perf_counter()
        ours = train(train_split.texts, train_split.labels, task, train_split.targets or None, seed=SEED)
        row["ours (same data)"] = summary(
            metrics(test.labels, predict_labels(ours, test.texts, test.targets or None)), time.perf_counter() - start
        )
        shipped = bundle.topic if task == "topic" else bundle.stance
        allowed = sorted(set(test.labels))
        row["shipped"] = summary(metrics(test.labels, predict_labels(shipped, test.texts, test.targets or None, allowed)))
        out[name] = row
        print(name, {k: v["macro_f1"] for k, v in row.items() if isinstance(v, dict)}, flush=True)
    return out


def summary(result: dict[str, Any], seconds: float | None = None) -> dict[str, Any]:
    out = {"accuracy": round(result["accuracy"], 4), "macro_f1": round(result["macro_f1"], 4)}
    if seconds is not None:
        out["fit_predict_seconds"] = round(seconds, 2)
    return out


# --- speed -------------------------------------------------------------------------------------


def speed_benchmark(bundle, n_docs: int, use_fasttext: bool) -> dict[str, Any]:
    """Documents per second of prediction on real news articles (Lenta + MasakhaNEWS test texts)."""
    lenta = load_label_set("lenta_news9_asryan")
    masakha = load_label_set("masakhanews_fra")
    texts = lenta["train"].texts + lenta["test"].texts + masakha["test"].texts
    texts = (texts * (n_docs // len(texts) + 1))[:n_docs]

    def docs():
        return [Document(id=str(i), text=t, source="bench") for i, t in enumerate(texts)]

    def best_of(fn, repeats=3):
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        return len(texts) / min(walls), len(texts) / statistics.median(walls), len(texts) / min(cpus)

    # classify_documents reads clean_text(), i.e. the lines: give every document its lines first.
    from classify.clean import split_lines

    prepared = docs()
    for doc in prepared:
        doc.lines = split_lines(doc)
    rows = {}
    rows["ours: classify_documents, topic + stance (2 threads)"] = best_of(lambda: classify_documents(prepared, bundle))
    rows["ours: classify_documents, topic + stance (1 thread)"] = best_of(
        lambda: classify_documents(prepared, bundle, n_jobs=1)
    )
    rows["ours: classify_documents, topic + stance toward a target (2 threads)"] = best_of(
        lambda: classify_documents(prepared, bundle, target="Россия")
    )
    rows["ours: topic only (1 thread)"] = best_of(lambda: bundle.topic.predict_proba(texts, n_jobs=1))
    train_split = load_label_set("lenta_news9_asryan")["train"]
    svc = TfidfSvc().fit(train_split.texts, train_split.labels)
    rows["TF-IDF+LinearSVC: topic only"] = best_of(lambda: svc.predict(texts))
    if use_fasttext:
        ft = FastText().fit(train_split.texts, train_split.labels)
        rows["fastText: topic only"] = best_of(lambda: ft.predict(texts))
    return {
        "n_docs": len(texts),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "cores": os.cpu_count(),
        "docs_per_second": {
            k: {"best": round(b), "median": round(m), "per_cpu_second": round(c)} for k, (b, m, c) in rows.items()
        },
    }


# --- robustness --------------------------------------------------------------------------------


def cleaned_texts(noisy: list[str], sites: list[str]) -> dict[str, list[str]]:
    """Clean every page and flag duplicated paragraphs; the texts the models then read, two ways:
    "noisy cleaned" is what `classify run --drop-duplicates` classifies (flagged duplicates dropped,
    unless they are most of the page: `text_to_classify`), "noisy cleaned, duplicates kept" what
    `classify run` classifies by default (duplicates flagged only)."""
    from classify.clean import clean_documents
    from classify.dedup import Deduplicator

    docs = [Document(id=str(i), text=t, source="bench", metadata={"source": s}) for i, (t, s) in enumerate(zip(noisy, sites))]
    docs = clean_documents(docs)
    docs = Deduplicator().process(docs)
    return {
        "noisy cleaned": [text_to_classify(doc, drop_duplicates=True) for doc in docs],
        "noisy cleaned, duplicates kept": [doc.clean_text(drop_duplicates=False) for doc in docs],
    }


def robustness_benchmark(bundle, n_quotes: int) -> dict[str, Any]:
    out = {}
    for name, language in (("lenta_news9_asryan", "ru"), ("masakhanews_fra", "fr")):
        splits = load_label_set(name)
        test = splits["test"]
        noisy, sites = WebNoise(language, random_state=SEED).transform(test.texts)
        cleaned = cleaned_texts(noisy, sites)
        allowed = sorted(set(test.labels))
        baseline = TfidfSvc().fit(splits["train"].texts, splits["train"].labels)
        row = {"task": "topic", "n": len(test), "noise_chars_share": noise_share(test.texts, noisy), "models": {}}
        for model_name, predict in (
            ("shipped", lambda texts: predict_labels(bundle.topic, texts, None, allowed)),
            ("TF-IDF+LinearSVC (same data)", baseline.predict),
        ):
            row["models"][model_name] = {
                condition: round(metrics(test.labels, predict(texts))["macro_f1"], 4)
                for condition, texts in {"clean": test.texts, "noisy raw": noisy, **cleaned}.items()
            }
        out[name] = row
        print("robustness", name, row["models"], flush=True)
    # Stance at document level: each ROMIP test quote is a page, its stance aggregated from sentences.
    test = load_label_set("romip2012_news_quotes")["test"].subset(np.arange(n_quotes))
    noisy, sites = WebNoise("ru", random_state=SEED).transform(test.texts)
    cleaned = cleaned_texts(noisy, sites)
    conditions = {}
    for condition, texts in {"clean": test.texts, "noisy raw": noisy, **cleaned}.items():
        docs = [Document(id=str(i), text=t, source="bench") for i, t in enumerate(texts)]
        from classify.clean import split_lines

        for doc in docs:
            doc.lines = split_lines(doc)
        classify_documents(docs, bundle)
        predicted = [doc.stance.label if doc.stance else "neutral" for doc in docs]
        conditions[condition] = round(metrics(test.labels, predicted)["macro_f1"], 4)
    out["romip2012_news_quotes (document stance)"] = {
        "task": "stance", "n": n_quotes, "noise_chars_share": noise_share(test.texts, noisy), "models": {"shipped": conditions}
    }
    print("robustness romip", conditions, flush=True)
    return out


def targeted_document_stance(bundle) -> dict[str, Any]:
    """RuSentRel author -> entity stance (held out: never trained on): whole analytical articles,
    a named target each, positive vs negative. Our prediction: the larger of the two probabilities
    in the document's stance distribution; a target never found counts as the majority label."""
    from classify.clean import split_lines
    from classify.models.labelsets import read_rusentrel_author

    data = read_rusentrel_author(labels_root() / "rusentrel_v1_1")
    predicted, found = [], 0
    for text, target in zip(data.texts, data.targets):
        doc = Document(id="rusentrel", text=text, source="bench")
        doc.lines = split_lines(doc)
        classify_documents([doc], bundle, target=target, n_jobs=1)
        if doc.stance is None:
            predicted.append("negative")
            continue
        found += 1
        p = dict(doc.stance.top)
        predicted.append("negative" if p.get("negative", 0) >= p.get("positive", 0) else "positive")
    majority = Counter(data.labels).most_common(1)[0][0]
    return {
        "n": len(data),
        "labels": dict(Counter(data.labels)),
        "target_found": found,
        "shipped": summary(metrics(data.labels, predicted)),
        "majority": summary(metrics(data.labels, [majority] * len(data))),
    }


def noise_share(clean: list[str], noisy: list[str]) -> float:
    return round(1 - sum(map(len, clean)) / sum(map(len, noisy)), 3)


# --- report ------------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    peers = ["majority", "TF-IDF+LinearSVC", "fastText", "ours (same data)", "shipped"]
    lines = [
        "# Topic and stance models benchmark",
        "",
        f"Command: `{results['command']}`  ",
        f"Machine: {results['machine']}",
        "",
        "## Accuracy on test splits (macro-F1 / accuracy)",
        "",
        "| set | task | n train / test | " + " | ".join(peers) + " |",
        "|---|---|---|" + "---|" * len(peers),
    ]
    for name, row in results["accuracy"].items():
        cells = []
        for peer in peers:
            if peer not in row:
                cells.append("not installed")
                continue
            cell = f"{row[peer]['macro_f1']:.3f} / {row[peer]['accuracy']:.3f}"
            best_peer = max(row[p]["macro_f1"] for p in ("TF-IDF+LinearSVC", "fastText") if p in row)
            if peer in ("ours (same data)", "shipped") and row[peer]["macro_f1"] >= best_peer:
                cell = f"**{cell}**"
            cells.append(cell)
        shipped_note = "" if row["shipped_trained_on_it"] else " (shipped: eval only)"
        lines.append(f"| {name}{shipped_note} | {row['task']} | {row['n_train']} / {row['n_test']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Bold: ours at or above the best of TF-IDF+LinearSVC and fastText. Labels are the set's labels mapped",
        "onto our scheme; \"shipped\" predicts only among the labels the set uses.",
        "",
        "## Prediction speed",
        "",
        f"{results['speed']['n_docs']} news articles (mean {results['speed']['mean_chars']} characters), "
        f"{results['speed']['cores']} cores shared with other jobs; wall-clock best and median of 3 runs,",
        "and documents per CPU-second of this process (less sensitive to the other jobs).",
        "",
        "| model | docs/s (best) | docs/s (median) | docs per CPU-second |",
        "|---|---|---|---|",
    ]
    for name, v in results["speed"]["docs_per_second"].items():
        lines.append(f"| {name} | {v['best']:,} | {v['median']:,} | {v['per_cpu_second']:,} |")
    t = results["targeted_document_stance"]
    lines += [
        "",
        "## Document stance toward a named target (RuSentRel author -> entity, held out)",
        "",
        f"{t['n']} (article, entity) pairs, {t['labels']}; target found in {t['target_found']} articles.",
        "",
        "| model | macro-F1 | accuracy |",
        "|---|---|---|",
        f"| majority | {t['majority']['macro_f1']:.3f} | {t['majority']['accuracy']:.3f} |",
        f"| shipped (classify_documents with --target) | {t['shipped']['macro_f1']:.3f} | {t['shipped']['accuracy']:.3f} |",
    ]
    lines += [
        "",
        "## Robustness to web noise (macro-F1)",
        "",
        "| set | model | noise share of chars | clean | noisy raw | noisy cleaned | cleaned - clean "
        "| cleaned, duplicates kept | kept - clean |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in results["robustness"].items():
        for model, v in row["models"].items():
            lines.append(
                f"| {name} | {model} | {row['noise_chars_share']:.2f} | {v['clean']:.3f} | {v['noisy raw']:.3f} | "
                f"{v['noisy cleaned']:.3f} | {v['noisy cleaned'] - v['clean']:+.3f} | "
                f"{v['noisy cleaned, duplicates kept']:.3f} | {v['noisy cleaned, duplicates kept'] - v['clean']:+.3f} |"
            )
    lines += [
        "",
        "\"noisy cleaned\": classify.clean, then every paragraph classify.dedup flags as a duplicate is dropped",
        "(repeated paragraphs within a page, and text already seen on an earlier page). \"duplicates kept\":",
        "the same cleaning, duplicates flagged but kept, which is what `classify run` classifies by default.",
        "They differ where a test split holds near-duplicate articles (Lenta 9-topic has 4 such pairs in",
        "154 documents): dropping cross-page duplicates leaves the later copy with almost no text.",
    ]
    return "\n".join(lines) + "\n"


def plots(results: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["accuracy"])
    peers = [p for p in ("majority", "TF-IDF+LinearSVC", "fastText", "ours (same data)", "shipped")
             if any(p in results["accuracy"][n] for n in names)]
    fig, ax = plt.subplots(figsize=(12, 4.5))
    width = 0.8 / len(peers)
    for k, peer in enumerate(peers):
        values = [results["accuracy"][n].get(peer, {}).get("macro_f1", 0) for n in names]
        ax.bar(np.arange(len(names)) + k * width, values, width, label=peer)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=20, ha="right")
    ax.set_ylabel("macro-F1 (test)")
    ax.legend(fontsize=8)
    ax.set_title("Topic and stance: macro-F1 on each set's test split")
    fig.tight_layout()
    fig.savefig(RESULTS / "models.png", dpi=120)
    plt.close(fig)

    rows = [(f"{n}\n{m}", v) for n, row in results["robustness"].items() for m, v in row["models"].items()]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for k, condition in enumerate(("clean", "noisy raw", "noisy cleaned")):
        ax.bar(np.arange(len(rows)) + k * 0.27, [v[condition] for _, v in rows], 0.27, label=condition)
    ax.set_xticks(np.arange(len(rows)) + 0.27, [r for r, _ in rows], fontsize=7)
    ax.set_ylabel("macro-F1")
    ax.legend()
    ax.set_title("Robustness to injected web noise")
    fig.tight_layout()
    fig.savefig(RESULTS / "models_robustness.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer documents for speed and stance robustness")
    args = parser.parse_args()
    if not labels_root().is_dir():
        sys.exit(f"skipping: label sets not found at {labels_root()} (needs ../shared/data beside the repository)")
    use_fasttext = fasttext_available()
    if not use_fasttext:
        print("fastText not installed (pip install fasttext-wheel, the bench extra): its column will say so")
    bundle = load_models()
    results = {
        "command": "python benchmarks/models.py" + (" --quick" if args.quick else ""),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "accuracy": accuracy_benchmark(bundle, use_fasttext),
        "speed": speed_benchmark(bundle, 1000 if args.quick else 3000, use_fasttext),
        "robustness": robustness_benchmark(bundle, 500 if args.quick else 1500),
        "targeted_document_stance": targeted_document_stance(bundle),
    }
    print(json.dumps(results["speed"], indent=1))
    write_text_atomically(RESULTS / "models.json", json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    write_text_atomically(RESULTS / "models.md", markdown(results))
    plots(results)
    print(markdown(results))


if __name__ == "__main__":
    main()
