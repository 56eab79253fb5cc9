"""Explicit noise rules: lines no article sentence looks like, each with a reason a reader can check.

Lines without letters (counters, separators), currency and market tickers, view and comment counters, photo/source credits, bylines, reprint /
copyright / subscribe / read-more notices, arrow-terminated link labels and bare site names. The
vocabulary is generic news-CMS furniture in ru, kk, fr and en; everything else is left to the
learned classifier.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?…»\"”)]\s*$")
_DOMAIN = re.compile(r"\w\.(?:kz|ru|by|ua|uz|kg|com|net|org|info|fr|uk|io|news|tv|me|su)\b")
_TICKER = re.compile(r"^\s*[A-Z]{3}\s*[:=]?\s*(?:[\d.,]+(?:\s*/\s*[\d.,]+)?)?\s*$")
# A quote with its change: "Brent 78,3 +1,2%", "EUR/USD 1.08 -0.3%", "Золото 2345 ▲0,4%".
_QUOTE_CHANGE = re.compile(r"^\s*[^\W\d][\w/&. -]{0,24}?\s+[\d\s.,]*\d\s*[+\-−–▲▼↑↓]\s*\d[\d.,]*\s*%\s*$")
# Counters of views and comments: "12 345 просмотров", "Комментарии (12)", "1.2K views".
_COUNTER_WORDS = (
    r"(?:просмотр\w*|прочтени\w*|комментари\w*|views?|comments?|reads?|vues?|commentaires?|lectures?"
    r"|қаралым\w*|пікір\w*)"
)
_COUNTER = re.compile(
    rf"^\W*(?:\d[\d\s.,]*\s*(?:тыс\.?|млн|k|к)?\s*{_COUNTER_WORDS}|{_COUNTER_WORDS}\s*[:(]?\s*\d[\d\s.,]*(?:тыс\.?|k|к)?\s*\)?)\W*$",
    re.I,
)
_CREDIT = re.compile(
    r"^\s*(?:фото|фотография|видео|иллюстрация|источник|автор фото|photo|picture|image|video|source"
    r"|credit|crédit|photo ?credit|суреттер|сурет|фото ?түсірген)\s*[:/—–-]",
    re.I,
)
# A staff byline ("Редактор: Мария Кузнецова", "Author: J. Smith"): a role label and a name, short,
# since an article sentence may begin with such a word ("Автор — известный писатель, который ...").
_BYLINE = re.compile(
    r"^\s*(?:автор|авторы|редактор|фотограф|корреспондент|обозреватель|текст|author|editor|photographer"
    r"|reporter|writer|auteur|rédacteur|rédactrice|journaliste|тілші|редакторы)\s*[:—–-]\s*\S",
    re.I,
)
MAX_BYLINE_WORDS = 6
# Arrows that end a link label ("Read all news ➤"); not "»", which closes Russian quotations.
_CALL_TO_ACTION_TAIL = re.compile(r"(?:[➤►▶→⟶⏩👉]|>>)\s*$")
# Multilingual boilerplate vocabulary (stems, so inflected forms match): reprint terms, copyright,
# subscribe / read-more calls, cookie banners and mobile-version switches that news CMSs print.
_BOILERPLATE_CUES = re.compile(
    r"гиперссылк|перепечатк|права защищены|при цитировании|при использовании материал"
    r"|подпис(?:ывайтесь|аться|ка на)|читайте также|читать (?:все|далее|полностью)|читайте нас"
    r"|мобильн\w+ верси|версия для печати"
    r"|all rights reserved|read more|subscribe|sign up|newsletter|cookie|mobile version|click here"
    r"|follow us|tous droits réservés|lire aussi|lire la suite|abonnez-vous|reproduction interdite"
    r"|барлық құқықтар қорғалған|жазылыңыз"
)  # matched against the lower-cased line: ten times faster than re.I on this alternation


MAX_NOTICE_WORDS = 60


@lru_cache(maxsize=8192)  # a pure function; features and verdicts both ask about each line
def rule_reason(text: str) -> str | None:
    """The reason a line is noise by an explicit rule, or None when no rule applies."""
    stripped = text.strip()
    if not _LETTER.search(stripped):
        return "no letters (numbers, separators, counters)"
    if _TICKER.match(stripped) or _QUOTE_CHANGE.match(stripped):
        return "currency or market ticker"
    if _COUNTER.match(stripped):
        return "view or comment counter"
    if _CREDIT.match(stripped):
        return "photo/source credit"
    lower = stripped.lower()
    words = _WORD.findall(stripped)
    if len(words) <= MAX_BYLINE_WORDS and _BYLINE.match(stripped):
        return "byline (author, editor or photographer credit)"
    # A notice is a sentence or two; a longer line that mentions "subscribe" is an article paragraph
    # (a one-line article with an in-line promo must not lose its body).
    if len(words) <= MAX_NOTICE_WORDS and _BOILERPLATE_CUES.search(lower):
        return "boilerplate phrase (reprint, subscribe, read-more, copyright)"
    if _CALL_TO_ACTION_TAIL.search(stripped[-4:]) and len(words) < 12:
        return "link label with an arrow (call to action)"
    if len(words) < 8 and _DOMAIN.search(lower) and not SENTENCE_END.search(stripped):
        return "site name or slogan"
    return None


