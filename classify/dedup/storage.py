"""The on-disk index: one uncompressed ``.npz`` (numpy arrays, no pickle) plus a JSON header.

Saving writes a temporary file next to the target, flushes it to disk, and renames it over the
target (``os.replace`` is atomic on POSIX and Windows), so an interrupted save leaves the previous
index intact. The header carries a format name and version and the options that shape the
signatures and sets; loading an index written with another version or other options fails with
`IndexFormatError` instead of silently producing wrong matches.

A run's checkpoints save the state many times over; `SegmentedState` keeps it as a directory of
segment files instead, so that each save writes only what changed since the previous one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import weakref
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from classify.dedup.index import ID_DTYPE, GrowableArray, HashSetStore, NearDuplicateIndex, UnionSetStore
from classify.dedup.options import DedupOptions

if TYPE_CHECKING:
    from classify.dedup.stage import Deduplicator

FORMAT = "classify-dedup-index"
VERSION = 4  # 2: int32 ids, 32-bit bucket keys, documents as their paragraphs' rows; 3: b-bit sketches;
# 4: 32-bit set hashes, multimap runs saved unmerged
# Options that shape the stored sets, signatures or LSH band keys (the banding follows the
# thresholds and lsh_recall); an index is unusable under different values.
_SHAPING_OPTIONS = (
    "num_perm", "seed", "shingle_size", "char_shingle_size", "short_paragraph_words", "min_chars",
    "threshold", "document_threshold", "lsh_recall",
)


class IndexFormatError(ValueError):
    """The index file is not a classify dedup index of this version, or was built with other options."""


_INDEX_NAMES = ("paragraphs", "documents")  # the prefixes of the two indexes' names in the saved state
Runs = dict[str, list[tuple[np.ndarray, np.ndarray]]]  # "<index>.<multimap>" -> sorted runs, oldest first
# In the one-file index, run n of a multimap is the pair "<index>.<multimap>_keys.<n>" and "..._owners.<n>".
_FLAT_RUN = re.compile(r"^(?P<multimap>.+)_(?P<part>keys|owners)\.(?P<run>\d+)$")


def save_state(dedup: Deduplicator, path: Path) -> None:
    """Write the deduplicator's state to `path` atomically."""
    id_bytes, id_lengths = _document_id_arrays(dedup.document_ids)
    arrays = {
        "header": _header_array(dedup),
        "document_id_bytes": id_bytes,
        "document_id_offsets": np.concatenate(([0], np.cumsum(id_lengths))).astype(np.int64),
        **_index_arrays(dedup),
    }
    for multimap, runs in _index_runs(dedup).items():
        for number, (keys, owners) in enumerate(runs):
            arrays[f"{multimap}_keys.{number}"], arrays[f"{multimap}_owners.{number}"] = keys, owners
    _write_npz(path, arrays)


def load_state(dedup: Deduplicator, path: Path) -> None:
    """Restore `dedup`'s state from `path`, checking format, version and options."""
    arrays, flat_runs = {}, {}
    for name, values in _read_npz(path).items():
        if (run := _FLAT_RUN.match(name)) is not None:
            flat_runs[run["multimap"], int(run["run"]), run["part"]] = values
        else:
            arrays[name] = values
    runs: Runs = {}
    for multimap, number, part in sorted(flat_runs):
        if part == "keys":
            pair = flat_runs[multimap, number, "keys"], flat_runs[multimap, number, "owners"]
            runs.setdefault(multimap, []).append(pair)
    _restore(dedup, arrays, runs, path)


def _header_array(dedup: Deduplicator) -> np.ndarray:
    header = {"format": FORMAT, "version": VERSION, "options": dedup.options.to_dict()}
    return np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)


