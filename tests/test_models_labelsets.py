"""The label-set readers behind the shipped models (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from classify.models.labelsets import LABEL_SETS, STANCES, TOPICS, labels_root, load_label_set, read_rusentrel_author

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
pytestmark = pytest.mark.skipif(
    not (SHARED / "data" / "labels").is_dir(), reason="needs ../shared/data/labels beside the repository"
)


@pytest.mark.parametrize("name", [n for n in LABEL_SETS if n != "lenta_balanced_hse"])
def test_splits_are_disjoint_and_labels_in_the_scheme(name):
    splits = load_label_set(name)
    task = LABEL_SETS[name][0]
    scheme = TOPICS if task == "topic" else STANCES
    assert len(splits["train"]) > 100 and len(splits["test"]) > 100
    assert set(splits["train"].labels) | set(splits["test"].labels) <= set(scheme)
    if name.startswith("lenta") or name == "masakhanews_fra":
        # our own splits: no test text is also a training text
        assert not set(splits["train"].texts) & set(splits["test"].texts)
    if task == "stance" and name == "rusentne2023":
        assert all(splits["test"].targets)


def test_masakhanews_is_never_shipped_training_data():
    assert LABEL_SETS["masakhanews_fra"][3] is False


def test_rusentrel_author_pairs():
    data = read_rusentrel_author(labels_root() / "rusentrel_v1_1")
    assert len(data) >= 80 and set(data.labels) == {"positive", "negative"}
    assert all("{Author" not in text for text in data.texts)
