"""Language identification for ru, kk, fr, en."""

from __future__ import annotations

import csv

import pytest

from classify.language import detect_language

LANGS = {"rus_Cyrl": "ru", "kaz_Cyrl": "kk", "fra_Latn": "fr", "eng_Latn": "en"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Президент принял генерального секретаря организации и обсудил сотрудничество.", "ru"),
        ("Мемлекет басшысы ұйымның бас хатшысын қабылдап, ынтымақтастық мәселелерін талқылады.", "kk"),
        ("Le président a reçu le secrétaire général de l'organisation à Astana.", "fr"),
        ("The president received the secretary general of the organisation in Astana.", "en"),
        ("2997 - 0 - 7", "und"),
        ("", "und"),
    ],
)
def test_examples(text, expected):
    assert detect_language(text) == expected


def test_accuracy_on_sib200_parallel_sentences(shared_data):
    """The same 204 test sentences in four languages: one short sentence each, a hard case."""
    for folder, lang in LANGS.items():
        with open(shared_data / "labels" / "sib200" / folder / "test.tsv", encoding="utf-8") as f:
            texts = [row["text"] for row in csv.DictReader(f, delimiter="\t")]
        accuracy = sum(detect_language(t) == lang for t in texts) / len(texts)
        assert accuracy >= 0.95, (lang, accuracy)
