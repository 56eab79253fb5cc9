"""Stage 1: read inputs into `Document`s, streaming, and turn every failure into an `ErrorRecord`.

Inputs are files, directories (recursive, filtered by a glob), or "-" for standard input. A file is
read by its kind: JSONL / CSV / Parquet hold one document per record; anything else is one document
(HTML when its name or its first bytes say so, plain text otherwise; `.gz` is decompressed).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from classify.document import Document, ErrorRecord
from classify.encoding import UndecodableInput, decode_bytes

RECORD_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
# A scraper's field dump in front of the text, e.g. " date 2018-02 ASTANA, le 28 février...":
# a known field name followed by a value of that field's shape. Only such pairs are taken as metadata.
_META_PREFIX = re.compile(
    r"^\s*(?:(?P<date>date|datetime|published|time)\s*[:=]?\s+"
    r"(?P<date_value>\d{4}-\d{2}(?:-\d{2})?(?:[T ]\d{2}:\d{2}(?::\d{2})?\S*)?|\d{2}\.\d{2}\.\d{4})"
    r"|(?P<url>url|link)\s*[:=]?\s+(?P<url_value>https?://\S+)"
    r"|(?P<lang>lang|language)\s*[:=]?\s+(?P<lang_value>[a-z]{2}))\s+",
    re.I,
)
csv.field_size_limit(1 << 30)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How inputs are found and parsed.

    glob: which files of a directory input are read (recursively).
    text_field / id_field: the record fields holding the text and the id in JSONL, CSV and Parquet.
    max_bytes: documents larger than this become error records instead of exhausting memory.
    max_line_chars: a plain-text line longer than this is not a line of an article (a dump, a
        minified blob): the document becomes an error record. HTML is split by its tags instead.
    exclude: resolved paths that a directory input never yields, nor walks into: a run's own
        output, errors file, work directory and index, when they sit inside an input directory.
    """

    glob: str = "*"
    text_field: str = "text"
    id_field: str = "id"
    max_bytes: int = 50 * 1024 * 1024
    max_line_chars: int = 100_000
    exclude: tuple[Path, ...] = ()  # sorted: part of a run's fingerprint, whose repr must not vary


def strip_metadata_prefix(text: str) -> tuple[str, dict[str, str]]:
    """Split a leading scraper field prefix (`date 2018-02 ...`) off the text; return (text, fields)."""
    fields: dict[str, str] = {}
    while match := _META_PREFIX.match(text):
        kind = next(k for k in ("date", "url", "lang") if match[k])
        fields[match[kind].lower()] = match[f"{kind}_value"]
        text = text[match.end() :]
    return text, fields


def looks_like_html(data: bytes) -> bool:
    return bool(_HTML_START.match(data[:4096]))


def site_of(url: str) -> str | None:
    host = urlsplit(url).hostname if "://" in url else None
    return host.removeprefix("www.") if host else None


def size_problem(text: str, fmt: str, options: ReadOptions) -> str | None:
    """Why a decoded document is too large to process, or None."""
    if len(text) > options.max_bytes:
        return f"document larger than the limit of {options.max_bytes} bytes"
    if fmt == "text" and len(text) > options.max_line_chars:  # a shorter text has no longer line
        longest = max(map(len, text.splitlines()), default=0)
        if longest > options.max_line_chars:
            return f"a line of {longest} characters, over the limit of {options.max_line_chars} (--max-line-chars)"
    return None


def make_document(
    text: str, *, doc_id: str, source: str, encoding: str | None, fmt: str, metadata: dict[str, Any], origin: str
) -> Document:
    """Build a Document, taking a metadata prefix off plain text.

    metadata["source"] names the site or channel the document comes from (the cleaner counts lines
    repeated within a source): the record's own `source` field, else its URL's site, else `origin`
    (the input directory).
    """
    if fmt == "text":
        text, prefix_fields = strip_metadata_prefix(text)
        metadata = {**metadata, **prefix_fields}
    url = metadata.get("url")
    metadata["source"] = metadata.get("source") or (site_of(url) if isinstance(url, str) else None) or origin
    return Document(id=doc_id, text=text, source=source, format=fmt, encoding=encoding, metadata=metadata)


