"""The cleaner's classifiers: safe serialisation, agreement with scikit-learn, gold projection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classify.clean.features import (
    OWN_TEXT_FEATURES, best_segment, block_feature_names, line_feature_names, line_features, stacked_feature_names,
    stacked_features, text_features,
)
from classify.clean.gold import label_lines, page_counts, prf
from classify.clean.lines import MODELS_DIR
from classify.clean.model import StackedLineClassifier, TreeContentClassifier
from classify.clean.training import BENCHMARK_DIR


def _toy(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    return X, X[:, 0] + X[:, 1] * X[:, 2] > 0.2


def test_packed_trees_predict_exactly_what_scikit_learn_predicts() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = _toy()
    ours = TreeContentClassifier(max_iter=40, random_state=3).fit(X, y)
    reference = HistGradientBoostingClassifier(
        max_iter=40, learning_rate=0.08, max_leaf_nodes=31, max_depth=6, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, random_state=3,
    ).fit(X, y)
    X_test, _ = _toy(1500, seed=1)  # spans several of decision_function's row blocks
    np.testing.assert_allclose(ours.predict_proba(X_test), reference.predict_proba(X_test), atol=1e-12)


def test_saved_model_is_npz_and_json_and_round_trips(tmp_path: Path) -> None:
    X, y = _toy()
    model = TreeContentClassifier(max_iter=20, feature_names=[f"f{i}" for i in range(6)]).fit(X, y)
    model.metadata = {"thresholds": {"balanced": 0.3}}
    model.save(tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.npz"]
    with np.load(tmp_path / "m.npz", allow_pickle=False) as arrays:  # no pickled objects inside
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = TreeContentClassifier.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.metadata == model.metadata and loaded.feature_names == model.feature_names


@pytest.mark.parametrize(
    "name, names", [("clean_blocks", block_feature_names), ("clean_lines_stacked", stacked_feature_names)]
)
def test_shipped_models_match_the_feature_code(name: str, names) -> None:
    meta = json.loads((MODELS_DIR / f"{name}.json").read_text())
    assert meta["feature_names"] == names()
    thresholds = meta["metadata"]["thresholds"]
    assert 0 < thresholds["recall"] <= thresholds["balanced"] <= thresholds["precision"] < 1


def test_shipped_line_model_has_both_stages() -> None:
    model = StackedLineClassifier.load(MODELS_DIR / "clean_lines")
    assert model.feature_names == line_feature_names()
    assert model.stacked_feature_names == stacked_feature_names()
    assert model.metadata["threshold_cv_folds"]  # thresholds came from grouped CV, not given


def test_best_segment_is_the_run_with_the_largest_sum() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        gain = rng.normal(size=int(rng.integers(1, 25)))
        start, stop = best_segment(gain)
        best = max(gain[i:j].sum() for i in range(len(gain)) for j in range(i + 1, len(gain) + 1))
        assert stop > start and gain[start:stop].sum() == pytest.approx(best)


def test_stacked_features_see_the_content_segment() -> None:
    texts = ["Home", "News", *["A full sentence of article text, long enough to count."] * 4, "Contacts"]
    p = np.array([0.1, 0.2, 0.9, 0.8, 0.9, 0.9, 0.1])
    F = stacked_features(line_features(texts), p)
    assert F.shape == (7, len(stacked_feature_names()))
    inside = F[:, stacked_feature_names().index("in_segment@0.5")]
    assert inside.tolist() == [0, 0, 1, 1, 1, 1, 0]
    assert stacked_features(line_features([]), np.zeros(0)).shape == (0, len(stacked_feature_names()))


def _toy_documents(n_docs: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Line-feature rows of toy documents (menu, article, footer) with labels and document ids."""
    rng = np.random.default_rng(seed)
    X, y, documents = [], [], []
    for doc in range(n_docs):
        menu, body, footer = (int(rng.integers(2, 8)) for _ in range(3))
        texts = [f"Menu item {i}" for i in range(menu)]
        texts += [f"Sentence {i} of the article says something, as articles do." for i in range(body)]
        texts += [f"Footer link {i}" for i in range(footer)]
        X.append(line_features(texts))
        y += [False] * menu + [True] * body + [False] * footer
        documents += [doc] * len(texts)
    return np.vstack(X), np.array(y), np.array(documents)


