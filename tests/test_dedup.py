"""The dedup stage: flags on the seeds, clusters, incremental runs and the persistent index."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from classify.dedup import Deduplicator, DedupOptions
from classify.dedup.storage import IndexFormatError, SegmentedState, save_state
from classify.document import CONTENT, Document, Line

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

WIRE = (
    "Министр иностранных дел провёл переговоры с коллегой из соседней страны и обсудил вопросы "
    "торгового сотрудничества, транзита грузов и совместных проектов в энергетике на ближайшие годы."
)
OTHER = (
    "В столице открылась выставка современного искусства, на которой представлены работы более "
    "ста художников из двенадцати регионов страны, она продлится до конца месяца."
)
THIRD = (
    "Синоптики прогнозируют на выходных похолодание до минус пятнадцати градусов, сильный ветер и "
    "снегопады в северных и восточных районах, водителей просят быть осторожнее на трассах."
)


def make_doc(doc_id: str, paragraphs: list[str]) -> Document:
    """A document whose every line is a content paragraph (what the cleaner would leave)."""
    return Document(
        id=doc_id,
        text="\n".join(paragraphs),
        source=doc_id,
        lines=[Line(number=i, text=text) for i, text in enumerate(paragraphs, start=1)],
    )


def flags(docs: list[Document]) -> dict[tuple[str, int], tuple[str, int, float]]:
    return {
        (doc.id, line.number): (line.duplicate_of.doc_id, line.duplicate_of.line, line.duplicate_of.similarity)
        for doc in docs
        for line in doc.lines
        if line.duplicate_of is not None
    }


def seed_documents() -> list[Document]:
    return [Document(id=p.name, text=p.read_text(encoding="utf-8"), source=str(p)) for p in sorted(SEEDS.glob("*.txt"))]


def test_seeds_after_cleaning_flag_only_the_repeated_quote() -> None:
    from classify.clean import clean_document

    docs = Deduplicator(DedupOptions(threshold=0.8, num_perm=128, shingle_size=5)).process(
        [clean_document(doc) for doc in seed_documents()]
    )
    assert flags(docs) == {("003_2307d7ecff4f133b.txt", 103): ("003_2307d7ecff4f133b.txt", 4, 1.0)}
    repeated = docs[3].lines[102]
    assert repeated.status == CONTENT  # flagged, not removed: dropping is the writer's choice
    assert docs[3].clean_text(drop_duplicates=True).split("\n").count(repeated.text) == 1
    assert docs[3].clean_text().split("\n").count(repeated.text) == 2


def test_seeds_flag_nothing_else_even_when_every_line_is_compared() -> None:
    docs = seed_documents()
    for doc in docs:
        doc.lines = [Line(number=i, text=t) for i, t in enumerate(doc.text.splitlines(), start=1)]
    Deduplicator().process(docs)
    assert flags(docs) == {("003_2307d7ecff4f133b.txt", 103): ("003_2307d7ecff4f133b.txt", 4, 1.0)}
    assert all(doc.near_duplicates == [] for doc in docs)


def test_edited_copy_in_a_later_document_points_to_the_first_occurrence() -> None:
    edited = WIRE.replace("ближайшие годы", "ближайшие пять лет")  # 2 of ~25 shingles change
    docs = Deduplicator().process(
        [make_doc("a", [WIRE, OTHER]), make_doc("b", [THIRD, edited]), make_doc("c", [WIRE.upper() + "!!"])]
    )
    found = flags(docs)
    assert set(found) == {("b", 2), ("c", 1)}
    assert found[("b", 2)][:2] == ("a", 1) and 0.8 <= found[("b", 2)][2] < 1.0
    assert found[("c", 1)] == ("a", 1, 1.0)  # case and punctuation are normalised away


def test_chained_near_copies_share_the_canonical_of_their_cluster() -> None:
    words = WIRE.split()
    step1 = " ".join(words[:-1] + ["ныне"])
    step2 = " ".join(["Сегодня"] + words[1:-1] + ["ныне"])
    dedup = Deduplicator(DedupOptions(threshold=0.85))
    docs = dedup.process([make_doc("a", [WIRE, OTHER]), make_doc("b", [step1]), make_doc("c", [step2, OTHER])])
    found = flags(docs)
    assert found[("b", 1)][:2] == ("a", 1)
    assert found[("c", 1)][:2] == ("a", 1)  # through b, even if c alone is farther from a
    assert dedup.paragraph_clusters() == [[("a", 1), ("b", 1), ("c", 1)], [("a", 2), ("c", 2)]]


def test_normalisation_case_yo_punctuation_and_nfkc() -> None:
    original = "Ёжик в тумане — это мультфильм Юрия Норштейна, снятый в 1975 году на студии «Союзмультфильм»."
    variant = "ЕЖИК   в  тумане: это мультфильм юрия норштейна снятый в １９７５ году на студии Союзмультфильм"
    docs = Deduplicator().process([make_doc("a", [original]), make_doc("b", [variant])])
    assert flags(docs) == {("b", 1): ("a", 1, 1.0)}


def test_short_paragraphs_use_character_shingles_and_tiny_ones_are_ignored() -> None:
    short = "Президент подписал новый закон об образовании"
    typo = "Президент подписал новый закон об обрaзовании"  # Latin a: one character differs
    tiny = "Фото: пресс-служба"
    docs = Deduplicator(DedupOptions(threshold=0.7)).process(
        [make_doc("a", [short, tiny]), make_doc("b", [typo, tiny])]
    )
    assert set(flags(docs)) == {("b", 1)}


def test_near_duplicate_documents_are_reported_with_exact_jaccard() -> None:
    docs = Deduplicator().process(
        [make_doc("a", [WIRE, OTHER, THIRD]), make_doc("b", [OTHER]), make_doc("c", [WIRE, OTHER, THIRD])]
    )
    assert docs[2].near_duplicates == [{"doc_id": "a", "jaccard": 1.0}]
    assert docs[1].near_duplicates == []  # one paragraph of three is not a near-duplicate document


def random_corpus(seed: int) -> list[Document]:
    """Documents built from a few base paragraphs with random word edits, so clusters chain and merge."""
    rng = random.Random(seed)
    vocabulary = (WIRE + " " + OTHER + " " + THIRD).split()
    bases = [" ".join(rng.choices(vocabulary, k=rng.randint(12, 40))) for _ in range(12)]

    def edit(text: str) -> str:
        words = text.split()
        for _ in range(rng.randint(0, 2)):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        return " ".join(words)

    docs: list[list[str]] = []
    for _ in range(60):
        if docs and rng.random() < 0.3:  # a reposted document, one paragraph edited
            paragraphs = list(rng.choice(docs))
            at = rng.randrange(len(paragraphs))
            paragraphs[at] = edit(paragraphs[at])
        else:
            paragraphs = [edit(rng.choice(bases)) for _ in range(rng.randint(1, 5))]
        docs.append(paragraphs)
    return [make_doc(f"d{i}", paragraphs) for i, paragraphs in enumerate(docs)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incremental_batches_give_the_same_flags_as_one_run(seed: int, tmp_path: Path) -> None:
    options = DedupOptions(threshold=0.7, bucket_cap=4)
    one_shot = Deduplicator(options).process(random_corpus(seed))
    batches = random_corpus(seed)
    in_memory = Deduplicator(options)
    persisted = []
    for start in range(0, len(batches), 17):
        # in_memory keeps its state; each persisted batch starts a new object from the saved index
        in_memory.process(batches[start : start + 17])
        dedup = Deduplicator(options, index_path=tmp_path / "index.npz")
        persisted += dedup.process(random_corpus(seed)[start : start + 17])
        dedup.save()
    assert flags(one_shot) and sum(bool(d.near_duplicates) for d in one_shot) >= 5  # there is something to find
    assert flags(batches) == flags(one_shot)
    assert flags(persisted) == flags(one_shot)
    assert [d.near_duplicates for d in persisted] == [d.near_duplicates for d in one_shot]
    assert list(tmp_path.iterdir()) == [tmp_path / "index.npz"]  # no temporary file left behind


def test_segmented_state_survives_a_restart_after_every_batch(tmp_path: Path) -> None:
    options = DedupOptions(threshold=0.7, bucket_cap=4)
    one_shot = Deduplicator(options).process(random_corpus(0))
    docs, processed, listing = random_corpus(0), [], None
    for start in range(0, len(docs), 5):
        # A new process each batch: restore from the committed listing, go on, save, prune.
        dedup, state = Deduplicator(options), SegmentedState(tmp_path / "state")
        if listing is not None:
            state.load(dedup, listing)
        processed += dedup.process(docs[start : start + 5])
        listing = state.save(dedup)
        state.prune(listing)
        named = {listing["rewritten"], *(f for kind in ("tails", "runs") for files in listing[kind].values() for f in files)}
        assert {path.name for path in (tmp_path / "state").iterdir()} == named
    assert flags(processed) == flags(one_shot)
    assert [d.near_duplicates for d in processed] == [d.near_duplicates for d in one_shot]


def test_segmented_saves_write_only_what_changed(tmp_path: Path) -> None:
    dedup, state = Deduplicator(DedupOptions(threshold=0.7)), SegmentedState(tmp_path / "state")
    docs = random_corpus(1) + random_corpus(2) + random_corpus(3)
    segmented = whole = 0
    for start in range(0, len(docs), 6):
        dedup.process(docs[start : start + 6])
        before = {path.name for path in (tmp_path / "state").glob("*")}
        state.prune(state.save(dedup))
        segmented += sum(path.stat().st_size for path in (tmp_path / "state").glob("*") if path.name not in before)
        save_state(dedup, tmp_path / "whole.npz")
        whole += (tmp_path / "whole.npz").stat().st_size
    # 30 saves of a growing state: whole saves write about 15x the final state, segments about
    # the state once plus each run once per merge plus the parents each time.
    assert segmented < whole / 3


def test_index_from_other_version_or_options_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.npz"
    dedup = Deduplicator(index_path=path)
    dedup.process([make_doc("a", [WIRE])])
    dedup.save()
    with pytest.raises(IndexFormatError, match="shingle_size=5"):
        Deduplicator(DedupOptions(shingle_size=3), index_path=path)
    with pytest.raises(IndexFormatError, match="threshold=0.8"):  # the stored LSH keys follow the banding
        Deduplicator(DedupOptions(threshold=0.7), index_path=path)
    import classify.dedup.storage as storage

    old = storage.VERSION
    try:
        storage.VERSION = old + 1
        with pytest.raises(IndexFormatError, match="version"):
            Deduplicator(index_path=path)
    finally:
        storage.VERSION = old
    (tmp_path / "junk.npz").write_bytes(b"not an index")
    (tmp_path / "truncated.npz").write_bytes(path.read_bytes()[:-10])  # e.g. copied while being written
    for broken in ("junk.npz", "truncated.npz"):
        with pytest.raises(IndexFormatError, match="not a readable"):
            Deduplicator(index_path=tmp_path / broken)


def test_a_shared_signature_line_does_not_make_documents_near_duplicates() -> None:
    signature = "Подписаться на канал: https://t.me/example_news"  # short: character shingles
    docs = Deduplicator().process([make_doc("a", [WIRE, signature]), make_doc("b", [OTHER, signature])])
    assert flags(docs) == {("b", 2): ("a", 2, 1.0)}  # the repeated line itself is flagged
    assert docs[1].near_duplicates == []