def _record_to_document(
    record: Any, location: str, default_id: str, options: ReadOptions, origin: str
) -> Document | ErrorRecord:
    if not isinstance(record, dict):
        return ErrorRecord(location, f"record is a {type(record).__name__}, expected an object")
    text = record.get(options.text_field)
    if text is None:
        return ErrorRecord(location, f"record has no {options.text_field!r} field")
    if not isinstance(text, str):
        return ErrorRecord(location, f"field {options.text_field!r} is {type(text).__name__}, expected a string")
    doc_id = record.get(options.id_field)
    doc_id = default_id if doc_id is None or doc_id == "" else str(doc_id)
    if not text.strip():
        return ErrorRecord(location, "empty document", id=doc_id)
    metadata = {k: v for k, v in record.items() if k not in (options.text_field, options.id_field)}
    fmt = "html" if looks_like_html(text[:4096].encode("utf-8", "ignore")) else "text"
    if problem := size_problem(text, fmt, options):
        return ErrorRecord(location, problem, id=doc_id)
    return make_document(
        text, doc_id=doc_id, source=location, encoding="utf-8", fmt=fmt, metadata=metadata, origin=origin
    )


_TOO_DEEP = "malformed JSON: nested too deeply to parse"
# JSON can escape half of a surrogate pair alone ("\ud800"), which decodes to a string no output
# format can hold: such halves become U+FFFD. Only text with such an escape is searched.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with every lone surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


def _parse_json(text: str) -> Any:
    record = json.loads(text)
    return _without_lone_surrogates(record) if _SURROGATE_ESCAPE.search(text) else record


