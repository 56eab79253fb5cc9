"""The cleaning stage: seeds as an unseen-document test, reasons, repetition, favor, HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

import pytest

from classify.clean import CleanOptions, clean_document, clean_documents, split_lines
from classify.clean.repetition import SourceLineCounts, document_source, line_key, source_key
from classify.clean.stage import _keep_prose_beside_kept_prose, _keep_prose_when_none_kept
from classify.document import BLANK, CONTENT, NOISE, Document, Line

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOLD = json.loads((SEEDS / "GOLD.json").read_text())
SEED_NAMES = sorted(name for name in GOLD if name.endswith(".txt"))


def _seed_docs() -> list[Document]:
    # As the reader delivers them: one batch, the input directory as the source.
    return [
        Document(id=name, text=(SEEDS / name).read_text(encoding="utf-8"), source=str(SEEDS / name))
        for name in SEED_NAMES
    ]


def _noise_lines(entry: dict) -> set[int]:
    noise = entry["noise"]
    if isinstance(noise, str):
        first, last = map(int, noise.split("-"))
        return set(range(first, last + 1))
    return set(noise)


def test_seeds_every_gold_line_right() -> None:
    docs = clean_documents(_seed_docs())
    for doc in docs:
        entry = GOLD[doc.id]
        by_number = {line.number: line for line in doc.lines}
        wrongly_removed = [n for n in entry["content"] if not by_number[n].kept]
        wrongly_kept = [n for n in _noise_lines(entry) if by_number[n].kept]
        assert wrongly_removed == [], (doc.id, [(n, by_number[n].reason) for n in wrongly_removed])
        assert wrongly_kept == [], (doc.id, [(n, by_number[n].text) for n in wrongly_kept])


def test_seeds_each_document_alone_too() -> None:
    # Without batch evidence (no repetition counts) the seeds must still come out right.
    for doc in _seed_docs():
        clean_document(doc)
        entry = GOLD[doc.id]
        kept = {line.number for line in doc.lines if line.kept}
        assert set(entry["content"]) <= kept
        assert not (_noise_lines(entry) & kept)


def test_no_seed_specific_strings_in_the_package() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "classify").rglob("*.py")).casefold()
    for doc in _seed_docs():
        lines = doc.text.splitlines()
        for number in _noise_lines(GOLD[doc.id]):
            text = lines[number - 1].strip()
            if len(text) >= 12:
                assert text.casefold() not in source, text
        for domain in re.findall(r"[\w-]+\.kz", doc.text, flags=re.I):
            assert domain.casefold() not in source, domain


def test_every_line_gets_a_status_and_every_removed_line_a_reason() -> None:
    for doc in clean_documents(_seed_docs()):
        for line in doc.lines:
            assert line.status in (CONTENT, NOISE, BLANK)
            assert (line.status == BLANK) == (not line.text.strip())
            if line.status == NOISE:
                assert line.reason
            if line.status != BLANK:
                assert line.score is not None and 0.0 <= line.score <= 1.0


ARTICLE = (
    "The city council approved the new budget on Tuesday after a long debate about schools.\n"
    "Officials said the plan would add funding for teachers and repair several old buildings.\n"
    "Critics argued that the increase in property taxes would hurt families on fixed incomes.\n"
)


def _article(name: str) -> str:
    """Three article sentences unique to `name` (digits would not do: repetition ignores them)."""
    return "\n".join(f"{sentence[:-1]}, {name} reported." for sentence in ARTICLE.splitlines())


def test_line_repeated_across_a_source_is_removed_with_its_count() -> None:
    signature = "Our journalists work every day so that you can read independent news from the region."
    docs = [
        Document(id=name, text=f"{_article(name)}\n{signature}", source=f"d/{name}.txt", metadata={"source": "channel-a"})
        for name in ("Alma", "Boris", "Chen", "Dana")
    ]
    clean_documents(docs)
    for doc in docs:
        last = doc.lines[-1]
        assert last.status == NOISE and last.reason == "repeated in 4 documents of the same source"
        assert [line.kept for line in doc.lines[:-1]] == [True, True, True]


def test_repetition_is_counted_per_source() -> None:
    signature = "Our journalists work every day so that you can read independent news from the region."
    docs = [
        Document(id=str(i), text=f"{ARTICLE}{signature}", source=f"d/{i}.txt", metadata={"source": f"site-{i}"})
        for i in range(4)
    ]
    clean_documents(docs)
    assert all("repeated" not in (doc.lines[-1].reason or "") for doc in docs)


def test_a_batch_as_large_as_the_threshold_is_counted() -> None:
    """The batch alone is the evidence: a line in `min_source_repeats` of its documents is noise,
    however small the batch (nothing is counted only below that size)."""
    signature = "Our journalists work every day so that you can read independent news from the region."
    docs = [Document(id=n, text=f"{_article(n)}\n{signature}", source="x", metadata={"source": "s"}) for n in ("Alma", "Boris")]
    clean_documents(docs, CleanOptions(min_source_repeats=2))
    assert all(doc.lines[-1].status == NOISE and "repeated in 2" in doc.lines[-1].reason for doc in docs)
    alone = Document(id="a", text=f"{ARTICLE}{signature}", source="x", metadata={"source": "s"})
    clean_documents([alone], CleanOptions(min_source_repeats=2))
    assert "repeated" not in (alone.lines[-1].reason or "")


def test_persistent_counts_carry_evidence_across_batches(tmp_path: Path) -> None:
    signature = "Our journalists work every day so that you can read independent news from the region."
    counts = SourceLineCounts()
    for name in ("Alma", "Boris"):
        clean_documents([Document(id=name, text=f"{_article(name)}\n{signature}", source="x", metadata={"source": "s"})], counts=counts)
    counts.save(tmp_path / "counts.npz")
    reloaded = SourceLineCounts.load(tmp_path / "counts.npz")
    doc = Document(id="3", text=f"{ARTICLE}{signature}", source="x", metadata={"source": "s"})
    clean_documents([doc], counts=reloaded)
    assert doc.lines[-1].status == NOISE and "repeated in 3" in doc.lines[-1].reason


def test_complete_counts_stay_complete_through_a_file(tmp_path: Path) -> None:
    """Workers load the corpus's counts from a file and look lines up without adding their batch:
    counts read back as incomplete would count every batch a second time."""
    signature = "Our journalists work every day so that you can read independent news from the region."
    docs = [Document(id=n, text=f"{_article(n)}\n{signature}", source="x", metadata={"source": "s"}) for n in ("Alma", "Boris", "Chen")]
    counts = SourceLineCounts.merged([SourceLineCounts().add_documents(docs)], complete=True)
    counts.save(tmp_path / "counts.npz")
    reloaded = SourceLineCounts.load(tmp_path / "counts.npz")
    assert reloaded.complete
    clean_documents(docs[:1], counts=reloaded)
    assert reloaded.count("s", line_key(signature)) == 3 and reloaded.documents["s"] == 3


def _copies_and_others() -> list[Document]:
    """One source: three copies of one article (one URL fetched three times) and two other
    articles, all five signed with the same line."""
    signature = "Our journalists work every day so that you can read independent news from the region."
    names = ("Alma", "Alma", "Alma", "Boris", "Chen")
    return [Document(id=str(i), text=f"{_article(n)}\n{signature}", source="x", metadata={"source": "s"})
            for i, n in enumerate(names)]


def test_copies_of_one_article_count_once() -> None:
    """Three copies' paragraphs are in three documents, as a slogan would be; counted once, they
    stay content, while the signature the copies share with other articles is still noise
    (in 5 documents, the copies once: 3)."""
    docs = clean_documents(_copies_and_others())
    for doc in docs[:3]:
        assert [line.kept for line in doc.lines[:-1]] == [True, True, True], [line.reason for line in doc.lines]
        assert doc.lines[-1].reason == "repeated in 3 documents of the same source"
    for doc in docs[3:]:
        assert doc.lines[-1].reason == "repeated in 5 documents of the same source"
    line = docs[0].lines[0].text
    assert SourceLineCounts().add_documents(docs).count("s", line_key(line)) == 3  # the raw count keeps every copy


def test_a_text_the_source_posts_again_and_again_is_its_boilerplate() -> None:
    """Beyond `copies_counted_once` copies, each copy counts: a channel's promo posted six times
    over is its boilerplate (6 copies, 3 counted as one: in 4 documents)."""
    promo = ("Напоминаем, что у нас есть бесплатный курс для всех, кто хочет научиться писать.\n"
             "Записывайтесь сегодня, пока на курсе ещё остались свободные места для новых учеников.")
    docs = [Document(id=str(i), text=promo, source="x", metadata={"source": "s"}) for i in range(6)]
    docs += [Document(id=n, text=_article(n), source="x", metadata={"source": "s"}) for n in ("Alma", "Boris")]
    clean_documents(docs)
    for doc in docs[:6]:
        assert [line.reason for line in doc.lines] == ["repeated in 4 documents of the same source"] * 2
    assert all(line.kept for doc in docs[6:] for line in doc.lines)
    with pytest.raises(ValueError, match="copies_counted_once"):
        CleanOptions(copies_counted_once=0)


def test_copies_are_counted_the_same_in_parts_shuffles_and_files(tmp_path: Path) -> None:
    """Copies in different batches, workers (parts merged), key ranges (a Dask shuffle: split,
    filtered, joined) or a saved file give the counts the whole corpus gives at once."""
    docs = _copies_and_others()
    keys = [[line_key(line) for line in doc.text.splitlines()] for doc in docs]
    whole = SourceLineCounts().add_documents(docs)
    expected = [whole.counts_for("s", k, copies_counted_once=3).tolist() for k in keys]
    assert expected[0] == [1, 1, 1, 3] and expected[3] == [1, 1, 1, 5]
    parts = SourceLineCounts.merged(SourceLineCounts().add_documents([doc]) for doc in docs)
    shuffled = SourceLineCounts.merged(
        [SourceLineCounts.merged(pieces).repeated(2) for pieces in zip(*(SourceLineCounts().add_documents([d]).split(3) for d in docs))]
    )
    whole.save(tmp_path / "counts.npz")
    reloaded = SourceLineCounts.load(tmp_path / "counts.npz")
    for counts in (parts, reloaded):
        assert [counts.counts_for("s", k, copies_counted_once=3).tolist() for k in keys] == expected
    # The shuffle keeps lines in >= 2 documents only (the copies' lines are, read as 1); the other
    # articles' own lines read as 0, below any threshold.
    assert [shuffled.counts_for("s", k, copies_counted_once=3).tolist() for k in keys] == [[1, 1, 1, 3]] * 3 + [[0, 0, 0, 5]] * 2


def test_counts_saved_before_copies_were_counted_still_load(tmp_path: Path) -> None:
    signature_key = line_key("Our journalists work every day so that you can read independent news from the region.")
    keys = np.array([signature_key ^ int(source_key("s"))], dtype=np.uint64)
    header = json.dumps({"format": "classify-source-line-counts/1", "documents": {"s": 4}, "complete": False})
    np.savez(tmp_path / "old.npz", header=np.frombuffer(header.encode(), dtype=np.uint8), keys=keys,
             counts=np.array([4], dtype=np.uint32))
    old = SourceLineCounts.load(tmp_path / "old.npz")
    assert old.count("s", signature_key) == 4 and old.documents["s"] == 4 and len(old.copies) == 0


def test_line_key_ignores_case_digits_and_punctuation() -> None:
    assert line_key("USD: 517.3 / 519.9") == line_key("usd 601,1 / 602,2")
    assert line_key("Подписывайтесь!") != line_key("Подпишитесь")
    assert line_key("  ---  ") == 0  # no letters or digits: never counted


def test_counts_merged_from_parts_equal_counts_of_the_whole() -> None:
    rng = np.random.default_rng(0)
    docs = [
        Document(id=str(i), text="\n".join(f"row {'q' * (k + 1)}" for k in rng.integers(0, 40, size=12)), source="x",
                 metadata={"source": f"site-{i % 3}"})
        for i in range(300)
    ]
    whole = SourceLineCounts().add_documents(docs)
    merged = SourceLineCounts()
    for begin in range(0, 300, 70):
        merged.update(SourceLineCounts().add_documents(docs[begin : begin + 70]))
        assert len(merged) > 0  # flushes: each part after the first is merged into sorted arrays
    for source in ("site-0", "site-1", "site-2"):
        keys = [line_key(f"row {'q' * (k + 1)}") for k in range(40)]
        expected = [sum(1 for doc in docs if doc.metadata["source"] == source and f"row {'q' * (k + 1)}" in doc.text.split("\n"))
                    for k in range(40)]
        assert whole.counts_for(source, keys).tolist() == expected
        assert merged.counts_for(source, keys).tolist() == expected
    assert merged.documents == whole.documents
    assert whole.count("site-9", line_key("row q")) == 0  # another source's lines are not its own


def test_complete_counts_are_looked_up_not_added_to() -> None:
    signature = "Our journalists work every day so that you can read independent news from the region."
    bodies = [
        "The council approved the new budget on Tuesday after a long debate about schools and roads.",
        "Farmers in the valley expect a record harvest this autumn thanks to a mild and rainy summer.",
        "The city museum reopened its doors after two years of renovation with a new modern art wing.",
    ]
    docs = [Document(id=str(i), text=f"{body}\n{signature}", source="x", metadata={"source": "s"}) for i, body in enumerate(bodies)]
    corpus = SourceLineCounts(complete=True).add_documents(docs).repeated(3)
    assert len(corpus) == 1 and corpus.complete  # only the signature recurs in >= 3 documents
    clean_documents(docs[:1], counts=corpus)  # one document per batch, yet the corpus's evidence
    assert "repeated in 3" in docs[0].lines[-1].reason
    assert corpus.count("s", line_key(signature)) == 3  # not counted twice


def test_document_source_prefers_metadata_then_site_then_directory() -> None:
    assert document_source(Document(id="a", text="", source="x/y.txt", metadata={"source": "tg"})) == "tg"
    assert document_source(Document(id="a", text="", source="x/y.txt", metadata={"url": "https://www.site.kz/a/b"})) == "site.kz"
    assert document_source(Document(id="a", text="", source="in/dir/y.txt")) == "in/dir"


def test_favor_orders_what_is_kept() -> None:
    text = _seed_docs()[3].text + "\nShare this article\nMore news\n" + ARTICLE
    kept = {}
    for favor in ("precision", "balanced", "recall"):
        doc = clean_document(Document(id="x", text=text, source="x"), CleanOptions(favor=favor))
        kept[favor] = {line.number for line in doc.lines if line.kept}
    assert kept["precision"] <= kept["balanced"] <= kept["recall"]


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError):
        CleanOptions(favor="speed")
    with pytest.raises(ValueError):
        CleanOptions(min_source_repeats=1)


PAGE = """<html><head><title>Council approves budget | City News</title></head><body>
<nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav>
<div class="content"><article>
<h1>Council approves budget</h1>
<p>The city council approved the new budget on Tuesday after a long debate about schools, roads and parks.</p>
<p>Officials said the plan would add funding for teachers and repair several old buildings in the centre.</p>
<p>Critics argued that the increase in property taxes would hurt families on fixed incomes, and asked for a vote.</p>
<p>The mayor said she would meet residents next month to explain the decision, which takes effect in January.</p>
</article>
<div class="related"><h3>Related</h3><ul><li><a href="/a">Mayor opens new bridge</a></li>
<li><a href="/b">Schools get new computers</a></li></ul></div></div>
<footer><p>© 2024 City News. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
<script>var x = "not text";</script></body></html>"""


def test_html_main_content_is_extracted_and_furniture_removed() -> None:
    doc = clean_document(Document(id="p", text=PAGE, source="p.html", format="html"))
    kept = doc.clean_text()
    assert "approved the new budget" in kept and "takes effect in January" in kept
    assert "Council approves budget" in kept  # the headline, kept by default
    for furniture in ("Politics", "Mayor opens new bridge", "All rights reserved", "not text"):
        assert furniture not in kept
    assert all(line.reason for line in doc.lines if line.status == NOISE)


def test_html_headline_is_kept_only_on_request() -> None:
    def headline(options: CleanOptions):
        doc = clean_document(Document(id="p", text=PAGE, source="p.html", format="html"), options)
        return next(line for line in doc.lines if line.text == "Council approves budget")

    assert headline(CleanOptions(keep_title=True)).kept
    # Without keep_title the block classifier alone decides, never the headline rule.
    assert "headline" not in (headline(CleanOptions(keep_title=False, favor="precision")).reason or "")


def test_html_furniture_is_pruned_with_its_reason() -> None:
    doc = clean_document(Document(id="p", text=PAGE, source="p.html", format="html"))
    nav = next(line for line in doc.lines if "Politics" in line.text)
    assert nav.status == NOISE and nav.reason == "page furniture (inside <nav>, not scored)"


def test_readers_comments_are_pruned_but_a_commentary_article_is_not() -> None:
    comments = (
        '<div id="comments"><h3>3 comments</h3><div class="comment"><p>I completely disagree with the council, '
        "this budget will ruin the schools and nobody asked the parents what they think.</p></div></div>"
    )
    page = PAGE.replace("</article>", f"</article>{comments}")
    doc = clean_document(Document(id="p", text=page, source="p.html", format="html"))
    comment = next(line for line in doc.lines if "I completely disagree" in line.text)
    assert comment.status == NOISE and comment.reason == "page furniture (inside <div id=comments>, not scored)"
    assert "approved the new budget" in doc.clean_text()
    commentary = PAGE.replace("<article>", '<article class="commentary">')
    doc = clean_document(Document(id="c", text=commentary, source="c.html", format="html"))
    assert "approved the new budget" in doc.clean_text()


def test_split_lines_numbers_from_one_and_keeps_blank_lines() -> None:
    lines = split_lines(Document(id="t", text="a\n\nb", source="t"))
    assert [(line.number, line.text) for line in lines] == [(1, "a"), (2, ""), (3, "b")]


def test_empty_and_degenerate_documents() -> None:
    for text, fmt in (("", "text"), ("\n\n", "text"), ("", "html"), ("<html></html>", "html"), ("<<<>>>", "html")):
        doc = clean_document(Document(id="e", text=text, source="e", format=fmt))
        assert doc.clean_text() == ""


def test_a_page_is_not_emptied_of_its_prose():
    """A minimal page the block model dislikes keeps its article paragraph, with the reason why."""
    from classify.clean import clean_documents
    from classify.document import Document

    article = "Сборная провела товарищеский матч в столице. Тренер остался доволен игрой молодых защитников."
    doc = Document(id="p", text=f"<html><body><div><p>{article}<p><b><i>menu", source="p.html", format="html")
    clean_documents([doc])
    assert doc.clean_text() == article
    assert [line.status for line in doc.lines if line.text == "menu"] == ["noise"]
    # Whenever the block classifier drops every block, the prose blocks come back with the reason.
    from classify.clean.stage import PROSE_REASON, _keep_prose_when_none_kept
    from classify.document import Line

    dropped = "HTML block classifier: content probability 0.10 < 0.40"
    lines = [Line(1, article, NOISE, dropped), Line(2, "menu", NOISE, dropped)]
    _keep_prose_when_none_kept(lines)
    assert [(line.status, line.reason) for line in lines] == [(CONTENT, PROSE_REASON), (NOISE, dropped)]


def test_a_long_article_line_with_an_inline_promo_is_kept():
    from classify.clean.rules import rule_reason

    sentence = "Le gouvernement a annoncé de nouvelles mesures pour soutenir les agriculteurs de la région. "
    article = sentence * 8 + "Abonnez-vous à notre newsletter. " + sentence * 8
    assert rule_reason(article) is None
    assert rule_reason("Abonnez-vous à notre newsletter pour recevoir les dernières nouvelles.") is not None


def test_the_kept_headline_is_the_h1_even_after_pruned_furniture():
    """The headline's line index must survive the nav/header lines inserted before it."""
    from classify.clean import clean_documents
    from classify.document import Document

    paragraphs = "".join(
        f"<p>Стороны обсудили итоги миссии и планы сотрудничества на следующий год, пункт {i}.</p>" for i in range(4)
    )
    html = (
        "<html><head><title>Президент принял генсека</title></head><body>"
        "<header><a href=/>Главная</a></header><nav><a href=/p>Политика</a></nav>"
        f"<main><article><h1>Президент принял генсека</h1>{paragraphs}<div>Поделиться</div></article></main></body></html>"
    )
    doc = Document(id="h", text=html, source="h.html", format="html")
    clean_documents([doc])
    kept = [line.text for line in doc.lines if line.kept]
    assert kept[0] == "Президент принял генсека"
    assert "Поделиться" not in kept


