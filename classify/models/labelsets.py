"""Readers for the labelled sets under `shared/data/labels/`, mapped onto our label schemes.

Each reader returns `{split: LabelledExamples}` with the set's official splits, or a fixed
stratified 80/20 split (seed 0, exact-duplicate texts kept on one side) where the set has none.
The topic mapping onto `TOPICS` and the stance mapping onto `STANCES` are written out below and
copied into the model card. The label sets' own licenses are in each set's PROVENANCE.md.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# The coarse news topic scheme the shipped topic model predicts.
TOPICS = (
    "politics",
    "international",  # international relations and neighbouring states (Lenta "Бывший СССР")
    "economy",  # economy, finance and business
    "security",  # police, courts, army, crime, incidents and disasters
    "society",
    "science_tech",
    "culture",  # culture, entertainment and media
    "sport",
    "health",
    "travel",  # travel, tourism and places
)
STANCES = ("negative", "neutral", "positive")

# native label -> coarse topic, per set (the mapping the model card documents).
TOPIC_MAPS: dict[str, dict[str, str]] = {
    "lenta_balanced_hse": {
        "policy": "politics",
        "power structures": "security",
        "incident": "security",
        "economy_and_finance": "economy",
        "business": "economy",
        "society_and_travel": "society",
        "science and tech": "science_tech",
        "culture": "culture",
        "media": "culture",
        "sport": "sport",
    },
    "lenta_news9_asryan": {
        "0": "society",  # Общество/Россия
        "1": "economy",  # Экономика
        "2": "security",  # Силовые структуры
        "3": "international",  # Бывший СССР
        "4": "sport",  # Спорт
        "5": "health",  # Забота о себе
        "6": "economy",  # Строительство
        "7": "travel",  # Туризм/Путешествия
        "8": "science_tech",  # Наука и техника
    },
    "sib200": {
        "science/technology": "science_tech",
        "travel": "travel",
        "politics": "politics",
        "sports": "sport",
        "health": "health",
        "entertainment": "culture",
        "geography": "travel",  # sentences about places, as in travel guides
    },
    "masakhanews_fra": {
        "business": "economy",
        "health": "health",
        "politics": "politics",
        "sports": "sport",
        "technology": "science_tech",
    },
}
STANCE_MAPS: dict[str, dict[str, str]] = {
    "romip2012_news_quotes": {"+": "positive", "-": "negative", "--": "negative", "0": "neutral"},
    "rusentne2023": {"1": "positive", "-1": "negative", "0": "neutral"},
}


@dataclass
class LabelledExamples:
    """Texts with their labels (mapped), native labels and, for targeted stance, the targets."""

    texts: list[str]
    labels: list[str]
    native: list[str]
    targets: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: np.ndarray) -> LabelledExamples:
        pick = [int(i) for i in index]
        return LabelledExamples(
            [self.texts[i] for i in pick],
            [self.labels[i] for i in pick],
            [self.native[i] for i in pick],
            [self.targets[i] for i in pick] if self.targets else [],
        )

    def __add__(self, other: LabelledExamples) -> LabelledExamples:
        targets = (self.targets or [None] * len(self)) + (other.targets or [None] * len(other))
        return LabelledExamples(
            self.texts + other.texts,
            self.labels + other.labels,
            self.native + other.native,
            targets if any(t is not None for t in targets) else [],
        )


def stratified_split(
    examples: LabelledExamples, test_size: float = 0.2, seed: int = 0
) -> dict[str, LabelledExamples]:
    """Fixed stratified split; identical texts share a side so no test text is seen in training."""
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(examples.texts):
        groups.setdefault(text, []).append(i)
    by_label: dict[str, list[list[int]]] = {}
    for members in groups.values():
        by_label.setdefault(examples.labels[members[0]], []).append(members)
    train, test = [], []
    for label in sorted(by_label):
        label_groups = by_label[label]
        order = rng.permutation(len(label_groups))
        n_test = int(round(len(label_groups) * test_size))
        for rank, g in enumerate(order):
            (test if rank < n_test else train).extend(label_groups[g])
    return {
        "train": examples.subset(np.array(sorted(train))),
        "test": examples.subset(np.array(sorted(test))),
    }


def _mapped(name: str, texts: list[str], native: list[str], mapping: dict[str, str], targets=None):
    keep = [i for i, label in enumerate(native) if label in mapping and texts[i].strip()]
    return LabelledExamples(
        [texts[i] for i in keep],
        [mapping[native[i]] for i in keep],
        [native[i] for i in keep],
        [targets[i] for i in keep] if targets else [],
    )


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


_LEADING_ROW_NUMBER = re.compile(r"^\d+")


def read_lenta_balanced(root: Path) -> dict[str, LabelledExamples]:
    """Lemmatised bags of lemmas (see PROVENANCE.md); each cell starts with its row number."""
    import openpyxl  # the `train` extra: only this set is an .xlsx

    book = openpyxl.load_workbook(root / "lenta_dataset_labels.xlsx", read_only=True)
    rows = list(book["lenta_ru"].iter_rows(values_only=True))[1:]
    texts = [_LEADING_ROW_NUMBER.sub("", str(r[0] or "")) for r in rows]
    native = [str(r[2] or "").strip() for r in rows]
    data = _mapped("lenta_balanced_hse", texts, native, TOPIC_MAPS["lenta_balanced_hse"])
    return stratified_split(data)


def read_lenta_news9(root: Path) -> dict[str, LabelledExamples]:
    csv.field_size_limit(2**31 - 1)
    with (root / "train_news.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    texts = [r["content"] or "" for r in rows]
    native = [(r["topic"] or "").strip() for r in rows]
    return stratified_split(_mapped("lenta_news9_asryan", texts, native, TOPIC_MAPS["lenta_news9_asryan"]))


def read_sib200(root: Path, language: str) -> dict[str, LabelledExamples]:
    """Official splits; dev is folded into train (the models tune nothing on it)."""
    out = {}
    for split, files in {"train": ("train.tsv", "dev.tsv"), "test": ("test.tsv",)}.items():
        rows = [r for name in files for r in _read_tsv(root / language / name)]
        out[split] = _mapped(
            "sib200", [r["text"] for r in rows], [r["category"] for r in rows], TOPIC_MAPS["sib200"]
        )
    return out


def read_masakhanews_fra(root: Path) -> dict[str, LabelledExamples]:
    """Evaluation only (non-commercial, see PROVENANCE.md): train side = few-shot + dev, minus test copies."""
    test_rows = _read_tsv(root / "test.tsv")
    test_texts = {r["text"] for r in test_rows}
    train_rows = [
        r
        for name in ("train_fewshot50.tsv", "dev.tsv")
        for r in _read_tsv(root / name)
        if r["text"] not in test_texts
    ]

    def examples(rows):
        texts = [f"{r['headline']}\n{r['text']}" for r in rows]
        return _mapped("masakhanews_fra", texts, [r["category"] for r in rows], TOPIC_MAPS["masakhanews_fra"])

    return {"train": examples(train_rows), "test": examples(test_rows)}


def read_romip2012(root: Path) -> dict[str, LabelledExamples]:
    out = {}
    for split in ("train", "test"):
        tree = ET.parse(root / f"{split}.xml")  # declared windows-1251; ElementTree decodes it
        texts, native = [], []
        for sentence in tree.getroot().iter("sentence"):
            texts.append(" ".join((sentence.findtext("speech") or "").split()))
            native.append((sentence.findtext("evaluation") or "").strip())
        out[split] = _mapped("romip2012_news_quotes", texts, native, STANCE_MAPS["romip2012_news_quotes"])
    return out


def read_rusentne2023(root: Path) -> dict[str, LabelledExamples]:
    """Entity-targeted sentences; the labelled validation file is the test split (test gold is locked)."""
    out = {}
    for split, name in (("train", "train_data.csv"), ("test", "validation_data_labeled.csv")):
        rows = _read_tsv(root / name)
        out[split] = _mapped(
            "rusentne2023",
            [r["sentence"] for r in rows],
            [r["label"].strip() for r in rows],
            STANCE_MAPS["rusentne2023"],
            targets=[r["entity"] for r in rows],
        )
    return out


_MARKUP = re.compile(r"^\{[^}]*\}\s*", re.MULTILINE)


def read_rusentrel_author(root: Path) -> LabelledExamples:
    """Document-level stance of the author toward an entity (RuSentRel `.author.txt`, train and test).

    Evaluation only: the shipped stance model never sees it. Texts lose their `{Author, Unknown}`
    line markup; targets are the entity names; labels positive/negative. Malformed lines are skipped.
    """
    texts, labels, targets = [], [], []
    for part in ("train", "test"):
        for author_file in sorted((root / part).glob("*.author.txt")):
            article = author_file.with_name(author_file.name.replace(".author.txt", ".txt"))
            text = _MARKUP.sub("", article.read_text(encoding="utf-8"))
            for line in author_file.read_text(encoding="utf-8").splitlines():
                fields = [f.strip() for f in line.split(",")]
                if len(fields) >= 3 and fields[0] == "author" and fields[2] in ("pos", "neg") and fields[1]:
                    texts.append(text)
                    targets.append(fields[1])
                    labels.append("positive" if fields[2] == "pos" else "negative")
    return LabelledExamples(texts, labels, list(labels), targets)


def labels_root() -> Path:
    """`shared/data/labels` beside the repository checkout."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "labels"