def _label(path: Path | str) -> str:
    """A path as text for records: bytes of a file name that are not UTF-8 (kept by Python as lone
    surrogates, which no output format can hold) become \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _bounded_lines(stream: BinaryIO, limit: int, until: int | None = None) -> Iterator[tuple[bytes | None, int]]:
    """The stream's lines (up to offset `until`) as (line, its length in bytes); a line longer than
    `limit` comes as (None, length), read through in chunks: memory never holds more of a line."""
    while until is None or stream.tell() < until:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        length = len(raw)
        while raw and not raw.endswith(b"\n"):
            raw = stream.readline(1 << 20)
            length += len(raw)
        yield None, length


def _jsonl_records(
    stream: BinaryIO, limit: int, first_line: int = 1, until: int | None = None
) -> Iterator[tuple[int, bytes | None, int]]:
    """The records of a JSONL stream, its non-blank lines (a UTF-8 BOM before line 1 dropped), as
    (line number, line or None when longer than `limit`, bytes read up to its end): what the
    reader parses and the batch slicer counts, so both always agree."""
    read = 0
    for number, (raw, length) in enumerate(_bounded_lines(stream, limit, until), start=first_line):
        read += length
        if raw is not None and number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if raw is None or raw.strip():
            yield number, raw, read


def _read_jsonl(
    stream: BinaryIO, name: str, stem: str, options: ReadOptions, origin: str, first_line: int = 1, until: int | None = None
):
    for number, raw, _ in _jsonl_records(stream, options.max_bytes, first_line, until):
        location = f"{name}:{number}"
        if raw is None:
            yield ErrorRecord(location, f"record larger than the limit of {options.max_bytes} bytes")
            continue
        try:
            record = _parse_json(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            yield ErrorRecord(location, f"malformed JSON line: {exc}")
            continue
        except RecursionError:
            yield ErrorRecord(location, _TOO_DEEP)
            continue
        yield _record_to_document(record, location, f"{stem}:{number}", options, origin)


def _read_json(data: bytes, name: str, stem: str, options: ReadOptions, origin: str):
    """A .json file holds one record (an object) or many (an array of objects)."""
    try:
        text, _ = decode_bytes(data)
        records = _parse_json(text)
    except (UndecodableInput, json.JSONDecodeError) as exc:
        yield ErrorRecord(name, f"malformed JSON file: {exc}")
        return
    except RecursionError:
        yield ErrorRecord(name, _TOO_DEEP)
        return
    if isinstance(records, dict):
        yield _record_to_document(records, name, stem, options, origin)
        return
    if not isinstance(records, list):
        yield ErrorRecord(name, f"JSON file holds a {type(records).__name__}, expected an object or an array")
        return
    for index, record in enumerate(records):
        yield _record_to_document(record, f"{name}:[{index}]", f"{stem}:{index}", options, origin)


def _read_csv(data: bytes, name: str, stem: str, options: ReadOptions, origin: str):
    try:
        text, _ = decode_bytes(data)
    except UndecodableInput as exc:
        yield ErrorRecord(name, str(exc))
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or options.text_field not in reader.fieldnames:
        yield ErrorRecord(name, f"CSV has no {options.text_field!r} column (columns: {reader.fieldnames})")
        return
    try:
        for number, row in enumerate(reader, start=2):  # line 1 is the header
            yield _record_to_document(row, f"{name}:{number}", f"{stem}:{number}", options, origin)
    except csv.Error as exc:
        yield ErrorRecord(f"{name}:{reader.line_num}", f"malformed CSV: {exc}")


def _read_parquet(path: Path, stem: str, options: ReadOptions, origin: str):
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        yield ErrorRecord(_label(path), f"unreadable Parquet file: {exc}")
        return
    if options.text_field not in parquet.schema_arrow.names:
        yield ErrorRecord(_label(path), f"Parquet file has no {options.text_field!r} column")
        return
    row = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for record in batch.to_pylist():
            yield _record_to_document(record, f"{_label(path)}:{row}", f"{stem}:{row}", options, origin)
            row += 1


def _read_single(data: bytes, location: str, doc_id: str, options: ReadOptions, origin: str, fmt: str | None):
    if len(data) > options.max_bytes:
        return ErrorRecord(location, f"document larger than the limit of {options.max_bytes} bytes", id=doc_id)
    if not data.strip():
        return ErrorRecord(location, "empty document", id=doc_id)
    try:
        text, encoding = decode_bytes(data)
    except UndecodableInput as exc:
        return ErrorRecord(location, str(exc), id=doc_id)
    if not text.strip():
        return ErrorRecord(location, "empty document", id=doc_id)
    fmt = fmt or ("html" if looks_like_html(text[:4096].encode("utf-8", "ignore")) else "text")
    if problem := size_problem(text, fmt, options):
        return ErrorRecord(location, problem, id=doc_id)
    return make_document(text, doc_id=doc_id, source=location, encoding=encoding, fmt=fmt, metadata={}, origin=origin)


def _file_kind(path: Path) -> tuple[str, bool]:
    """(kind, gzipped) from the file name: kind is jsonl, json, csv, parquet, html or text."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    last = suffixes[-2] if gzipped and len(suffixes) > 1 else (suffixes[-1] if suffixes and not gzipped else "")
    if last in RECORD_SUFFIXES:
        return RECORD_SUFFIXES[last], gzipped
    return ("html" if last in HTML_SUFFIXES else "text"), gzipped


def _doc_id(path: Path, root: Path | None) -> str:
    relative = path.relative_to(root) if root else Path(path.name)
    name = relative.as_posix()
    for suffix in reversed(relative.suffixes):
        name = name.removesuffix(suffix)
    return _label(name or relative.as_posix())


