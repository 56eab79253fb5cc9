"""`classify train` then `classify evaluate` on a user's files; train/evaluate functions; the safe format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from classify.models import ModelError, TextModel, cross_validate, evaluate, train
from classify.models.command import evaluate_command, train_command

SPORT = ["Футболисты выиграли матч со счётом {n}:0, забив голы во втором тайме.",
         "Теннисистка вышла в финал турнира после победы в {n} сетах.",
         "Хоккейный клуб проиграл в овертайме, вратарь отразил {n} бросков."]
MONEY = ["Банк повысил ставку по вкладам до {n} процентов годовых.",
         "Курс рубля снизился, а инфляция выросла на {n} процента.",
         "Компания увеличила выручку и прибыль на {n} процентов."]


def corpus(n: int = 20) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for i in range(n):
        for template in SPORT:
            texts.append(template.format(n=i + 2))
            labels.append("sport")
        for template in MONEY:
            texts.append(template.format(n=i + 2))
            labels.append("economy")
    return texts, labels


@pytest.fixture()
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("train")(train_command)
    app.command("evaluate")(evaluate_command)
    return app


def write_jsonl(path: Path, texts: list[str], labels: list[str]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i, (text, label) in enumerate(zip(texts, labels)):
            f.write(json.dumps({"id": f"d{i}", "body": text, "tag": label}, ensure_ascii=False) + "\n")


def test_train_then_evaluate_round_trip_on_jsonl(tmp_path, cli):
    texts, labels = corpus()
    write_jsonl(tmp_path / "train.jsonl", texts, labels)
    write_jsonl(tmp_path / "test.jsonl", texts[:30], labels[:30])
    runner = CliRunner()
    trained = runner.invoke(cli, ["train", "--task", "topic", "--data", str(tmp_path / "train.jsonl"),
                                  "--text-field", "body", "--label-field", "tag", "--out", str(tmp_path / "m")])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(cli, ["evaluate", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "test.jsonl"),
                                 "--text-field", "body", "--label-field", "tag", "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["accuracy"] == 1.0 and metrics["macro_f1"] == 1.0
    assert (tmp_path / "r" / "confusion.png").stat().st_size > 0
    assert "| sport |" in (tmp_path / "r" / "report.md").read_text()
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["command"].startswith("classify train --task topic") and card["versions"]["numpy"]


def test_train_with_article_experts_from_the_command_line(tmp_path, cli):
    texts, labels = corpus()
    articles = [" ".join([text] * 6) for text in texts]  # the same topics as 300-400 character texts
    write_jsonl(tmp_path / "train.jsonl", texts + articles, labels * 2)
    trained = CliRunner().invoke(cli, ["train", "--task", "topic", "--data", str(tmp_path / "train.jsonl"),
                                       "--text-field", "body", "--label-field", "tag", "--article-min-chars", "200",
                                       "--out", str(tmp_path / "m")])
    assert trained.exit_code == 0, trained.output
    card = json.loads((tmp_path / "m" / "model.json").read_text())
    assert card["domains"] == ["short", "article"] and card["article_min_chars"] == 200
    assert "--article-min-chars 200" in card["command"]


def test_csv_and_parquet_inputs_and_targets(tmp_path):
    from classify.models.data import read_labelled

    with (tmp_path / "a.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "entity"])
        writer.writerow(["США ввели санкции.", "negative", "США"])
        writer.writerow(["Без метки.", "", "США"])
    pq.write_table(pa.table({"text": ["Визит в Китай прошёл успешно."], "label": ["positive"], "entity": ["Китай"]}),
                   tmp_path / "b.parquet")
    read = read_labelled([tmp_path / "a.csv", tmp_path / "b.parquet"], "text", "label", "entity")
    assert read.examples.labels == ["negative", "positive"]
    assert read.examples.targets == ["США", "Китай"]
    assert len(read.skipped) == 1 and "label" in read.skipped[0].reason


def test_training_is_deterministic_and_reloads_identically(tmp_path):
    texts, labels = corpus()
    first, second = train(texts, labels, "topic", seed=3), train(texts, labels, "topic", seed=3)
    first.save(tmp_path / "a")
    second.save(tmp_path / "b")
    for name in ("model.json", "model.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    reloaded = TextModel.load(tmp_path / "a")
    assert np.allclose(reloaded.predict_proba(texts[:5]), first.predict_proba(texts[:5]), atol=1e-2)


def test_saved_arrays_load_without_pickle(tmp_path):
    texts, labels = corpus(5)
    train(texts, labels, "topic").save(tmp_path / "m")
    with np.load(tmp_path / "m" / "model.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_corrupt_arrays_are_a_clear_error(tmp_path):
    texts, labels = corpus(5)
    train(texts, labels, "topic").save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["features"]["n_features"] = 1024
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="shape"):
        TextModel.load(tmp_path / "m")


def test_targeted_stance_training_uses_the_target(tmp_path):
    # The same sentence, opposite stances toward its two entities: only the target tells them apart.
    texts = ["Петров хвалит Сидорова, а Кузнецов осуждает Смирнова за провал."] * 40
    targets = ["Сидоров", "Смирнов"] * 20
    labels = ["positive", "negative"] * 20
    model = train(texts, labels, "stance", targets)
    result = evaluate(model, texts[:4], labels[:4], targets[:4])
    assert result["accuracy"] == 1.0


def test_cross_validation_reports_mean_and_spread():
    texts, labels = corpus(10)
    cv = cross_validate(texts, labels, "topic", folds=3)
    assert cv["folds"] == 3 and 0.9 <= cv["macro_f1_mean"] <= 1.0 and cv["macro_f1_std"] >= 0


def test_one_label_is_refused():
    with pytest.raises(ValueError, match="two distinct labels"):
        train(["a b c", "d e f"], ["x", "x"], "topic")


def test_macro_f1_offsets_recover_the_minority_class():
    from classify.models.linear import macro_f1_offsets

    # Scores biased toward class 0: the argmax never predicts class 1, although its logit ranks it.
    rng = np.random.default_rng(0)
    gold = np.array([0] * 90 + [1] * 10)
    logits = np.column_stack([np.full(100, 1.0), np.where(gold == 1, 0.8, 0.2) + rng.normal(0, 0.05, 100)])
    classes = np.array([0, 1])
    offsets = macro_f1_offsets(logits, gold, classes)
    before = np.argmax(logits, axis=1)
    after = np.argmax(logits + offsets, axis=1)
    assert not before.any() and (after == gold).mean() > 0.95 and abs(offsets.sum()) < 1e-9


def test_mixed_targeted_training_gives_one_expert_per_kind(tmp_path):
    # Plain sentences and target-marked sentences with different label priors: the model keeps one
    # expert (and calibration) for each, chosen by whether a target is named, and saves both.
    texts, labels, targets = [], [], []
    for i in range(30):
        texts += [f"Рост продаж на {i} процентов радует.", f"Провал и убытки {i} раз огорчают."]
        labels += ["positive", "negative"]
        targets += [None, None]
        texts += [f"Компания Альфа сообщила о встрече номер {i}.", f"Альфа потеряла {i} клиентов."]
        labels += ["neutral", "negative"]
        targets += ["Альфа", "Альфа"]
    model = train(texts, labels, "stance", targets, tune_macro_f1=True)
    assert model.domains == ["untargeted", "targeted"] and model.classifier.n_domains == 2
    model.save(tmp_path / "m")
    reloaded = TextModel.load(tmp_path / "m")
    assert reloaded.domains == model.domains
    assert evaluate(reloaded, texts, labels, targets)["macro_f1"] == 1.0
    single = train(texts[:4] * 5, labels[:4] * 5, "stance")
    assert single.domains == ["any"] and single.experts_for(["x"], targeted=True).tolist() == [0]


def test_short_texts_and_articles_get_one_expert_each_and_keep_every_label(tmp_path):
    # Sentences label three topics, articles only two: the article expert must still reach the
    # sentences' third label (calibrated across domains), and the choice of expert is by length.
    rng = np.random.default_rng(0)
    vocab = {
        "sport": "матч гол команда тренер турнир",
        "economy": "рубль банк ставка инфляция рынок",
        "politics": "выборы парламент партия депутат закон",
    }
    texts, labels = [], []
    for label, words in vocab.items():
        w = words.split()
        for _ in range(30):
            texts.append(" ".join(rng.choice(w, 6)) + ".")
            labels.append(label)
    for label in ("sport", "economy"):
        w = vocab[label].split()
        for _ in range(30):
            texts.append(" ".join(" ".join(rng.choice(w, 8)) + "." for _ in range(12)))
            labels.append(label)
    model = train(texts, labels, "topic", article_min_chars=200)
    assert model.domains == ["short", "article"] and model.classifier.n_domains == 2
    assert model.experts_for(["короткий текст.", "x" * 300]).tolist() == [0, 1]
    politics_article = " ".join(" ".join(rng.choice(vocab["politics"].split(), 8)) + "." for _ in range(12))
    sport_article = " ".join(" ".join(rng.choice(vocab["sport"].split(), 8)) + "." for _ in range(12))
    model.save(tmp_path / "m")
    reloaded = TextModel.load(tmp_path / "m")
    assert reloaded.article_min_chars == 200 and reloaded.domains == model.domains
    best = [reloaded.labels[i] for i in reloaded.predict_proba([politics_article, sport_article]).argmax(axis=1)]
    assert best == ["politics", "sport"]
    assert train(texts, labels, "topic").domains == ["any"]  # without article_min_chars: one expert


def test_article_experts_calibrate_when_a_class_is_too_small_for_folds():
    # One example of a class leaves no out-of-fold scores: the maps learn from the in-sample scores
    # of every expert, and the experts still tell the topics apart.
    texts, labels = corpus(6)
    texts = texts + [" ".join([t] * 6) for t in texts] + ["Театр показал премьеру спектакля."]
    labels = labels * 2 + ["culture"]
    model = train(texts, labels, "topic", article_min_chars=200)
    assert model.domains == ["short", "article"]
    predicted = [model.labels[i] for i in model.predict_proba(texts[:-1]).argmax(axis=1)]
    assert predicted == labels[:-1]
