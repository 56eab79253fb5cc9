"""Short news articles in page layouts the Scrapinghub pages lack: the cleaning benchmark's
"briefs" task builds its pages here.

Real article text (Lenta.ru in Russian, MasakhaNEWS in French, and for Kazakh and English the
FLORES-200 sentences of SIB-200, from ../shared/data/labels), cut to its first 1, 2 or 3 paragraphs
or kept whole (up to 8), each in three layouts: a page of divs
(header menu, content, a sidebar list of other articles' openings, footer), the same page in
HTML5 elements (header, main/article, aside, footer: all but the content pruned as furniture),
and the bare article (a CMS body, a feed item). The gold is the paragraphs; the headline and the
date line are not scored.

A Lenta paragraph is a line of at least 8 words ending with sentence punctuation; MasakhaNEWS
texts have no line breaks, so their sentences are grouped two by two, leaving out the pairs that
hold a flattened "Lire aussi" insert (another article's headline). SIB-200 keeps FLORES's sentence
ids, which run on within a source article: a run of consecutive ids is an article, its sentences
grouped two by two (the Kazakh and English articles are translations of the same English
sources, and shorter: Wikinews, Wikivoyage and Wikibooks passages). The layouts are made up:
the figures say how an extractor copes with short articles and bare markup, not how it fares on
any real site.
"""

from __future__ import annotations

import csv
import html
import random
import re
from dataclasses import dataclass
from pathlib import Path

LABELS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "labels"
LENTA = LABELS / "lenta_news9_asryan" / "train_news.csv"
MASAKHANEWS = LABELS / "masakhanews_fra" / "test.tsv"
SIB200 = {"kk": LABELS / "sib200" / "kaz_Cyrl", "en": LABELS / "sib200" / "eng_Latn"}
LENGTHS = (1, 2, 3, None)  # paragraphs per page; None: the whole article, up to MAX_PARAGRAPHS
MAX_PARAGRAPHS = 8
LAYOUTS = ("divs", "html5", "bare")
_PARAGRAPH = re.compile(r"[.!?…»\"”]$")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«\"])")
# BBC Afrique's "Lire aussi : <headline>" inserts, flattened into MasakhaNEWS's one-line texts:
# another article's headline run into this one's sentences, not article text.
_INSERT = re.compile(r"\blire aussi\b", re.I)
FURNITURE = {
    "ru": {
        "menu": ["Главная", "Политика", "Экономика", "Спорт", "Культура"],
        "sidebar": "Читают сейчас",
        "footer": "© 2024 Редакция сетевого издания. Все права защищены.",
        "links": ["О проекте", "Реклама", "Контакты"],
        "date": "12 марта 2024, 14:35",
    },
    "fr": {
        "menu": ["Accueil", "International", "Économie", "Sport", "Culture"],
        "sidebar": "Les plus lus",
        "footer": "© 2024 La Rédaction. Tous droits réservés.",
        "links": ["À propos", "Publicité", "Contact"],
        "date": "12 mars 2024 à 14h35",
    },
    "kk": {
        "menu": ["Басты бет", "Саясат", "Экономика", "Спорт", "Мәдениет"],
        "sidebar": "Көп оқылғандар",
        "footer": "© 2024 Редакция. Барлық құқықтар қорғалған.",
        "links": ["Жоба туралы", "Жарнама", "Байланыс"],
        "date": "12 наурыз 2024, 14:35",
    },
    "en": {
        "menu": ["Home", "World", "Business", "Sport", "Culture"],
        "sidebar": "Most read",
        "footer": "© 2024 The Newsroom. All rights reserved.",
        "links": ["About us", "Advertise", "Contact"],
        "date": "March 12, 2024, 2:35 pm",
    },
}


@dataclass(slots=True)
class BriefPage:
    id: str
    language: str
    layout: str
    whole: bool  # the whole article (else its first 1-3 paragraphs)
    paragraphs: list[str]  # the gold
    html: str


def available() -> bool:
    return LENTA.exists() and MASAKHANEWS.exists() and all(path.is_dir() for path in SIB200.values())