def test_bylines_are_credits_but_sentences_starting_with_the_role_are_not() -> None:
    from classify.clean.rules import rule_reason

    for byline in ("Редактор: Мария Кузнецова", "Фотограф — Иван Петров", "Author: John Smith", "Auteur : Jean Dupont"):
        assert rule_reason(byline) and "byline" in rule_reason(byline), byline
    assert rule_reason("Автор — известный писатель, который долго жил в Париже и написал много книг.") is None
    assert rule_reason("Авторы законопроекта считают, что он снизит нагрузку на бюджет региона.") is None


def test_photo_source_credits_are_credits() -> None:
    from classify.clean.rules import rule_reason

    for credit in ("Фото: Анна Смирнова", "Источник фото: пресс-служба", "Source photo : AFP", "Image source: Reuters"):
        assert rule_reason(credit) is not None, credit
    assert rule_reason("Источник в правительстве сообщил, что решение будет принято на следующей неделе.") is None


def test_counters_and_quote_changes_are_noise_but_sentences_with_numbers_are_not() -> None:
    from classify.clean.rules import rule_reason

    for line in ("12 345 просмотров", "Комментарии (12)", "1.2K views", "45 vues", "Brent 78,3 +1,2%", "EUR/USD 1.08 -0.3%"):
        assert rule_reason(line) is not None, line
    for sentence in ("Курс доллара вырос на 1,2% за неделю.", "В 2023 году было 12 345 просмотров видео, сообщил он."):
        assert rule_reason(sentence) is None, sentence


