"""The benchmark's web-noise generator: deterministic, keeps the article, adds every kind of noise."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from webnoise import WebNoise, headline_of  # noqa: E402

ARTICLES = [
    "Правительство утвердило новый бюджет на следующий год. Расходы на образование вырастут.\n"
    "Министр финансов назвал документ сбалансированным.",
    "Сборная выиграла чемпионат мира по хоккею. Решающую шайбу забросил капитан.\nБолельщики встречали команду в аэропорту.",
    "Учёные открыли новый вид бабочек в горах Алтая. Находку описали в научном журнале.",
]


def test_same_seed_same_pages_and_different_seed_different_pages():
    first, sites = WebNoise("ru", random_state=1).transform(ARTICLES)
    again, _ = WebNoise("ru", random_state=1).transform(ARTICLES)
    other, _ = WebNoise("ru", random_state=2).transform(ARTICLES)
    assert first == again and first != other
    assert len(sites) == len(ARTICLES) and all(s.endswith(".ru.example") for s in sites)


def test_every_article_line_survives_and_noise_surrounds_it():
    noisy, _ = WebNoise("ru", random_state=0).transform(ARTICLES)
    for article, page in zip(ARTICLES, noisy):
        lines = page.split("\n")
        assert all(line in lines for line in article.split("\n"))
        assert len(page) > 2 * len(article)
        assert any("просмотров" in line for line in lines)  # trending list with view counts
        assert any(line.startswith("©") or "cookie" in line for line in lines)


def test_trending_headlines_come_from_other_articles():
    noisy, _ = WebNoise("ru", random_state=0).transform(ARTICLES)
    own = headline_of(ARTICLES[0])
    others = {headline_of(a) for a in ARTICLES[1:]}
    lines = noisy[0].split("\n")
    assert own not in lines and any(line in others for line in lines)


def test_french_pages():
    noisy, _ = WebNoise("fr", random_state=0).transform(["Le gouvernement a adopté le budget. Il entre en vigueur en janvier."] * 3)
    assert all("vues" in page for page in noisy)
