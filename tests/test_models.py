"""The classification stage's contract with the pipeline, on the shipped models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classify.document import CONTENT, NOISE, Document, Line
from classify.models import ModelError, classify_documents, load_models
from classify.models.features import HashedNgrams
from classify.models.sentences import split_sentences
from classify.models.stance import target_pattern

MODELS = Path(__file__).resolve().parents[1] / "models"


def make_doc(doc_id: str, lines: list[str], noise: tuple[int, ...] = ()) -> Document:
    return Document(
        id=doc_id,
        text="\n".join(lines),
        source="test",
        lines=[
            Line(number=i, text=t, status=NOISE if i in noise else CONTENT) for i, t in enumerate(lines, 1)
        ],
    )


@pytest.fixture(scope="module")
def bundle():
    return load_models()


SPORT = [
    "Сборная России по хоккею обыграла команду Финляндии в финале чемпионата мира со счётом 4:2.",
    "Главный тренер сборной отметил хорошую игру вратаря и нападающих в третьем периоде матча.",
]
ECONOMY = [
    "Центральный банк повысил ключевую ставку до 16 процентов годовых, сообщает регулятор.",
    "Инфляция в стране ускорилась, курс рубля к доллару снизился, а цены на бензин выросли.",
]


def test_topics_of_clear_cases(bundle):
    docs = classify_documents([make_doc("a", SPORT), make_doc("b", ECONOMY)], bundle)
    assert [d.topic.label for d in docs] == ["sport", "economy"]
    for doc in docs:
        labels = [label for label, _ in doc.topic.top]
        probabilities = [p for _, p in doc.topic.top]
        assert len(doc.topic.top) == 3 and labels[0] == doc.topic.label
        assert probabilities == sorted(probabilities, reverse=True) and 0 < doc.topic.score <= 1


def test_stance_has_evidence_from_the_text(bundle):
    doc = make_doc(
        "c",
        [
            "Министр резко раскритиковал провальную политику соседей и назвал её позором.",
            "Эксперты считают, что ситуация ухудшится, а кризис приведёт к катастрофе.",
        ],
    )
    classify_documents([doc], bundle)
    assert doc.stance.label in {"negative", "neutral", "positive"}
    assert doc.stance.evidence and all(s in doc.clean_text() for s in doc.stance.evidence)
    assert abs(sum(p for _, p in doc.stance.top) - 1.0) < 1e-3  # three labels: the full distribution


def test_target_selects_sentences_and_unmentioned_target_gives_none(bundle):
    doc = make_doc("d", ["Страны ОДКБ провели совместные учения.", "Погода была солнечной."])
    other = make_doc("e", ["Погода была солнечной."])
    classify_documents([doc, other], bundle, target="ОДКБ")
    assert doc.stance.target == "ОДКБ"
    assert doc.stance.evidence == ["Страны ОДКБ провели совместные учения."]
    assert other.stance is None and other.topic is not None


def test_empty_clean_text_gives_no_predictions(bundle):
    docs = [make_doc("f", ["Подписывайтесь на наш канал"], noise=(1,)), make_doc("g", [])]
    classify_documents(docs, bundle)
    assert all(d.topic is None and d.stance is None for d in docs)


def test_noise_lines_are_not_read(bundle):
    with_noise = make_doc("h", SPORT + ["Курс доллара, биржа, нефть, акции, инфляция"] * 5, noise=(3, 4, 5, 6, 7))
    clean = make_doc("i", SPORT)
    classify_documents([with_noise, clean], bundle)
    assert with_noise.topic == clean.topic


def test_batch_does_not_change_a_documents_answer(bundle):
    alone = classify_documents([make_doc("a", SPORT)], bundle)[0].topic
    batched = classify_documents([make_doc("b", ECONOMY), make_doc("a", SPORT)], bundle)[1].topic
    assert alone == batched


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_models(tmp_path / "nowhere")


def test_incompatible_format_version_is_refused(tmp_path):
    copy = tmp_path / "models"
    shutil.copytree(MODELS / "topic", copy / "topic")
    shutil.copytree(MODELS / "stance", copy / "stance")
    meta = json.loads((copy / "topic" / "model.json").read_text())
    meta["format_version"] = 999
    (copy / "topic" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format version 999"):
        load_models(copy)


def test_env_var_overrides_default_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("CLASSIFY_MODELS", str(tmp_path / "elsewhere"))
    with pytest.raises(ModelError, match="elsewhere"):
        load_models()


def test_hashed_features_are_independent_of_batch_neighbours():
    features = HashedNgrams(n_features=2**12)
    alone = features.transform(["Москва — столица России."]).toarray()
    together = features.transform(["Другой текст", "Москва — столица России.", ""]).toarray()
    assert np.allclose(alone[0], together[1]) and not together[2].any()
    assert np.isclose(np.linalg.norm(alone[0]), 1.0)


def test_sentence_split_and_target_inflection():
    assert split_sentences("Первое. Второе! «Третье» здесь?\nЧетвёртое 3.5 млн. руб.") == [
        "Первое.",
        "Второе!",
        "«Третье» здесь?",
        "Четвёртое 3.5 млн. руб.",
    ]
    pattern = target_pattern("Россия")
    assert pattern.search("визит в Россию") and pattern.search("позиция России")
    assert not pattern.search("Росгвардия") and not pattern.search("российский")
    assert target_pattern("Киев").search("в Киеве") and target_pattern("ОДКБ").search("саммит ОДКБ")


def test_shared_featurisation_matches_each_model_alone(bundle):
    # classify_documents featurises sentences once for both models; each model on its own agrees.
    from classify.models.sentences import split_sentences as sentences_of

    doc = make_doc("j", SPORT + ECONOMY)
    classify_documents([doc], bundle)
    topic = bundle.topic.predict_proba([doc.clean_text()])[0]
    assert doc.topic.score == pytest.approx(float(topic.max()), abs=1e-4)
    stance = bundle.stance.predict_proba(sentences_of(doc.clean_text())).mean(axis=0)
    assert doc.stance.score == pytest.approx(float(stance.max()), abs=1e-4)


def test_threads_do_not_change_answers(bundle):
    docs = [make_doc(str(i), SPORT if i % 2 else ECONOMY) for i in range(300)]
    one = [d.topic for d in classify_documents(docs, bundle, n_jobs=1)]
    two = [d.topic for d in classify_documents(docs, bundle, n_jobs=2)]
    assert one == two


def test_a_near_copy_is_classified_on_its_copied_text_when_duplicates_are_dropped() -> None:
    from classify.document import DuplicateRef
    from classify.models.bundle import text_to_classify

    copied = "The central bank raised its key rate by two points to fight inflation, the governor said."
    doc = Document(id="b", text="", source="x", lines=[
        Line(number=1, text=copied, status=CONTENT, duplicate_of=DuplicateRef("a", 1, 0.9)),
        Line(number=2, text="Photo caption.", status=CONTENT),
    ])
    assert text_to_classify(doc, drop_duplicates=True) == doc.clean_text()  # mostly a copy: keep it
    doc.lines[1].text = "Analysts had expected a smaller rise, and markets fell sharply after the decision was announced."
    assert text_to_classify(doc, drop_duplicates=True) == doc.lines[1].text  # mostly its own: drop the copy


def test_feature_normalisation_matches_the_regex_definition():
    # The table lookup must be exactly re.sub(r"(?:[^\w\n]|_)+", " ", text): the shipped models'
    # hashes were computed with that definition.
    import random
    import re

    from classify.models.features import _normalised_codes

    pattern = re.compile(r"(?:[^\w\n]|_)+")
    rng = random.Random(0)
    alphabet = [chr(c) for c in range(0x3000)] + ["😀", "𝟘", "𐐀", "\n", "_", " ", "ǅ", "٣"]
    for _ in range(200):
        text = " " + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200))).lower() + " "
        expected = np.frombuffer(pattern.sub(" ", text).encode("utf-32-le"), dtype=np.uint32)
        assert _normalised_codes(text).tolist() == expected.tolist()


def test_sentences_split_after_end_punctuation_before_a_capital():
    text = 'Он приехал. Она ушла! «Да», — сказал он. "Yes." Then 3 more… Ещё\nстрока. x. y'
    assert split_sentences(text) == ["Он приехал.", "Она ушла!", "«Да», — сказал он.", '"Yes."', "Then 3 more…", "Ещё", "строка. x. y"]


def test_probabilities_do_not_depend_on_the_batch():
    # A document's probabilities must be the same to the last bit alone or among others, short or
    # long: otherwise `--jobs 2` (other batches per worker) could round a score differently.
    bundle = load_models()
    seeds = sorted(Path(__file__).resolve().parents[1].joinpath("seeds").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    texts += [line for text in texts for line in text.splitlines() if len(line.split()) > 3][:40]
    for model in (bundle.topic, bundle.stance):
        batch = model.predict_proba(texts, n_jobs=1)
        alone = np.vstack([model.predict_proba([text], n_jobs=1) for text in texts])
        assert np.array_equal(batch, alone)