@pytest.mark.parametrize(
    "line",
    ["12 марта 2024, 14:35", "Вторник, 12 марта 2024", "Обновлено 12 марта 2024 г., 14:35 МСК", "Сегодня в 14:35",
     "12 наурыз 2024, 14:35", "12 мамыр 2024 ж.", "12 mars 2024 à 14h35", "Aujourd'hui à 14h35",
     "March 12, 2024, 2:35 pm", "Updated: March 12, 2024", "Mon, 12 Mar 2024 14:35:00 GMT", "1st of May 2024",
     "First Published: Tuesday, November 19, 2019 08:38 AM", "Updated 11:21 pm CST, Tuesday, November 19, 2019",
     "11/20/2019 01:14 PM", "Le 20.11.2019"],
)
def test_a_line_that_is_only_a_date_or_time_is_noise(line: str) -> None:
    from classify.clean.lines import classify_lines
    from classify.clean.options import CleanOptions
    from classify.document import Line

    article = "Городской совет во вторник утвердил новый бюджет после долгого спора о школах и дорогах."
    lines = classify_lines([Line(1, line), Line(2, article)], CleanOptions(favor="recall"))
    assert (lines[0].status, lines[0].reason, lines[1].kept) == ("noise", "date or time line", True)


def test_recall_keeps_weakly_removed_runs_inside_the_article_and_nothing_firm() -> None:
    from classify.clean.lines import classify_lines
    from classify.clean.options import CleanOptions

    paragraph = "Городской совет во вторник утвердил новый бюджет после долгого спора о школах и дорогах."
    texts = [(paragraph, 0.9), ("___", 0.2), (paragraph, 0.9), ("- GPS", 0.01), ("- Swim proof", 0.01), (paragraph, 0.9),
             ("Подпишитесь на наш канал в Telegram", 0.9), (paragraph, 0.9), ("- GPS", 0.01), ("224", 0.2)]

    def kept(favor: str) -> list[bool]:
        lines = [Line(n, text, score=score) for n, (text, score) in enumerate(texts, 1)]
        return [line.kept for line in classify_lines(lines, CleanOptions(favor=favor), threshold=0.5)]

    # The separator and the short list items sit between kept paragraphs; the subscribe call is
    # removed by a firm rule, and the run at the end has no kept line after it.
    assert kept("recall") == [True, True, True, True, True, True, False, True, False, False]
    assert kept("balanced") == [True, False, True, False, False, True, False, True, False, False]