def read_file(path: Path, options: ReadOptions, root: Path | None = None) -> Iterator[Document | ErrorRecord]:
    """Yield the documents of one file (several for JSONL/CSV/Parquet), or error records."""
    kind, gzipped = _file_kind(path)
    doc_id = _doc_id(path, root)
    name, origin = _label(path), _label(path.parent)
    try:
        if kind == "parquet":
            yield from _read_parquet(path, doc_id, options, origin)
            return
        opener = gzip.open if gzipped else open
        if kind == "jsonl":
            with opener(path, "rb") as stream:
                yield from _read_jsonl(stream, name, doc_id, options, origin)
            return
        with opener(path, "rb") as stream:
            data = stream.read(options.max_bytes + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield ErrorRecord(name, f"cannot read file: {exc}")
        return
    if kind in ("csv", "json"):
        reader = _read_csv if kind == "csv" else _read_json
        yield from reader(data, name, doc_id, options, origin)
    else:
        yield _read_single(data, name, doc_id, options, origin, "html" if kind == "html" else None)


def _walk(
    directory: Path, pattern: str, exclude: tuple[Path, ...], visited: set[tuple[int, int]] | None = None
) -> Iterator[Path | ErrorRecord]:
    """Regular files under `directory` matching `pattern`, sorted for a stable order, less
    `exclude` (and what is under it). Symbolic links are followed, but each directory is walked
    once (`visited`: device and inode), so a link to an ancestor is no endless loop. A pipe,
    socket or device that matches is reported, not read (reading a pipe could wait forever), and
    so is a directory that cannot be listed."""
    visited = set() if visited is None else visited
    try:
        identity = directory.stat()
        entries = sorted(directory.iterdir())
    except OSError as exc:
        yield ErrorRecord(_label(directory), f"cannot list directory: {exc}")
        return
    if (identity.st_dev, identity.st_ino) in visited:
        return
    visited.add((identity.st_dev, identity.st_ino))
    excluded_names = {path.name for path in exclude}
    for entry in entries:
        if entry.name in excluded_names and entry.resolve() in exclude:
            continue
        if entry.is_dir():
            yield from _walk(entry, pattern, exclude, visited)
        elif entry.match(pattern) and not entry.name.startswith("."):
            # A dangling link goes on to be read, and is reported as unreadable there.
            special = not entry.is_file() and entry.exists()
            yield ErrorRecord(_label(entry), "not a regular file (a pipe, socket or device): not read") if special else entry


def rereadable(item: str) -> bool:
    """Whether an input can be read twice (a counting pass, then the run): files and directories,
    not standard input nor a pipe named as a file (a FIFO, a shell's `<(command)`)."""
    if item == "-":
        return False
    path = Path(item)
    return path.is_dir() or path.is_file() or not path.exists()


def read_stdin(options: ReadOptions, stream: BinaryIO | None = None) -> Iterator[Document | ErrorRecord]:
    """Standard input is JSONL when its first character opens an object, read line by line as it
    comes (memory holds one record, whatever the size of the stream), else one document (read up
    to --max-bytes)."""
    stream = stream or sys.stdin.buffer
    head, lines, line = b"", 0, b""
    while not head.removeprefix(codecs.BOM_UTF8).strip():  # the leading blank lines and the first with text
        line = stream.readline(options.max_bytes + 1)
        if not line:
            break
        head, lines = head + line, lines + 1
    whole_line = len(line) <= options.max_bytes or line.endswith(b"\n")
    if whole_line and head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"{"):
        yield from _read_jsonl(io.BytesIO(head), "<stdin>", "stdin", options, "stdin")
        yield from _read_jsonl(stream, "<stdin>", "stdin", options, "stdin", first_line=lines + 1)
    else:
        data = head + stream.read(max(0, options.max_bytes + 1 - len(head)))
        digest = hashlib.sha1(data).hexdigest()[:16]
        yield _read_single(data, "<stdin>", f"stdin-{digest}", options, "stdin", None)


def _locate(inputs: Iterable[str | Path], options: ReadOptions) -> Iterator[tuple[Path | None, Path | None] | ErrorRecord]:
    """The files to read, in reading order, as (file, the directory input it was found in); a file
    of None is standard input; an input that cannot be found or listed is an error record."""
    for item in inputs:
        if str(item) == "-":
            yield None, None
            continue
        path = Path(item)
        if path.is_dir():
            for entry in _walk(path, options.glob, options.exclude):
                yield entry if isinstance(entry, ErrorRecord) else (entry, path)
        elif path.exists():
            yield path, None
        else:
            yield ErrorRecord(_label(path), "no such file or directory")