def test_stacked_model_round_trips_as_npz_and_json(tmp_path: Path) -> None:
    X, y, documents = _toy_documents()
    small = {"max_iter": 15, "min_samples_leaf": 5}
    model = StackedLineClassifier(
        small, small, inner_folds=3, feature_names=line_feature_names(), stacked_feature_names=stacked_feature_names()
    ).fit(X, y, documents, documents)
    model.metadata = {"thresholds": {"balanced": 0.4}}
    model.save(tmp_path / "lines")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lines.json", "lines.npz", "lines_stacked.json", "lines_stacked.npz",
    ]
    loaded = StackedLineClassifier.load(tmp_path / "lines")
    rows = documents == 0
    np.testing.assert_array_equal(loaded.predict_proba(X[rows]), model.predict_proba(X[rows]))
    assert loaded.metadata == model.metadata
    assert (model.predict_proba(X[rows])[:, 1] >= 0.5).tolist() == y[rows].tolist()


def test_line_features_have_one_row_per_line_and_see_neighbours() -> None:
    X = line_features(["Menu", "A long sentence that ends with a period, as article text does.", "Menu"])
    assert X.shape == (3, len(line_feature_names()))
    column = line_feature_names().index("sentence_end@-1")
    assert X[2, column] == 1.0 and X[1, column] == 0.0
    assert line_features([]).shape == (0, len(line_feature_names()))


def test_text_features_of_a_line_do_not_depend_on_the_other_lines() -> None:
    # The features are computed over the whole document at once; no line may leak into another.
    lines = [
        "See example.com or WWW.NEWS.RU.", "Mr.Comfort wrote: Ends here.", "e-mail _x_ 3,5 🎉 ΟΔΟΣ", "",
        "word", "Ещё одно предложение. И второе!", "İstanbul", "1. item:",
    ]
    together = text_features(lines)
    for i, line in enumerate(lines):
        np.testing.assert_array_equal(together[i], text_features([line])[0])


def test_text_features_count_words_urls_and_sentences() -> None:
    names = list(OWN_TEXT_FEATURES)
    rows = text_features(["see example.com today", "Mr.Comfort is no URL", "e-mail _x_ 3,5 🎉", "One. Two. three"])
    assert rows[:, names.index("urlish")].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert rows[2, names.index("log_words")] == pytest.approx(np.log1p(5))  # e, mail, x, 3, 5
    assert rows[2, names.index("symbol_ratio")] == pytest.approx(1 / 16)  # the emoji, of 16 characters
    assert rows[3, names.index("sentences_inside")] == 1.0  # ". T" but not ". t"


def test_gold_projection_marks_lines_of_the_gold_text() -> None:
    gold = "The council approved the budget on Tuesday.\nIt takes effect in January next year."
    lines = ["Home", "The council approved the budget on Tuesday.", "It takes effect in January next year.", "Share"]
    assert label_lines(lines, gold) == [False, True, True, False]


def test_shingle_metric() -> None:
    gold = "one two three four five six"
    assert page_counts(gold, gold) == (1.0, 0.0, 0.0)
    assert prf([page_counts("", gold)])["f1"] == 0.0
    half = prf([page_counts("one two three four five six seven eight nine", gold)])
    assert half["recall"] == 1.0 and half["precision"] == pytest.approx(0.5)