@pytest.mark.parametrize(
    "line",
    ["Related: The 15 Weirdest Galaxies in Our Universe", "SEE MORE: Hong Kong protests: students under siege",
     "Related articles", "You may also like:", "Read Next", "Voir aussi : la réforme des retraites",
     "Смотрите также: Как изменятся тарифы ЖКХ", "По теме:", "Тағы оқыңыз: Астанада жаңа мектеп ашылды",
     "Continue reading the main story"],
)
def test_a_line_opening_with_a_read_more_cue_is_a_link_to_another_article(line: str) -> None:
    from classify.clean.rules import BOILERPLATE_REASON, verdict_reason

    assert verdict_reason(line) == BOILERPLATE_REASON


def test_sentences_that_open_with_a_read_more_cue_word_are_not_links() -> None:
    from classify.clean.rules import verdict_reason

    for sentence in ("Related to this, the ministry said prices would rise.", "More from the interview is below.",
                     "Continue reading to find out why prices rose.",
                     "По теме доклада выступил министр.", "See more of the city by bike, the guide advises."):
        assert verdict_reason(sentence) is None, sentence


def test_advertisement_labels_and_archive_entries_are_noise_but_sentences_and_code_are_not() -> None:
    from classify.clean.rules import AD_REASON, ENTRY_REASON, verdict_reason

    for label in ("Advertisement", "ADVERTISEMENT – Ponderosa Homes", "Sponsored Content", "Реклама", "#реклама", "Publicité"):
        assert verdict_reason(label) == AD_REASON, label
    for entry in ("Akhlaq (47)", "Julho (235)", "Show new comments (0)", "Экономика (1204)", "Саясат [12]"):
        assert verdict_reason(entry) == ENTRY_REASON, entry
    for text in ("Реклама — двигатель торговли, сказал он", "Ad-hoc committee formed", "Advertising revenue fell 5% in May.",
                 "await asyncio.sleep(1)", "Постоянное время: O(1)", "В 2019 году умерли пять человек (12)"):
        assert verdict_reason(text) is None, text


