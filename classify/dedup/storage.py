"""The on-disk index: one uncompressed ``.npz`` (numpy arrays, no pickle) plus a JSON header.

Saving writes a temporary file next to the target, flushes it to disk, and renames it over the
target (``os.replace`` is atomic on POSIX and Windows), so an interrupted save leaves the previous
index intact. The header carries a format name and version and the options that shape the
signatures and sets; loading an index written with another version or other options fails with
`IndexFormatError` instead of silently producing wrong matches.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from classify.dedup.index import ID_DTYPE, GrowableArray, HashSetStore, UnionSetStore
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


def save_state(dedup: Deduplicator, path: Path) -> None:
    """Write the deduplicator's state to `path` atomically."""
    header = {"format": FORMAT, "version": VERSION, "options": dedup.options.to_dict()}
    ids = [doc_id.encode("utf-8") for doc_id in dedup.document_ids]
    arrays = {
        "header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
        "document_id_bytes": np.frombuffer(b"".join(ids), dtype=np.uint8),
        "document_id_offsets": np.concatenate(([0], np.cumsum([len(i) for i in ids]))).astype(np.int64),
        "paragraph_doc": dedup.paragraph_doc.values,
        "paragraph_line": dedup.paragraph_line.values,
        "document_item_doc": dedup.document_item_doc.values,
    }
    for prefix, index in (("paragraphs", dedup.paragraphs), ("documents", dedup.documents)):
        arrays.update({f"{prefix}.{name}": value for name, value in index.state().items()})
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


def load_state(dedup: Deduplicator, path: Path) -> None:
    """Restore `dedup`'s state from `path`, checking format, version and options."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        header = json.loads(arrays["header"].tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise IndexFormatError(f"{path}: not a readable dedup index ({err})") from err
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise IndexFormatError(
            f"{path}: index format {header.get('format')!r} version {header.get('version')!r}, "
            f"this program reads {FORMAT!r} version {VERSION}; rebuild the index"
        )
    stored = DedupOptions(**header["options"])
    mismatched = [name for name in _SHAPING_OPTIONS if getattr(stored, name) != getattr(dedup.options, name)]
    if mismatched:
        details = ", ".join(f"{n}={getattr(stored, n)!r} (now {getattr(dedup.options, n)!r})" for n in mismatched)
        raise IndexFormatError(f"{path}: index was built with {details}; use the same options or a new index")
    offsets = arrays["document_id_offsets"]
    raw = arrays["document_id_bytes"].tobytes()
    dedup.document_ids = [raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]
    dedup.paragraph_doc = GrowableArray(ID_DTYPE, arrays["paragraph_doc"])
    dedup.paragraph_line = GrowableArray(ID_DTYPE, arrays["paragraph_line"])
    dedup.document_item_doc = GrowableArray(ID_DTYPE, arrays["document_item_doc"])
    states = {
        prefix: {name.split(".", 1)[1]: value for name, value in arrays.items() if name.startswith(prefix + ".")}
        for prefix in ("paragraphs", "documents")
    }
    paragraph_sets = HashSetStore.from_state(states["paragraphs"])
    dedup.paragraphs = dedup._new_index(dedup.options.threshold, paragraph_sets, states["paragraphs"])
    document_sets = UnionSetStore(paragraph_sets, states["documents"])
    dedup.documents = dedup._new_index(dedup.options.document_threshold, document_sets, states["documents"])