def _sib200_articles(directory: Path) -> list[list[str]]:
    """Runs of consecutive sentence ids over all splits, as paragraphs of two sentences."""
    rows = []
    for split in ("train", "dev", "test"):
        with open(directory / f"{split}.tsv", encoding="utf-8", newline="") as f:
            rows += [(int(row["index_id"]), row["text"].strip()) for row in csv.DictReader(f, delimiter="\t")]
    rows.sort()
    runs: list[list[str]] = []
    for position, (sentence_id, text) in enumerate(rows):
        if position == 0 or sentence_id != rows[position - 1][0] + 1:
            runs.append([])
        runs[-1].append(text)
    return [[p for p in _sentence_pairs(run) if _is_paragraph(p)] for run in runs]


def _sentence_pairs(sentences: list[str]) -> list[str]:
    """Sentences grouped two by two into paragraphs (the last may be one sentence)."""
    return [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]


def _is_paragraph(text: str) -> bool:
    return len(text.split()) >= 8 and bool(_PARAGRAPH.search(text))


def _articles(per_language: int, seed: int) -> dict[str, list[list[str]]]:
    """Per language, `per_language` articles (lists of paragraphs, at least 3), drawn with `seed`."""
    csv.field_size_limit(1 << 30)
    with open(LENTA, encoding="utf-8", newline="") as f:
        lenta = [[line.strip() for line in row["content"].splitlines() if _is_paragraph(line.strip())] for row in csv.DictReader(f)]
    with open(MASAKHANEWS, encoding="utf-8", newline="") as f:
        french = []
        for row in csv.DictReader(f, delimiter="\t"):
            pairs = _sentence_pairs(_SENTENCE.split(row["text"].strip()))
            french.append([p for p in pairs if _is_paragraph(p) and not _INSERT.search(p)])
    sources = [("ru", lenta), ("fr", french)] + [(language, _sib200_articles(path)) for language, path in SIB200.items()]
    rng = random.Random(seed)
    return {language: rng.sample([a for a in articles if len(a) >= 3], per_language) for language, articles in sources}


def _page(article: list[str], headline: str, others: list[str], language: str, layout: str) -> str:
    words = FURNITURE[language]
    escape = html.escape
    body = f"<h1>{escape(headline)}</h1><div class='date'>{escape(words['date'])}</div>"
    body += "".join(f"<p>{escape(p)}</p>" for p in article)
    title = f"<title>{escape(headline)}</title>"
    if layout == "bare":
        return f"<html><head>{title}</head><body>{body}</body></html>"
    menu = " ".join(f"<a href='/{i}'>{escape(item)}</a>" for i, item in enumerate(words["menu"]))
    sidebar = f"<h3>{escape(words['sidebar'])}</h3><ul>" + "".join(
        f"<li><a href='/news/{i}'>{escape(other)}</a></li>" for i, other in enumerate(others)
    ) + "</ul>"
    footer = escape(words["footer"]) + " " + " ".join(f"<a href='/p{i}'>{escape(link)}</a>" for i, link in enumerate(words["links"]))
    if layout == "divs":
        parts = (f"<div class='top'>{menu}</div>", f"<div class='text'>{body}</div>",
                 f"<div class='right'>{sidebar}</div>", f"<div class='bottom'>{footer}</div>")
    else:
        parts = (f"<header>{menu}</header>", f"<main><article>{body}</article></main>",
                 f"<aside>{sidebar}</aside>", f"<footer>{footer}</footer>")
    return f"<html><head>{title}</head><body>{''.join(parts)}</body></html>"


def brief_pages(per_language: int = 40, seed: int = 2026) -> list[BriefPage]:
    """Every article of `_articles` at every length of LENGTHS in every layout of LAYOUTS."""
    pages = []
    for language, articles in _articles(per_language, seed).items():
        openings = [" ".join(article[0].split()[:7]) for article in articles]
        for index, article in enumerate(articles):
            headline = " ".join(article[0].split()[:8]).rstrip(",.:;")
            others = [openings[(index + k) % len(articles)] for k in (1, 2, 3)]
            for length in LENGTHS:
                paragraphs = article[: length or MAX_PARAGRAPHS]
                for layout in LAYOUTS:
                    pages.append(BriefPage(
                        f"{language}-{index}-{length or 'all'}-{layout}", language, layout, length is None,
                        paragraphs, _page(paragraphs, headline, others, language, layout),
                    ))
    return pages
