"""Line-level noise detection for text that is already split into lines.

Two passes, as in jusText (Pomikálek 2011, ch. 4): first every line gets a verdict from its own
evidence (sure noise with a reason, sure content, or doubtful); then each doubtful line takes the
verdict of its nearest decided neighbours, with the document's edges counting as noise, so a short
headline above an article stays and a short link label in a footer goes.
"""

from __future__ import annotations

import re

from classify.clean.options import CleanOptions
from classify.document import BLANK, CONTENT, NOISE, Line

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…»\"”)]\s*$")
_DOMAIN = re.compile(r"\b[\w-]+\.(?:kz|ru|by|ua|uz|kg|com|net|org|info|fr|uk|io|news|tv|me|su)\b", re.I)
_TICKER = re.compile(r"^\s*[A-Z]{3}\s*[:=]?\s*(?:[\d.,]+(?:\s*/\s*[\d.,]+)?)?\s*$")
_CREDIT = re.compile(
    r"^\s*(?:фото|фотография|видео|иллюстрация|источник|автор фото|photo|picture|image|video|source"
    r"|credit|crédit|photo ?credit|суреттер|сурет|фото ?түсірген)\s*[:/—–-]",
    re.I,
)
_CALL_TO_ACTION_TAIL = re.compile(r"[➤►▶→»>⟶⏩👉]+\s*$")
# Phrases that mark site furniture in any article: reprint terms, copyright, subscribe/read-more
# calls, cookie and navigation labels. Stems, so inflected forms match too.
_BOILERPLATE_CUES = re.compile(
    r"гиперссылк|перепечатк|права защищены|все права|при цитировании|при использовании материал"
    r"|подпис(?:ывайтесь|аться|ка на)|читайте также|читать (?:все|далее|полностью)|читайте нас"
    r"|подписывайтесь на наш|мобильн\w+ верси|версия для печати"
    r"|all rights reserved|read more|subscribe|sign up|newsletter|cookie|mobile version|click here"
    r"|follow us|tous droits réservés|lire aussi|lire la suite|abonnez-vous|reproduction interdite"
    r"|барлық құқықтар қорғалған|жазылыңыз",
    re.I,
)

SURE = "sure"
DOUBT = "doubt"


def _own_evidence(text: str, options: CleanOptions) -> tuple[str, str | None]:
    """Classify a line by itself: (CONTENT|NOISE|DOUBT, reason for noise)."""
    stripped = text.strip()
    if not _LETTER.search(stripped):
        return NOISE, "no letters (numbers, separators, counters)"
    if _TICKER.match(stripped):
        return NOISE, "currency or market ticker"
    if _CREDIT.match(stripped):
        return NOISE, "photo/source credit"
    if _BOILERPLATE_CUES.search(stripped):
        return NOISE, "boilerplate phrase (reprint, subscribe, read-more, copyright)"
    words = _WORD.findall(stripped)
    if _CALL_TO_ACTION_TAIL.search(stripped) and len(words) < 12:
        return NOISE, "link label with an arrow (call to action)"
    has_end = bool(_SENTENCE_END.search(stripped))
    if _DOMAIN.search(stripped) and len(words) < options.min_content_words and not has_end:
        return NOISE, "site name or slogan"
    if len(words) >= options.min_content_words and (has_end or len(words) >= 2 * options.min_content_words):
        return CONTENT, None
    return DOUBT, None


def classify_lines(lines: list[Line], options: CleanOptions) -> list[Line]:
    """Mark each line CONTENT, NOISE (with a reason) or BLANK, in place; returns the same list."""
    verdicts: list[str] = []
    for line in lines:
        if not line.text.strip():
            line.status, verdict = BLANK, BLANK
        else:
            verdict, reason = _own_evidence(line.text, options)
            line.status, line.reason = (NOISE, reason) if verdict == NOISE else (CONTENT, None)
        verdicts.append(verdict)

    decided = [i for i, v in enumerate(verdicts) if v in (CONTENT, NOISE)]
    # The document's edges count as noise (page furniture sits there), except when favouring recall.
    edge = CONTENT if options.favor == "recall" else NOISE
    for i, verdict in enumerate(verdicts):
        if verdict != DOUBT:
            continue
        before = next((verdicts[j] for j in reversed(decided) if j < i), edge)
        after = next((verdicts[j] for j in decided if j > i), edge)
        neighbours = (before, after)
        if options.favor == "precision":
            keep = neighbours == (CONTENT, CONTENT)
        else:
            keep = CONTENT in neighbours
        if not keep:
            lines[i].status = NOISE
            lines[i].reason = "short line surrounded by noise"
    return lines
