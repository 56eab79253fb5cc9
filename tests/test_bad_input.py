"""Bad input never crashes or hangs a run, and never loses a document: each input document is in
the output or in the errors file with its location and a reason. A fixed matrix of the usual
suspects, then property-based fuzzing."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classify.pipeline import RunOptions, run

ARTICLE = "Министр финансов представил проект бюджета. Депутаты обсудили расходы на образование и медицину.\n"
THIRD_ARTICLE = "Учёные университета открыли новый вид бактерий. Исследование опубликовано в научном журнале.\n"
OTHER_ARTICLE = "Сборная провела товарищеский матч в столице. Тренер остался доволен игрой молодых защитников.\n"


def run_dir(directory, tmp_path, **read):
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    options = RunOptions()
    if read:
        from classify.readers import ReadOptions

        options = RunOptions(read=ReadOptions(**read))
    summary = run([directory], out, errors, options)
    outputs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    error_rows = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert (summary.documents, summary.errors) == (len(outputs), len(error_rows))
    return {r["source"]: r for r in outputs}, {e["source"]: e for e in error_rows}


def test_fixed_matrix(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    cases = {
        "empty.txt": (b"", "empty"),
        "binary.bin.txt": (os.urandom(4096), "binary|encoding"),
        "nul.txt": (ARTICLE.encode() + b"\x00\x00\x01\x02" * 50, "binary"),
        "truncated.txt": ARTICLE.encode() + "ж".encode()[:1],
        "mixed.txt": (ARTICLE.encode("utf-8") + ARTICLE.encode("cp1251"), "mixed encodings"),
        "long_line.txt": (("слово " * 200_000).encode(), "over the limit"),
        "broken.html": b"<html><body><div><p>" + OTHER_ARTICLE.encode() + b"<p><b><i>unclosed",
        "nested.html": b"<html><body>" + b"<div>" * 20_000 + THIRD_ARTICLE.encode() + b"</div>" * 20_000 + b"</body></html>",
        "bad.jsonl": b'{"text": 12}\n{"id": "x"}\n{"text": "' + ARTICLE.strip().encode() + b'"}\n[1,2]\n{"text": "\xff\xfe"}\n',
        "bad.csv": b"title,body\na,b\n",
        "bad.parquet": b"PAR1 not really parquet",
    }
    for name, payload in cases.items():
        (src / name).write_bytes(payload[0] if isinstance(payload, tuple) else payload)
    (src / "dangling.txt").symlink_to(src / "does-not-exist.txt")
    outputs, errors = run_dir(src, tmp_path)

    for name, payload in cases.items():
        if isinstance(payload, tuple):
            [reason] = [e["reason"] for s, e in errors.items() if s == str(src / name)]
            assert any(word in reason for word in payload[1].split("|")), (name, reason)
    assert "cannot read" in errors[str(src / "dangling.txt")]["reason"]
    assert outputs[str(src / "truncated.txt")]["encoding"] == "utf-8 (truncated)"
    assert OTHER_ARTICLE.strip() in outputs[str(src / "broken.html")]["clean_text"]
    assert THIRD_ARTICLE.strip() in outputs[str(src / "nested.html")]["clean_text"]
    assert {s for s in errors if s.startswith(str(src / "bad.jsonl"))} == {
        f"{src / 'bad.jsonl'}:{n}" for n in (1, 2, 4, 5)
    }
    assert f"{src / 'bad.jsonl'}:3" in outputs
    assert "no 'text' column" in errors[str(src / "bad.csv")]["reason"]


def test_oversized_document_is_refused_without_reading_it_all(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    with open(src / "huge.txt", "wb") as f:  # sparse: 100 MB on paper, nothing on disk
        f.truncate(100 * 1024 * 1024)
    (src / "ok.txt").write_text(ARTICLE, encoding="utf-8")
    outputs, errors = run_dir(src, tmp_path)
    assert "larger than the limit" in errors[str(src / "huge.txt")]["reason"]
    assert str(src / "ok.txt") in outputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payloads=st.lists(
        st.one_of(
            st.binary(max_size=2000),
            st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.text(alphabet="абвгдежзик .,!?\n<>/\"{}:[]#", max_size=2000).map(str.encode),
        ),
        min_size=1,
        max_size=4,
    ),
    suffix=st.sampled_from([".txt", ".html", ".jsonl", ".csv", ".json"]),
)
def test_fuzzed_files_are_all_accounted_for(tmp_path_factory, payloads, suffix):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    src = tmp_path / "in"
    src.mkdir()
    for i, payload in enumerate(payloads):
        (src / f"f{i}{suffix}").write_bytes(payload)
    outputs, errors = run_dir(src, tmp_path)
    if suffix in (".txt", ".html"):  # one document per file: each is in exactly one place
        for i in range(len(payloads)):
            source = str(src / f"f{i}{suffix}")
            assert (source in outputs) != (source in errors)
    for error in errors.values():
        assert error["reason"] and error["source"].startswith(str(src))


def test_unreadable_files_and_directories(tmp_path, monkeypatch):
    """Root reads everything, so permission errors are simulated where the OS would raise them."""
    import builtins
    import pathlib

    src = tmp_path / "in"
    (src / "locked").mkdir(parents=True)
    (src / "locked" / "inside.txt").write_text(ARTICLE, encoding="utf-8")
    (src / "secret.txt").write_text(OTHER_ARTICLE, encoding="utf-8")
    (src / "ok.txt").write_text(THIRD_ARTICLE, encoding="utf-8")
    real_iterdir, real_open = pathlib.Path.iterdir, builtins.open

    def iterdir(self):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    def guarded_open(file, *args, **kwargs):
        if str(file).endswith("secret.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "iterdir", iterdir)
    monkeypatch.setattr(builtins, "open", guarded_open)
    outputs, errors = run_dir(src, tmp_path)
    assert "cannot list directory" in errors[str(src / "locked")]["reason"]
    assert "Permission denied" in errors[str(src / "secret.txt")]["reason"]
    assert list(outputs) == [str(src / "ok.txt")]


def test_symlink_loops_end_and_read_each_file_once(tmp_path):
    """A link back to an ancestor used to be walked 40 levels deep (until the OS's ELOOP), reading
    every file above it 40 more times."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (src / "sub" / "b.txt").write_text(OTHER_ARTICLE, encoding="utf-8")
    (src / "sub" / "up").symlink_to(src, target_is_directory=True)
    outputs, errors = run_dir(src, tmp_path)
    assert errors == {}
    assert sorted(outputs) == [str(src / "a.txt"), str(src / "sub" / "b.txt")]


def test_a_pipe_in_a_directory_is_reported_not_read(tmp_path):
    """Opening a FIFO waits for a writer: a directory holding one must not hang the run."""
    import subprocess
    import sys

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(ARTICLE, encoding="utf-8")
    os.mkfifo(src / "pipe.txt")
    out = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "classify", "clean", str(src), "-o", str(out), "--quiet"], timeout=120, check=False)
    assert done.returncode == 1
    (error,) = [json.loads(line) for line in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert error["source"] == str(src / "pipe.txt") and "not a regular file" in error["reason"]
    assert [json.loads(line)["source"] for line in out.read_text().splitlines()] == [str(src / "a.txt")]


def test_a_pipe_named_as_input_is_read_once(tmp_path):
    """`classify run <(command)` names a pipe, which cannot be read twice: the counting pass read
    it and the run then found it empty ("empty document", the text lost). A pipe is read once,
    its repeated lines counted per batch, as standard input's are."""
    read_end, write_end = os.pipe()
    os.write(write_end, ARTICLE.encode("utf-8"))
    os.close(write_end)
    try:
        out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
        summary = run([f"/dev/fd/{read_end}"], out, errors, RunOptions())
    finally:
        os.close(read_end)
    assert (summary.documents, summary.errors) == (1, 0)
    assert json.loads(out.read_text())["clean_text"] == ARTICLE.strip()


def test_deeply_nested_json_and_undecodable_file_names(tmp_path):
    """JSON nested past Python's recursion limit crashed the run (RecursionError); a file name
    that is not UTF-8 made every output format fail on its path (lone surrogates). Both are now
    one record each: an error with its reason, a document whose source shows the bad byte."""
    import pyarrow.parquet as pq

    src = tmp_path / "in"
    src.mkdir()
    (src / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    (src / "deep.jsonl").write_bytes(json.dumps({"id": "ok", "text": ARTICLE}).encode() + b"\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n")
    with open(os.path.join(os.fsencode(src), b"caf\xe9.txt"), "wb") as f:
        f.write(OTHER_ARTICLE.encode("utf-8"))
    outputs, errors = run_dir(src, tmp_path)
    assert {source: e["reason"] for source, e in errors.items()} == {
        str(src / "deep.json"): "malformed JSON: nested too deeply to parse",
        f"{src / 'deep.jsonl'}:2": "malformed JSON: nested too deeply to parse",
    }
    assert outputs[f"{src / 'deep.jsonl'}:1"]["id"] == "ok"
    assert outputs[f"{src}/caf\\xe9.txt"]["id"] == "caf\\xe9"
    parquet = tmp_path / "out.parquet"
    run([src], parquet, tmp_path / "parquet.errors.jsonl", RunOptions(), fmt="parquet")
    assert f"{src}/caf\\xe9.txt" in pq.read_table(parquet).column("source").to_pylist()


def test_lone_surrogate_escapes_in_json_become_replacement_characters(tmp_path):
    """JSON may escape half a surrogate pair alone; the string it decodes to cannot be written in
    any format. The text was lost to an encoding error (and such an id or metadata field failed
    the whole run); now the half becomes U+FFFD, and a real pair (an emoji) stays as it is."""
    src = tmp_path / "in"
    src.mkdir()
    record = '{"id": "a\\ud800", "site": "x\\udfff", "text": "' + ARTICLE.strip() + ' \\ud83d\\ude00 \\udc00"}\n'
    (src / "s.jsonl").write_text(record, encoding="utf-8")
    (src / "s.json").write_text(record, encoding="utf-8")
    outputs, errors = run_dir(src, tmp_path)
    assert errors == {}
    for source in (f"{src / 's.jsonl'}:1", str(src / "s.json")):
        assert outputs[source]["id"] == "a\ufffd" and outputs[source]["metadata"]["site"] == "x\ufffd"
        assert outputs[source]["clean_text"].endswith("\U0001f600 \ufffd")


def test_an_oversized_jsonl_line_is_refused_without_holding_it(tmp_path):
    """A JSONL line over --max-bytes (a runaway record, a gzip bomb) used to be read whole, in the
    main process to find the batches and again in the worker: 1.3 GB for one 300 MB line. Now the
    line is counted through in chunks and becomes an error record; its neighbours are read."""
    import gzip
    import tracemalloc

    from classify.readers import ReadOptions, read_batch, read_batches

    lines = [json.dumps({"id": "a", "text": ARTICLE}), '{"text": "' + "x" * (20 << 20) + '"}', json.dumps({"id": "b", "text": OTHER_ARTICLE})]
    plain, packed = tmp_path / "big.jsonl", tmp_path / "big.jsonl.gz"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    options = ReadOptions(max_bytes=1 << 20)
    for path in (plain, packed):
        tracemalloc.start()
        items = [item for batch in read_batches([path], options, 2) for item in read_batch(batch, options)]
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 8 << 20, (path.name, peak)
        assert [getattr(item, "id", None) for item in items] == ["a", None, "b"]
        assert items[1].source == f"{path}:2" and "larger than the limit" in items[1].reason