def test_sentences_and_headlines_with_dates_are_not_date_lines() -> None:
    from classify.clean.rules import date_line

    for text in ("12 марта 2024 года суд вынес приговор.", "The 3 March meeting", "Mars 2020 rover", "May 2024 be better",
                 "Сегодня", "Выборы 12 марта: что известно", "В 14:00 начнётся митинг", "4:14 p.m.",
                 "Version 1.5.20 released", "Le 12.11.2019 et le 13.11.2019, la grève continue"):
        assert not date_line(text), text


# The hint and cue patterns are written grouped by first letter for speed; these lists are what
# they must mean, so a regrouping that drops or misspells an alternative fails here.
NEGATIVE_HINTS = (
    "nav menu foot sidebar side-bar share sharing social related recommend comment disqus advert ads ad ad-slot "
    "promo banner breadcrumb subscribe newsletter cookie consent popup modal widget tag tags tag-list author-bio "
    "byline meta caption credit copyright masthead header toolbar signup login paywall outbrain taboola trending "
    "most-popular mostpopular more-stories read-more readmore hidden"
).split()
POSITIVE_HINTS = "article content post entry story body text main blog news paragraph prose rich-text richtext".split()
NOTICE_CUES = (
    "гиперссылка", "перепечатка", "Все права защищены", "При цитировании", "При использовании материалов",
    "Подписывайтесь", "Подпишитесь", "Подпишись", "Читайте также", "Читать все", "Читать далее",
    "Читать полностью", "Читайте нас", "Мобильная версия", "Версия для печати", "All rights reserved",
    "Read more", "Mobile version", "Tous droits réservés", "Lire aussi", "Lire la suite", "Abonnez-vous",
    "Inscrivez-vous", "Suivez-nous", "Reproduction interdite",
    "Барлық құқықтар қорғалған", "Жазылыңыз", "Толығырақ оқыңыз", "Сондай-ақ оқыңыз",
)
CALL_CUES = (
    "подписаться", "подписка на", "Subscribe", "Sign up", "Newsletter", "Newsletters", "Click here", "Follow us",
    "We use cookies", "Cookie policy", "Cookie settings", "Accept cookies", "использует файлы cookie",
    "Ce site utilise des cookies",
)