def read_documents(inputs: Iterable[str | Path], options: ReadOptions | None = None) -> Iterator[Document | ErrorRecord]:
    """Stream Documents (and ErrorRecords for what cannot be read) from files, directories and "-"."""
    options = options or ReadOptions()
    for found in _locate(inputs, options):
        if isinstance(found, ErrorRecord):
            yield found
        elif found[0] is None:
            yield from read_stdin(options)
        else:
            yield from read_file(found[0], options, root=found[1])


@dataclass(frozen=True, slots=True)
class JsonlSlice:
    """A batch that is still in its file: bytes [start, stop) of the JSONL file `path`, whose
    first line has number `first_line`, holding `items` non-blank lines (one input item each).
    `read_batch` reads it where the batch is processed, so the process that hands out the batches
    scans the file for line ends instead of parsing and shipping every document."""

    path: str
    doc_id: str  # the file's id: its documents' ids default to "doc_id:line"
    start: int
    stop: int
    first_line: int
    items: int

    def read(self, options: ReadOptions) -> list[Document | ErrorRecord]:
        origin = _label(Path(self.path).parent)
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self.start)
                return list(_read_jsonl(stream, _label(self.path), self.doc_id, options, origin, self.first_line, self.stop))
        except OSError as exc:
            return [ErrorRecord(_label(self.path), f"cannot read file: {exc}")]


Batch = list[Document | ErrorRecord]


def read_batch(batch: Batch | JsonlSlice, options: ReadOptions) -> Batch:
    """The items of a batch of `read_batches`."""
    return batch.read(options) if isinstance(batch, JsonlSlice) else batch


def _jsonl_slices(path: Path, root: Path | None, size: int, max_bytes: int) -> Iterator[JsonlSlice | ErrorRecord]:
    """A plain JSONL file as slices of `size` non-blank lines (the last may hold fewer), read as
    `_read_jsonl` reads them (a line over `max_bytes` is counted, not held)."""
    doc_id = _doc_id(path, root)
    start = offset = items = 0
    first = 1
    try:
        with open(path, "rb") as stream:
            for number, _, offset in _jsonl_records(stream, max_bytes):
                items += 1
                if items == size:
                    yield JsonlSlice(str(path), doc_id, start, offset, first, items)
                    start, first, items = offset, number + 1, 0
    except OSError as exc:
        yield ErrorRecord(_label(path), f"cannot read file: {exc}")
        return
    if items:
        yield JsonlSlice(str(path), doc_id, start, offset, first, items)


def read_batches(
    inputs: Iterable[str | Path], options: ReadOptions, size: int, skip: int = 0
) -> Iterator[Batch | JsonlSlice]:
    """`read_documents` in batches of up to `size` items, leaving out the first `skip` items.

    A plain (uncompressed) JSONL file comes as `JsonlSlice`s that the consumer reads with
    `read_batch`; other inputs are read here. A batch never mixes a slice with other items, so
    it may hold fewer than `size` items where a JSONL file starts or ends."""
    pending: Batch = []

    def add(items: Iterable[Document | ErrorRecord]) -> Iterator[Batch]:
        nonlocal skip
        for item in items:
            if skip:
                skip -= 1
                continue
            pending.append(item)
            if len(pending) == size:
                yield pending[:]
                pending.clear()

    for found in _locate(inputs, options):
        if isinstance(found, ErrorRecord):
            yield from add([found])
        elif found[0] is None:
            yield from add(read_stdin(options))
        elif _file_kind(found[0]) != ("jsonl", False) or not found[0].is_file():
            # Slices are read again by offset: only a plain JSONL file that is a regular file.
            yield from add(read_file(found[0], options, root=found[1]))
        else:
            if pending:
                yield pending[:]
                pending.clear()
            for piece in _jsonl_slices(found[0], found[1], size, options.max_bytes):
                if isinstance(piece, ErrorRecord):  # the file's last piece
                    yield from add([piece])
                elif skip >= piece.items:
                    skip -= piece.items
                else:  # a resumed run starts inside this slice: read it here, less what is done
                    yield piece.read(options)[skip:] if skip else piece
                    skip = 0
    if pending:
        yield pending
