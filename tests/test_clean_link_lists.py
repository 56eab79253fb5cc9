"""The link-list context step of the cleaner: headlines listed under a "Read also" / "Most read"
heading are noise, article sentences and a lone title under a rubric label are not."""

from __future__ import annotations

from classify.clean import CleanOptions, clean_document, clean_documents
from classify.clean.rules import headline_like, list_heading
from classify.document import Document

LEAD = "Правительство утвердило новый порядок выплат пенсионерам, сообщила пресс-служба кабинета министров."
BODY = "Изменения вступят в силу с первого марта и затронут около двух миллионов человек в регионах страны."


def _kept(text: str, favor: str = "balanced") -> list[str]:
    doc = clean_document(Document(id="d", text=text, source="d"), CleanOptions(favor=favor))
    return [line.text for line in doc.lines if line.kept]


def test_headline_and_heading_shapes() -> None:
    assert headline_like("Главный тренер «Спартака» может возглавить испанский клуб «Кадис»")
    assert not headline_like("Об этом сообщил «Коммерсантъ».")
    assert not headline_like(LEAD)
    assert not headline_like("12 345")
    assert not headline_like("30:40 Minimum Path Sum")  # a video's timecode
    assert not headline_like('    result = compute(x, y)')  # a code listing
    assert list_heading("Читайте также:") and list_heading("Most read") and list_heading("À lire aussi")
    assert not list_heading("19.02.2022, 02:23")  # a date, not a heading
    assert not list_heading("Главная | Новости | Спорт")  # a menu
    assert not list_heading("Это предложение.")


def test_headlines_after_a_read_also_heading_are_noise_up_to_the_next_sentence() -> None:
    text = "\n".join(
        [LEAD, "Читайте также:", "Сборная России обыграла Сербию в товарищеском матче",
         "В Москве открылась выставка современного искусства", BODY]
    )
    kept = _kept(text)
    assert kept == [LEAD, BODY]
    doc = clean_document(Document(id="d", text=text, source="d"))
    reasons = [line.reason for line in doc.lines if line.text.startswith("Сборная")]
    assert reasons and "list of links" in reasons[0]


def test_a_trending_list_with_view_counts_is_noise() -> None:
    # The heading is the site's (repeated on its pages); the listed headlines differ per page.
    headlines = [
        ("Сборная обыграла «Зенит» в матче за «Кубок»", "В Москве открылась выставка современного искусства"),
        ("Курс рубля укрепился после заявления ЦБ", "Учёные нашли новый вид глубоководных рыб"),
        ("Теннисистка вышла в финал турнира в Дохе", "В Сочи открылся новый горнолыжный курорт"),
    ]
    articles = [
        [LEAD, BODY],
        ["Центробанк сохранил ключевую ставку на прежнем уровне, сообщил регулятор в пятницу.",
         "Аналитики ожидали такого решения из-за замедления инфляции в последние месяцы."],
        ["Спасатели эвакуировали жителей трёх сёл из-за паводка, передаёт региональное управление МЧС.",
         "Уровень воды в реке поднялся на полтора метра за сутки после сильных дождей."],
    ]
    docs = [
        Document(id=str(i), text="\n".join([*article, "Самое читаемое", a, f"{12345 + i} просмотров", b, "845 просмотров"]),
                 source="site.example")
        for i, (article, (a, b)) in enumerate(zip(articles, headlines))
    ]
    for doc, article in zip(clean_documents(docs), articles):
        assert [line.text for line in doc.lines if line.kept] == article


def test_a_heading_without_colon_needs_a_list_and_recall_keeps_everything_listed() -> None:
    # One headline-like line under a short heading is a title under a rubric label, not a list.
    title = "Правительство изменило порядок выплат пенсионерам"
    heading_then_title = "\n".join(["Самое читаемое", title, LEAD, BODY])
    doc = clean_document(Document(id="d", text=heading_then_title, source="d"))
    assert not any("list of links" in (line.reason or "") for line in doc.lines)
    listed = "\n".join([LEAD, "Читайте также:", "Сборная России обыграла Сербию в товарищеском матче", BODY])
    assert "Сборная России обыграла Сербию в товарищеском матче" in _kept(listed, favor="recall")