@pytest.mark.skipif(not BENCHMARK_DIR.exists(), reason=f"shared benchmark data absent ({BENCHMARK_DIR})")
def test_benchmark_pages_load_with_gold() -> None:
    from classify.clean.training import load_benchmark_pages, page_lines

    pages = load_benchmark_pages()
    assert len(pages) == 181
    texts, labels, with_headline, headline = page_lines(pages[0])
    assert len(texts) == len(labels) == len(with_headline) and any(labels)


def test_favor_thresholds_are_ordered_and_follow_the_metric() -> None:
    from classify.clean.training import choose_thresholds, precision_recall_curve

    rng = np.random.default_rng(0)
    y = rng.random(3000) < 0.3
    scores = np.clip(y * 0.5 + rng.random(3000) * 0.6, 0, 1)
    curve = precision_recall_curve(y, scores, rng.integers(1, 30, 3000).astype(float), rng.integers(0, 60, 3000))
    chosen = choose_thresholds(curve)
    assert chosen["recall"] <= chosen["balanced"] <= chosen["precision"]
    # Recall falls and precision rises as the threshold grows.
    assert curve["recall"][0] >= curve["recall"][-1] and curve["precision"][0] <= curve["precision"][-1]


@pytest.mark.slow  # about a minute: fits both stages on half of the benchmark pages
@pytest.mark.skipif(not BENCHMARK_DIR.exists(), reason=f"shared benchmark data absent ({BENCHMARK_DIR})")
def test_the_second_stage_beats_the_first_on_held_out_pages() -> None:
    from classify.clean.training import LINE_PARAMS, STACK_PARAMS, line_examples, load_benchmark_pages, page_lines
    from classify.clean.training import precision_recall_curve

    pages = load_benchmark_pages()
    train, held_out = pages[::2], pages[1::2]
    examples = line_examples(train)
    model = StackedLineClassifier({**LINE_PARAMS, "max_iter": 60}, STACK_PARAMS, inner_folds=3)
    model.fit(examples.X, examples.y, examples.groups, examples.documents)
    labels, first, second, words, groups = [], [], [], [], []
    for index, page in enumerate(held_out):  # whole-page dumps, the hard case
        texts, _, page_labels, _ = page_lines(page)
        X = line_features(texts)
        labels.append(page_labels)
        first.append(model.first_.predict_proba(X)[:, 1])
        second.append(model.predict_proba(X)[:, 1])
        words.append(np.expm1(X[:, line_feature_names().index("log_words")]))
        groups.append(np.full(len(texts), index))
    y, w, g = np.concatenate(labels).astype(bool), np.concatenate(words), np.concatenate(groups)

    def best_f2(scores: list[np.ndarray]) -> float:
        # Words-weighted, per-page averaged, as the thresholds are chosen; F2 as "balanced" is.
        curve = precision_recall_curve(y, np.concatenate(scores), w, g)
        p, r = np.array(curve["precision"]), np.array(curve["recall"])
        return float((5 * p * r / np.maximum(4 * p + r, 1e-9)).max())

    assert best_f2(second) > best_f2(first)


@pytest.mark.slow  # about two minutes: the full build of the cleaner's models
@pytest.mark.skipif(not BENCHMARK_DIR.exists(), reason=f"shared benchmark data absent ({BENCHMARK_DIR})")
def test_the_build_script_reproduces_the_shipped_models(tmp_path: Path) -> None:
    """The shipped cleaner models are what `models/build_line_model.py` builds from this code:
    a change to the features or the training that is not followed by a rebuild fails here."""
    import subprocess
    import sys

    script = MODELS_DIR / "build_line_model.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in ("clean_blocks", "clean_lines", "clean_lines_stacked"):
        shipped, built = np.load(MODELS_DIR / f"{name}.npz"), np.load(tmp_path / f"{name}.npz")
        assert sorted(shipped.files) == sorted(built.files)
        assert all(np.array_equal(shipped[key], built[key]) for key in shipped.files), name
        shipped_meta = json.loads((MODELS_DIR / f"{name}.json").read_text())
        assert shipped_meta == json.loads((tmp_path / f"{name}.json").read_text()), name