def _document_id_arrays(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Document ids as their concatenated UTF-8 bytes and the byte length of each."""
    encoded = [doc_id.encode("utf-8") for doc_id in ids]
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), np.fromiter(map(len, encoded), np.int64, len(encoded))


def _indexes(dedup: Deduplicator) -> dict[str, NearDuplicateIndex]:
    return dict(zip(_INDEX_NAMES, (dedup.paragraphs, dedup.documents)))


def _index_arrays(dedup: Deduplicator) -> dict[str, np.ndarray]:
    """The deduplicator's numpy state by name but the multimaps' runs, as views (nothing is copied)."""
    arrays = {
        "paragraph_doc": dedup.paragraph_doc.values,
        "paragraph_line": dedup.paragraph_line.values,
        "document_item_doc": dedup.document_item_doc.values,
    }
    for prefix, index in _indexes(dedup).items():
        arrays.update({f"{prefix}.{name}": value for name, value in index.state().items()})
    return arrays


def _index_runs(dedup: Deduplicator) -> Runs:
    """The sorted runs of both indexes' multimaps, as they are (nothing is copied)."""
    return {
        f"{prefix}.{multimap}": runs for prefix, index in _indexes(dedup).items() for multimap, runs in index.runs().items()
    }


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """`np.savez` to a temporary file, flushed to disk, then renamed over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise IndexFormatError(f"{path}: not a readable dedup index ({err})") from err


def _restore(dedup: Deduplicator, arrays: dict[str, np.ndarray], runs: Runs, source: Path) -> None:
    """Set `dedup`'s state from `arrays` and `runs` (as `_index_arrays` and `_index_runs` give
    them, with the header and document ids), checking the header."""
    try:
        header = json.loads(arrays["header"].tobytes().decode("utf-8"))
    except (ValueError, KeyError) as err:
        raise IndexFormatError(f"{source}: not a readable dedup index ({err})") from err
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise IndexFormatError(
            f"{source}: index format {header.get('format')!r} version {header.get('version')!r}, "
            f"this program reads {FORMAT!r} version {VERSION}; rebuild the index"
        )
    stored = DedupOptions(**header["options"])
    mismatched = [name for name in _SHAPING_OPTIONS if getattr(stored, name) != getattr(dedup.options, name)]
    if mismatched:
        details = ", ".join(f"{n}={getattr(stored, n)!r} (now {getattr(dedup.options, n)!r})" for n in mismatched)
        raise IndexFormatError(f"{source}: index was built with {details}; use the same options or a new index")
    offsets = arrays["document_id_offsets"]
    raw = arrays["document_id_bytes"].tobytes()
    dedup.document_ids = [raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]
    dedup.paragraph_doc = GrowableArray(ID_DTYPE, arrays["paragraph_doc"])
    dedup.paragraph_line = GrowableArray(ID_DTYPE, arrays["paragraph_line"])
    dedup.document_item_doc = GrowableArray(ID_DTYPE, arrays["document_item_doc"])
    # Each index's arrays and runs, their "<index>." prefix taken off.
    states, index_runs = (
        {prefix: {name.split(".", 1)[1]: value for name, value in named.items() if name.startswith(prefix + ".")}
         for prefix in _INDEX_NAMES}
        for named in (arrays, runs)
    )
    paragraph_sets = HashSetStore.from_state(states["paragraphs"])
    dedup.paragraphs = dedup._new_index(dedup.options.threshold, paragraph_sets, states["paragraphs"], index_runs["paragraphs"])
    document_sets = UnionSetStore(paragraph_sets, states["documents"])
    dedup.documents = dedup._new_index(
        dedup.options.document_threshold, document_sets, states["documents"], index_runs["documents"]
    )


class SegmentedState:
    """A deduplicator's state saved again and again into one directory, each save writing only
    what changed since the previous one, so the checkpoints of a run cost O(n log n) in all
    instead of O(n^2 / window) for saving the whole state each time.

    Almost all of the state only grows at its end (sets, sketches, ids, owners of each item); a
    save writes those arrays' new tails into one file. The multimaps' sorted runs never change
    once built (a merge builds a new run), so a run is written once, when it first appears, and
    its file is deleted once a merge has replaced it; run sizes halve from run to run, so an item
    is written O(log n) times, as often as it is merged. Only the header and the union-find
    parents (old clusters' roots move) are rewritten whole, 4 bytes per item.

    `save` returns a listing (JSON) of the files that make up the state, for the caller to commit
    (in a checkpoint manifest); after that commit, `prune` deletes the files it does not name.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._tails: dict[str, list[str]] = {}  # growing array -> files of its segments, in order
        self._saved: dict[str, int] = {}  # growing array -> elements written so far
        self._run_files: dict[int, tuple[weakref.ref, str]] = {}  # id(a run's keys) -> (ref, file)
        self._serial = 0

    def save(self, dedup: Deduplicator) -> dict[str, Any]:
        """Write what changed since the last save (or `load`); returns the listing of the state."""
        self.directory.mkdir(parents=True, exist_ok=True)
        arrays = _index_arrays(dedup)
        # One length per document id: the ids written so far are the lengths written so far.
        id_bytes, id_lengths = _document_id_arrays(dedup.document_ids[self._saved.get("document_id_lengths", 0) :])
        tails = {"document_id_bytes": id_bytes, "document_id_lengths": id_lengths}
        rewritten = {"header": _header_array(dedup)}
        for name, values in arrays.items():
            if name.endswith(".parent"):
                rewritten[name] = values
            else:
                tails[name] = values[self._saved.get(name, 0) :]
        runs = {multimap: [self._run_file(*run) for run in index_runs] for multimap, index_runs in _index_runs(dedup).items()}
        tails = {name: tail for name, tail in tails.items() if len(tail)}
        if tails:
            tail_file = self._write("tail", tails)
            for name, tail in tails.items():
                self._tails.setdefault(name, []).append(tail_file)
                self._saved[name] = self._saved.get(name, 0) + len(tail)
        return {"tails": {name: list(files) for name, files in self._tails.items()}, "runs": runs,
                "rewritten": self._write("rewritten", rewritten)}

    def _run_file(self, keys: np.ndarray, owners: np.ndarray) -> str:
        """The file holding this run, written now if it is new (runs are known by identity)."""
        known = self._run_files.get(id(keys))
        if known is not None and known[0]() is keys:
            return known[1]
        name = self._write("run", {"keys": keys, "owners": owners})
        self._run_files[id(keys)] = (weakref.ref(keys), name)
        return name

    def _write(self, kind: str, arrays: dict[str, np.ndarray]) -> str:
        self._serial += 1
        name = f"{kind}-{self._serial:06d}.npz"
        _write_npz(self.directory / name, arrays)
        return name

    def load(self, dedup: Deduplicator, listing: dict[str, Any]) -> None:
        """Restore `dedup` from the files `listing` names; later saves write only what follows."""
        files: dict[str, dict[str, np.ndarray]] = {}

        def read(name: str) -> dict[str, np.ndarray]:
            if name not in files:
                files[name] = _read_npz(self.directory / name)
            return files[name]

        arrays = dict(read(listing["rewritten"]))
        for name, segments in listing["tails"].items():
            arrays[name] = np.concatenate([read(segment)[name] for segment in segments])
        runs = {
            multimap: [(read(name)["keys"], read(name)["owners"]) for name in names]
            for multimap, names in listing["runs"].items()
        }
        lengths = arrays.pop("document_id_lengths", np.zeros(0, dtype=np.int64))
        arrays["document_id_offsets"] = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        arrays.setdefault("document_id_bytes", np.zeros(0, dtype=np.uint8))
        _restore(dedup, arrays, runs, self.directory)
        # The restored multimaps hold these very run arrays, so they are not written again.
        self._run_files = {
            id(keys): (weakref.ref(keys), name)
            for multimap, names in listing["runs"].items() for (keys, _), name in zip(runs[multimap], names)
        }
        self._tails = {name: list(segments) for name, segments in listing["tails"].items()}
        self._saved = {name: len(arrays[name]) for name in listing["tails"] if name in arrays}
        self._saved["document_id_lengths"] = len(lengths)
        self._serial = max([self._serial, *(_serial_of(name) for name in _files_of(listing))])

    def prune(self, listing: dict[str, Any] | None) -> None:
        """Delete the files of this directory that `listing` (the committed state) does not name."""
        keep = set(_files_of(listing)) if listing else set()
        for path in self.directory.glob("*.npz"):
            if path.name not in keep:
                path.unlink()
        for path in self.directory.glob("*.tmp"):
            path.unlink()
        for key in [key for key, (_, name) in self._run_files.items() if name not in keep]:
            del self._run_files[key]


def _files_of(listing: dict[str, Any]) -> list[str]:
    return [listing["rewritten"], *(f for files in listing["tails"].values() for f in files),
            *(f for files in listing["runs"].values() for f in files)]


def _serial_of(name: str) -> int:
    return int(name.rsplit("-", 1)[1].split(".")[0])