@pytest.mark.parametrize("hint", NEGATIVE_HINTS)
def test_furniture_class_hints_are_recognised(hint: str) -> None:
    from classify.clean.html import NEGATIVE_HINT

    assert NEGATIVE_HINT.search(f"wrap {hint}-box"), hint


@pytest.mark.parametrize("hint", POSITIVE_HINTS)
def test_article_class_hints_are_recognised(hint: str) -> None:
    from classify.clean.html import POSITIVE_HINT

    assert POSITIVE_HINT.search(f"wrap {hint}-box"), hint


def test_ads_and_tags_hints_are_whole_words_only() -> None:
    from classify.clean.html import NEGATIVE_HINT

    for ordinary in ("uploads", "badge", "heads", "stage", "vintage", "roads"):
        assert not NEGATIVE_HINT.search(ordinary), ordinary
    for plain in ("container", "row col-8", "wrapper"):
        assert not NEGATIVE_HINT.search(plain), plain


@pytest.mark.parametrize("cue", NOTICE_CUES)
def test_boilerplate_cues_are_recognised_in_a_short_notice(cue: str) -> None:
    from classify.clean.rules import BOILERPLATE_REASON, rule_reason

    assert rule_reason(f"{cue} на сайте") == BOILERPLATE_REASON


@pytest.mark.parametrize("cue", CALL_CUES)
def test_subscribe_and_cookie_calls_are_recognised_in_a_short_line(cue: str) -> None:
    from classify.clean.rules import CALL_REASON, rule_reason

    assert rule_reason(f"{cue} на сайте") == CALL_REASON


