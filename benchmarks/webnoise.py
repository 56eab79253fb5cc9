"""A generator of realistic web noise around news article text, for robustness benchmarks.

Every synthetic "site" gets its own fixed template (navigation menu, slogan, copyright, ticker
layout), as real sites do, and every page gets page-specific noise on top: photo credits, a
"related" block and a trending list whose headlines are the first sentences of *other* articles
(so the noise carries other topics, the hard case for a topic model), view counts, link lists,
and repeated paragraphs. The phrases are written for this generator (Russian and French
variants), drawn with a seeded RNG: the same seed gives the same noisy corpus.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

PHRASES = {
    "ru": {
        "menu": ["Главная", "Новости", "Политика", "Экономика", "Общество", "Происшествия", "Спорт",
                 "Культура", "Наука", "Авто", "Недвижимость", "Мнения", "Видео", "Фото", "Регионы"],
        "slogans": ["Оставайтесь с нами — самые свежие новости каждый час",
                    "Присоединяйтесь к нашему сообществу во ВКонтакте",
                    "Получайте главное за день в рассылке: подпишитесь бесплатно",
                    "Нашли ошибку? Выделите текст и нажмите Ctrl+Enter",
                    "Поделиться в соцсетях", "Скачайте наше приложение для iOS и Android"],
        "credit": ["Фото: {name} / {agency}", "Фотограф: {name}", "Иллюстрация: {agency}",
                   "Автор: {name}", "Редактор: {name}", "Источник фото: {agency}"],
        "names": ["Анна Смирнова", "Олег Иванов", "Мария Кузнецова", "Дмитрий Орлов", "Ирина Волкова"],
        "agencies": ["Агентство новостей", "Фотобанк", "пресс-служба", "открытые источники", "Архив редакции"],
        "copyright": ["© {year} Все права защищены. Использование материалов только со ссылкой на источник",
                      "© {year} Сетевое издание. Свидетельство о регистрации СМИ Эл № ФС77-{n}",
                      "Мы используем файлы cookie, чтобы сайт работал лучше. Принять"],
        "trending": ["Самое читаемое", "Популярное за неделю", "Сейчас обсуждают", "Топ новостей"],
        "related": ["Читайте также:", "По теме:", "Ещё по теме", "Материалы по теме"],
        "views": "{n} просмотров",
        "comments": "Комментарии ({n})",
        "ticker": ["USD {a} {s}{b}%", "EUR {a} {s}{b}%", "Brent {a} {s}{b}%", "Золото {a} {s}{b}%", "IMOEX {a} {s}{b}%"],
        "date": "{d}.{m}.{year}, {h}:{mi}",
        "more": "Показать ещё",
    },
    "fr": {
        "menu": ["Accueil", "Actualités", "Politique", "Économie", "Société", "Sport", "Culture",
                 "Santé", "Tech", "Monde", "Afrique", "Vidéos", "Podcasts", "Opinions"],
        "slogans": ["Abonnez-vous à notre newsletter quotidienne",
                    "Recevez nos alertes en direct sur votre téléphone",
                    "Partager sur les réseaux sociaux", "Soutenez le journalisme indépendant : faites un don",
                    "Téléchargez notre application gratuite"],
        "credit": ["Crédit photo : {name} / {agency}", "Photo : {agency}", "Par {name}", "Légende : {agency}"],
        "names": ["Claire Martin", "Jean Dupont", "Aminata Diallo", "Koffi Mensah", "Sophie Bernard"],
        "agencies": ["Agence de presse", "Getty", "archives", "service de presse", "DR"],
        "copyright": ["© {year} Tous droits réservés. Reproduction interdite sans autorisation",
                      "Ce site utilise des cookies pour améliorer votre expérience. Accepter"],
        "trending": ["Les plus lus", "À la une", "Tendances", "Populaire cette semaine"],
        "related": ["À lire aussi :", "Sur le même sujet", "Lire aussi"],
        "views": "{n} vues",
        "comments": "Commentaires ({n})",
        "ticker": ["EUR/USD {a} {s}{b}%", "CAC 40 {a} {s}{b}%", "Pétrole {a} {s}{b}%", "Or {a} {s}{b}%"],
        "date": "{d}/{m}/{year} à {h}h{mi}",
        "more": "Voir plus",
    },
}


def headline_of(text: str, max_words: int = 12) -> str:
    """A headline-like line: the text's first sentence, cut to `max_words` words.

    A teaser on other pages is a headline, never the whole body of the article: when the text is
    a single short sentence (a quote), the teaser keeps only its first two thirds, so the article's
    own text does not reappear verbatim as a trending item on other pages of the site.
    """
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    words = first.split()[:max_words]
    if len(words) == len(text.split()):
        words = words[: max(1, 2 * len(words) // 3)]
    return " ".join(words).rstrip(".,:;")


@dataclass(frozen=True)
class NoiseLevel:
    """How much page-specific noise a page gets (the site template always comes on top)."""

    trending_items: tuple[int, int] = (4, 8)
    related_blocks: tuple[int, int] = (1, 2)
    repeated_paragraphs: tuple[int, int] = (1, 2)
    ticker_probability: float = 0.5


class WebNoise:
    """Wraps article texts in site templates and page noise. `random_state` fixes everything.

    `sites` synthetic sites per language; a page's site is drawn at random, so a batch of pages holds
    several pages of each site (as a crawl does: site-level repetition is real evidence of noise).
    """

    def __init__(self, language: str = "ru", sites: int = 5, level: NoiseLevel | None = None, random_state: int = 0):
        self.language = language
        self.sites = sites
        self.level = level or NoiseLevel()
        self.random_state = random_state

    def _site_templates(self, rng: random.Random) -> list[dict]:
        p = PHRASES[self.language]
        templates = []
        for _ in range(self.sites):
            templates.append({
                "menu": " | ".join(rng.sample(p["menu"], rng.randint(6, 10))),
                "slogan": rng.choice(p["slogans"]),
                "copyright": rng.choice(p["copyright"]).format(year=rng.randint(2015, 2025), n=rng.randint(10000, 99999)),
                "footer_links": " · ".join(rng.sample(p["menu"], 5)),
                "trending_title": rng.choice(p["trending"]),
                "related_title": rng.choice(p["related"]),
            })
        return templates

    def _ticker(self, rng: random.Random) -> str:
        p = PHRASES[self.language]
        items = rng.sample(p["ticker"], 3)
        return "   ".join(
            t.format(a=f"{rng.uniform(10, 3000):.2f}".replace(".", ","), s=rng.choice("▲▼+-"), b=f"{rng.uniform(0, 3):.2f}")
            for t in items
        )

    def _date(self, rng: random.Random) -> str:
        return PHRASES[self.language]["date"].format(
            d=f"{rng.randint(1, 28):02d}", m=f"{rng.randint(1, 12):02d}", year=rng.randint(2019, 2025),
            h=f"{rng.randint(0, 23):02d}", mi=f"{rng.randint(0, 59):02d}")

    def transform(self, texts: list[str], headlines: list[str] | None = None) -> tuple[list[str], list[str]]:
        """(noisy texts, site names). `headlines`: the pool trending/related items are drawn from
        (default: the first line of each other text)."""
        rng = random.Random(self.random_state)
        templates = self._site_templates(rng)
        pool = headlines or [headline_of(t) for t in texts]
        p, level = PHRASES[self.language], self.level
        noisy, sites = [], []
        for index, text in enumerate(texts):
            site = rng.randrange(self.sites)
            t = templates[site]
            others = [h for j, h in enumerate(pool) if j != index and h]
            paragraphs = [line for line in text.split("\n") if line.strip()]
            body = list(paragraphs)
            for _ in range(rng.randint(*level.repeated_paragraphs)):
                if paragraphs:
                    body.insert(rng.randint(1, len(body)), rng.choice(paragraphs))
            for _ in range(rng.randint(*level.related_blocks)):
                block = [t["related_title"]] + rng.sample(others, min(len(others), rng.randint(1, 3)))
                at = rng.randint(1, max(1, len(body)))
                body[at:at] = block
            header = [t["menu"]]
            if rng.random() < level.ticker_probability:
                header.append(self._ticker(rng))
            header.append(self._date(rng))
            credit = rng.choice(p["credit"]).format(name=rng.choice(p["names"]), agency=rng.choice(p["agencies"]))
            trending = [t["trending_title"]]
            for headline in rng.sample(others, min(len(others), rng.randint(*level.trending_items))):
                trending += [headline, p["views"].format(n=f"{rng.randint(100, 99999):,}".replace(",", " "))]
            footer = [credit, p["comments"].format(n=rng.randint(0, 300)), t["slogan"], *trending, p["more"],
                      t["footer_links"], t["copyright"]]
            noisy.append("\n".join(header + body + footer))
            sites.append(f"site{site}.{self.language}.example")
        return noisy, sites