# set name -> (task, reader, folder, whether the shipped model may be trained on it)
LABEL_SETS = {
    # Lemmatised bags of words: no lemmatiser at inference, so evaluation only (see the model card).
    "lenta_balanced_hse": ("topic", read_lenta_balanced, "lenta_balanced_hse", False),
    "lenta_news9_asryan": ("topic", read_lenta_news9, "lenta_news9_asryan", True),
    "sib200_ru": ("topic", lambda r: read_sib200(r, "rus_Cyrl"), "sib200", True),
    "sib200_kk": ("topic", lambda r: read_sib200(r, "kaz_Cyrl"), "sib200", True),
    "sib200_fr": ("topic", lambda r: read_sib200(r, "fra_Latn"), "sib200", True),
    "sib200_en": ("topic", lambda r: read_sib200(r, "eng_Latn"), "sib200", True),
    "masakhanews_fra": ("topic", read_masakhanews_fra, "masakhanews_fra", False),
    "romip2012_news_quotes": ("stance", read_romip2012, "romip2012_news_quotes", True),
    "rusentne2023": ("stance", read_rusentne2023, "rusentne2023", True),
}


def load_label_set(name: str, root: Path | None = None) -> dict[str, LabelledExamples]:
    """`{"train": ..., "test": ...}` for one of `LABEL_SETS`."""
    _, reader, folder, _ = LABEL_SETS[name]
    return reader((root or labels_root()) / folder)
