"""Readers: every kind of input becomes Documents, and every failure an ErrorRecord with its location."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classify.document import Document, ErrorRecord
from classify.encoding import UndecodableInput, decode_bytes
from classify.readers import JsonlSlice, ReadOptions, read_batch, read_batches, read_documents, read_stdin, strip_metadata_prefix

RUSSIAN = "Президент принял генерального секретаря организации. Стороны обсудили сотрудничество и безопасность в регионе.\n"
FRENCH = "Le ministre a déclaré que la coopération régionale était essentielle à la sécurité de l’État.\n"


def read_all(*paths, **options):
    return list(read_documents([str(p) for p in paths], ReadOptions(**options)))


@pytest.mark.parametrize(
    "encoding, payload",
    [
        ("utf-8", RUSSIAN.encode("utf-8")),
        ("utf-8-sig", RUSSIAN.encode("utf-8-sig")),
        ("utf-16", RUSSIAN.encode("utf-16")),
        ("utf-16-le", RUSSIAN.encode("utf-16-le")),
        ("utf-16-be", RUSSIAN.encode("utf-16-be")),
        ("cp1251", RUSSIAN.encode("cp1251")),
        ("koi8_r", RUSSIAN.encode("koi8_r")),
        ("cp1252", FRENCH.encode("cp1252")),
    ],
)
def test_encodings_are_detected_not_garbled(tmp_path, encoding, payload):
    path = tmp_path / "doc.txt"
    path.write_bytes(payload)
    [doc] = read_all(path)
    assert isinstance(doc, Document)
    assert doc.text == (FRENCH if encoding == "cp1252" else RUSSIAN)


def test_cp1251_and_koi8r_are_told_apart():
    # The same bytes are valid in both code pages; only one reading is Russian.
    for name in ("cp1251", "koi8_r"):
        text, found = decode_bytes(RUSSIAN.encode(name))
        assert (text, found) == (RUSSIAN, name)


def test_truncated_utf8_keeps_everything_before_the_cut():
    data = RUSSIAN.encode("utf-8")[:-2]  # cut inside the last two-byte letter? no: "\n" + half a letter
    data = "Текст оборван посередине буквы ж".encode("utf-8")[:-1]
    text, encoding = decode_bytes(data)
    assert text == "Текст оборван посередине буквы "
    assert "truncated" in encoding


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"", "empty"),
        (b"   \n\t\n", "empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(500), "binary"),
    ],
)
def test_empty_and_binary_files_become_error_records(tmp_path, payload, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(payload)
    [error] = read_all(path)
    assert isinstance(error, ErrorRecord)
    assert reason in error.reason
    assert error.source == str(path)


def test_undecodable_bytes_raise_with_reason():
    with pytest.raises(UndecodableInput):
        decode_bytes(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 50)


def test_malformed_jsonl_line_is_an_error_with_its_line_number(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": RUSSIAN}) + "\n"
        + '{"id": "b", "text": "unterminated\n'
        + json.dumps({"id": "c", "body": "no text field"}) + "\n"
        + json.dumps(["not", "an", "object"]) + "\n"
        + json.dumps({"id": "e", "text": FRENCH, "url": "https://www.example.org/news/1"}) + "\n",
        encoding="utf-8",
    )
    items = read_all(path)
    assert [type(i).__name__ for i in items] == ["Document", "ErrorRecord", "ErrorRecord", "ErrorRecord", "Document"]
    assert items[1].source == f"{path}:2" and "malformed JSON" in items[1].reason
    assert items[2].source == f"{path}:3" and "'text'" in items[2].reason
    assert items[0].id == "a" and items[4].id == "e"
    assert items[4].metadata["source"] == "example.org"  # the URL's site is the document's source


def test_custom_text_and_id_fields(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"key": 7, "body": RUSSIAN}) + "\n" + json.dumps({"body": FRENCH}) + "\n")
    docs = read_all(path, text_field="body", id_field="key")
    assert [d.id for d in docs] == ["7", "docs:2"]
    assert docs[0].text == RUSSIAN


def test_csv_and_parquet_records(tmp_path):
    csv_path = tmp_path / "docs.csv"
    csv_path.write_text('id,text,source\n1,"' + RUSSIAN.strip() + '",agency\n2,,agency\n', encoding="utf-8")
    parquet_path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": [RUSSIAN, FRENCH]}), parquet_path)
    items = read_all(csv_path, parquet_path)
    assert [type(i).__name__ for i in items] == ["Document", "ErrorRecord", "Document", "Document"]
    assert items[0].metadata["source"] == "agency"
    assert items[1].source == f"{csv_path}:3" and "empty" in items[1].reason
    assert [items[2].id, items[3].id] == ["p1", "p2"]


def test_directory_is_read_recursively_with_glob_in_stable_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.txt").write_text(RUSSIAN)
    (tmp_path / "one.txt").write_text(FRENCH)
    (tmp_path / "skip.md").write_text(FRENCH)
    docs = read_all(tmp_path, glob="*.txt")
    assert [d.id for d in docs] == ["b/two", "one"]


def test_html_files_and_gzip(tmp_path):
    html = "<!DOCTYPE html><html><body><p>" + RUSSIAN + "</p></body></html>"
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(html.encode("utf-8")))
    (tmp_path / "sniffed.txt").write_text(html)
    docs = read_all(tmp_path)
    assert [(d.id, d.format) for d in docs] == [("page", "html"), ("sniffed", "html")]


def test_missing_path_and_stdin(tmp_path):
    [error] = read_all(tmp_path / "nope.txt")
    assert "no such file" in error.reason
    [doc] = read_stdin(ReadOptions(), io.BytesIO(RUSSIAN.encode("cp1251")))
    assert doc.text == RUSSIAN and doc.encoding == "cp1251"
    jsonl = (json.dumps({"id": "x", "text": FRENCH}) + "\n{bad\n").encode()
    items = list(read_stdin(ReadOptions(), io.BytesIO(jsonl)))
    assert items[0].id == "x" and items[1].source == "<stdin>:2"


def test_jsonl_on_stdin_streams(tmp_path):
    """`zcat corpus.jsonl.gz | classify run -` held the whole stream in memory (twice) before the
    first record; now records are read as they come. Leading blank lines and a BOM still mean JSONL."""
    import tracemalloc

    record = json.dumps({"text": FRENCH}) + "\n"
    stream = io.BytesIO(b"\n" + (record * (8_000_000 // len(record))).encode())
    tracemalloc.start()
    count, first = 0, None
    for item in read_stdin(ReadOptions(), stream):
        first = first or item
        count += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 8_000_000 // len(record) and first.source == "<stdin>:2" and first.text == FRENCH
    assert peak < 4 << 20, peak
    with_bom = list(read_stdin(ReadOptions(), io.BytesIO(b"\xef\xbb\xbf\n" + record.encode())))
    assert [(item.source, item.text) for item in with_bom] == [("<stdin>:2", FRENCH)]


@pytest.mark.parametrize(
    "text, rest, fields",
    [
        (" date 2018-02 ASTANA, le 28 février.", "ASTANA, le 28 février.", {"date": "2018-02"}),
        ("date: 2024-12-04T09:00:28 Текст новости", "Текст новости", {"date": "2024-12-04T09:00:28"}),
        ("url https://example.com/a date 01.02.2023 Body", "Body", {"url": "https://example.com/a", "date": "01.02.2023"}),
        ("Date limite pour les candidatures", "Date limite pour les candidatures", {}),
        ("date of the summit was set", "date of the summit was set", {}),
    ],
)
def test_metadata_prefix(text, rest, fields):
    assert strip_metadata_prefix(text) == (rest, fields)


def test_oversized_document_is_an_error(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("слово " * 1000)
    [error] = read_all(path, max_bytes=1000)
    assert "larger than the limit" in error.reason


def test_batches_hold_exactly_the_documents_in_order_whatever_the_size_and_skip(tmp_path):
    """Workers read a JSONL file's batches themselves (JsonlSlice); the batches, read, are the
    reader's items in order, less the `skip` a resumed run has done, and never over `size`."""
    (tmp_path / "a.jsonl").write_bytes(
        b'\xef\xbb\xbf{"text": "one"}\n\n{"text": "two"}\nnot json\n\n\n{"text": "three"}\n{"text": ""}\n{"id": "x", "text": "four"}'
    )
    (tmp_path / "b.txt").write_text("a plain text document")
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps({"text": f"doc {i}"}) for i in range(7)) + "\n")
    inputs, options = [tmp_path, tmp_path / "missing.jsonl"], ReadOptions()
    expected = list(read_documents(inputs, options))
    assert len(expected) == 15
    for size in (1, 2, 3, 5, 100):
        for skip in range(len(expected) + 2):
            batches = list(read_batches(inputs, options, size, skip))
            assert [item for batch in batches for item in read_batch(batch, options)] == expected[skip:]
            assert all(0 < len(read_batch(batch, options)) <= size for batch in batches)
    assert any(isinstance(batch, JsonlSlice) for batch in read_batches(inputs, options, 3))