@pytest.mark.parametrize(
    "sentence",
    [
        "The streaming service added 10 million subscribers in its first week, the company said.",
        "Disney continued to sign up additional subscribers throughout the week, Mayer said, while its "
        "engineers patched the software that had locked thousands of customers out on launch day.",
        "Годовая подписка на газеты и журналы подорожала на треть, сообщили в Почте России.",
        "Жители собрали подписи, и более ста тысяч человек успели подписаться под обращением к губернатору "
        "с просьбой сохранить парк, который власти города собирались отдать под застройку жилого квартала.",
        "She baked oatmeal cookies for the charity sale, which raised 3,000 dollars for the shelter.",
    ],
)
def test_news_sentences_that_mention_subscribing_are_not_calls(sentence: str) -> None:
    from classify.clean.rules import rule_reason

    assert rule_reason(sentence) is None, sentence


def test_line_memo_caches_short_lines_only() -> None:
    from classify.clean.memo import MAX_CACHED_CHARS

    line_key.cache_clear()
    short, long = "Подписывайтесь на наш канал", "Длинный абзац статьи. " * (MAX_CACHED_CHARS // 10)
    assert line_key(short) == line_key(short) and line_key.cache_info().currsize == 1
    assert line_key(long) == line_key(long.upper())  # computed, not cached
    assert line_key.cache_info().currsize == 1


def test_a_batch_is_scored_exactly_as_each_document_alone() -> None:
    """The line model runs once over a whole batch; rows must not see other documents."""
    from classify.clean.lines import score_unscored_lines
    from classify.document import Line

    texts = [(SEEDS / name).read_text(encoding="utf-8") for name in SEED_NAMES] + ["", "Одна строка без точки"]

    def lines_of(text: str) -> list[Line]:
        return [Line(number=i, text=t) for i, t in enumerate(text.splitlines(), start=1)]

    batch = [lines_of(text) for text in texts]
    score_unscored_lines(batch)
    for text, scored in zip(texts, batch):
        alone = lines_of(text)
        score_unscored_lines([alone])
        assert [line.score for line in scored] == [line.score for line in alone]
    assert all(line.score is not None for lines in batch for line in lines if line.text.strip())


BRIEF = {
    "ru": [
        "Городской совет во вторник утвердил новый бюджет после долгого спора о школах и дорогах.",
        "Фермеры долины ожидают этой осенью рекордного урожая благодаря мягкому и дождливому лету.",
        "Городской музей открылся после двух лет ремонта, и в нём появилось новое крыло искусства.",
    ],
    "fr": [
        "Le conseil municipal a adopté mardi le nouveau budget après un long débat sur les écoles.",
        "Les agriculteurs de la vallée attendent une récolte record cet automne grâce à un été doux.",
        "Le musée de la ville a rouvert ses portes après deux ans de travaux, avec une nouvelle aile.",
    ],
}


_BRIEF_LAYOUTS = {
    "bare": ("", "<article>{article}</article>", ""),
    "semantic": ("<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>", "<article>{article}</article>",
                 "<footer>© 2024</footer>"),
    "div": ("<div class='header'><a href='/'>Home</a> <a href='/politics'>Politics</a> <a href='/sport'>Sport</a></div>",
            "<div class='content'>{article}</div>",
            "<div class='sidebar'><h3>Popular</h3><ul><li><a href='/1'>Dollar rises again</a></li>"
            "<li><a href='/2'>First snow in the city</a></li></ul></div><div class='footer'>© 2024 City News</div>"),
}


@pytest.mark.parametrize("language", sorted(BRIEF))
@pytest.mark.parametrize("paragraphs", [1, 2, 3])
@pytest.mark.parametrize("layout", sorted(_BRIEF_LAYOUTS))
def test_a_short_html_article_keeps_every_paragraph(language: str, paragraphs: int, layout: str) -> None:
    """A news brief alone, in a page whose only furniture after it is a <footer> (pruned before
    scoring), or in a div layout with a sidebar: the block model, trained on long articles in
    full pages, scores a brief's paragraphs low (it dropped the last one at 0.02); the cleaner
    keeps prose beside kept prose of the same container, and a page's prose when it kept none."""
    texts = BRIEF[language][:paragraphs]
    before, container, after = _BRIEF_LAYOUTS[layout]
    article = "<h1>Budget</h1>" + "".join(f"<p>{text}</p>" for text in texts)
    page = f"<html><head><title>Budget</title></head><body>{before}{container.format(article=article)}{after}</body></html>"
    doc = clean_document(Document(id="a", text=page, source="a.html", format="html"))
    assert [line.text for line in doc.lines if line.kept and line.text in texts] == texts, [(l.text[:20], l.reason) for l in doc.lines]
    assert not any(line.kept for line in doc.lines if "Dollar" in line.text or "Home" in line.text)


def _scored(text: str, kept: bool) -> Line:
    line = Line(number=0, text=text, score=0.9 if kept else 0.01)
    line.status, line.reason = (CONTENT, None) if kept else (NOISE, "HTML block classifier: content probability 0.01 < 0.12")
    return line


def test_prose_beside_kept_prose_is_kept_within_its_container_only() -> None:
    prose = [f"{sentence[:-1]}, {name} reported." for name in ("Alma", "Boris") for sentence in ARTICLE.splitlines()]
    lines = [
        _scored(prose[0], False), _scored(prose[1], False), _scored(prose[2], True),  # container 7: a run of prose
        _scored(prose[3], False),  # container 8: beside kept prose, but another container
        _scored("Most read", False), _scored(prose[4], False),  # container 9: a label breaks nothing, keeps nothing
    ]
    _keep_prose_beside_kept_prose(lines, [7, 7, 7, 8, 9, 9])
    assert [line.kept for line in lines] == [True, True, True, False, False, False]
    assert lines[0].reason.startswith("kept: prose beside kept prose")


def test_a_page_that_kept_no_prose_gets_its_prose_back() -> None:
    """The headline (not prose) kept, the article's only paragraph dropped: the paragraph is kept."""
    paragraph = ARTICLE.splitlines()[0]
    lines = [_scored("Budget", True), _scored(paragraph, False), _scored("Home News Sport", False)]
    _keep_prose_when_none_kept(lines)
    assert [line.kept for line in lines] == [True, True, False]


def test_a_pre_split_html_page_that_kept_no_prose_gets_it_back() -> None:
    """Lines given with their block scores (`split_lines`, then cleaning) get the same rescue as
    a page split by the cleaner."""
    paragraph = ARTICLE.splitlines()[0]
    doc = Document(id="a", text="<html></html>", source="a.html", format="html")
    doc.lines = [Line(number=1, text="Budget", score=0.9), Line(number=2, text=paragraph, score=0.01)]
    clean_documents([doc])
    assert [line.kept for line in doc.lines] == [True, True]


def test_counts_buffer_few_arrays_whatever_the_documents_size() -> None:
    """One buffered array per document added: short documents (a post of one line) must not pile
    up a million small arrays before the key count forces a merge."""
    from classify.clean.repetition import _FLUSH_PARTS

    def post(i: int) -> str:  # letters only: line keys read every digit as 0
        return "post " + f"{i:x}".translate(str.maketrans("0123456789", "ghijklmnop"))

    counts = SourceLineCounts()
    for i in range(_FLUSH_PARTS + 10):
        counts.add("s", [line_key(post(i))])
    assert len(counts.lines._pending) < _FLUSH_PARTS and len(counts.copies._pending) < _FLUSH_PARTS
    assert len(counts) == _FLUSH_PARTS + 10 and counts.count("s", line_key(post(0))) == 1
