"""Resumable runs: output written in committed parts, with a manifest as the commit point.

While a run writes to OUTPUT, its records go to a work directory `OUTPUT.partial/`: one part file
of documents and one of errors per checkpoint window, each renamed into place when the window
closes, then what changed in the deduplicator's state (`classify.dedup.storage.SegmentedState`,
in `dedup/`), then `manifest.json` (how many input items are done, which parts hold them, which
files hold the deduplicator's state, the running summary). The manifest is written last and
atomically, so after a crash (even `kill -9`) it describes a consistent prefix of the run:
`--resume` skips that many input items, restores the deduplicator, and goes on. When the run
ends, the parts are joined into OUTPUT and the errors file (both atomically) and the work
directory is removed.

The work directory is also the run's lock (`classify.locking`): a second run writing the same
OUTPUT stops at once instead of trampling the first one's parts, and a crashed run's lock dies
with it, so it never blocks the `--resume` after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from classify.dedup.stage import Deduplicator
from classify.dedup.storage import SegmentedState
from classify.document import ErrorRecord
from classify.locking import lock_directory
from classify.writers import AtomicFile, EncodedRecord, JsonlWriter, open_writer, write_errors, write_text_atomically

MANIFEST_VERSION = 2  # 2: the deduplicator state saved in segments, listed in the manifest


class ResumeError(ValueError):
    """The work directory cannot be resumed: another run's, another version's, or unreadable."""


def _empty_directory(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def run_fingerprint(settings: Any) -> str:
    """A digest of everything that decides a run's output (inputs and options), for resume checks."""
    return hashlib.sha256(repr(settings).encode("utf-8")).hexdigest()[:32]


class Checkpoint:
    """Writes a run's records in committed windows and resumes from the last committed one.

    every_batches / every_seconds: a window closes after this many batches or seconds, whichever
    comes first, but never before `max_overhead` x the time the previous close took, so that
    checkpointing stays a bounded share of the run time even when closes get slow (a slow disk,
    a large merged run of the deduplicator's index to write).
    """

    def __init__(
        self,
        output: Path,
        errors_output: Path,
        fmt: str,
        fingerprint: str,
        resume: bool = False,
        every_batches: int = 64,
        every_seconds: float = 60.0,
        max_overhead: float = 0.1,
    ) -> None:
        self.output, self.errors_output, self.fmt = Path(output), Path(errors_output), fmt
        self.workdir = work_directory(self.output)
        self.fingerprint = fingerprint
        self.every_batches, self.every_seconds = every_batches, every_seconds
        self.max_overhead = max_overhead
        self._last_commit_seconds = 0.0
        self.manifest: dict[str, Any] = {
            "version": MANIFEST_VERSION, "fingerprint": fingerprint, "items_done": 0, "parts": 0, "summary": {},
        }
        self._writers: tuple[Any, JsonlWriter] | None = None
        self._lock = lock_directory(
            self.workdir, "another classify run is writing this output; wait for it to end or choose another --output"
        )
        try:
            if resume and (self.workdir / "manifest.json").exists():
                self._load_manifest()
            else:  # emptied, not replaced: the lock is on this directory
                _empty_directory(self.workdir)
            # Parts beyond the manifest, and state files it does not list, belong to a window
            # that never committed: drop them.
            for stray in self.workdir.glob("part-*"):
                if int(stray.name.split("-")[1].split(".")[0]) >= self.manifest["parts"]:
                    stray.unlink()
            self._dedup_state = SegmentedState(self.workdir / "dedup")
            self._dedup_state.prune(self.manifest.get("dedup"))
        except BaseException:
            self.close()
            raise
        self._pending_summary: dict[str, int] = self.manifest["summary"]
        self._pending_items = 0
        self._window_batches = 0
        self._window_started = time.monotonic()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    @property
    def items_done(self) -> int:
        return self.manifest["items_done"]

    @property
    def scratch(self) -> Path:
        """A directory for the run's temporary files: inside the work directory, so that a crashed
        run's leftovers go with it (by `--resume` or by the next run) instead of piling up in /tmp."""
        return self.workdir

    @property
    def summary(self) -> dict[str, int]:
        return self.manifest["summary"]

    @property
    def holds_dedup_state(self) -> bool:
        """Whether the committed checkpoint has a deduplicator state to `restore_dedup`."""
        return bool(self.items_done and self.manifest.get("dedup"))

    def restore_dedup(self, dedup: Deduplicator) -> None:
        """Set `dedup` to the committed checkpoint's state, if it has one."""
        if self.holds_dedup_state:
            self._dedup_state.load(dedup, self.manifest["dedup"])

    def _load_manifest(self) -> None:
        try:
            manifest = json.loads((self.workdir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResumeError(f"{self.workdir}: unreadable manifest ({exc}); delete the directory to start over") from exc
        if manifest.get("version") != MANIFEST_VERSION:
            raise ResumeError(f"{self.workdir}: manifest version {manifest.get('version')}, expected {MANIFEST_VERSION}")
        if manifest.get("fingerprint") != self.fingerprint:
            raise ResumeError(
                f"{self.workdir}: left by a run with other inputs or options; rerun with the same ones "
                "or without --resume to start over"
            )
        self.manifest = manifest

    def _part(self, kind: str, number: int) -> Path:
        suffix = self.fmt if kind == "docs" else "jsonl"
        return self.workdir / f"part-{number:06d}.{kind}.{suffix}"

    def write(
        self,
        records: list[EncodedRecord],
        errors: list[ErrorRecord],
        items: int,
        summary: dict[str, int],
        dedup: Deduplicator | None,
    ) -> None:
        """Add one batch (`items` input items; `summary`: the run's totals with it; `dedup`: the
        deduplicator that has seen it) to the open window; close the window when it is due."""
        if self._writers is None:
            number = self.manifest["parts"]
            self._writers = (open_writer(self._part("docs", number), self.fmt), JsonlWriter(self._part("errors", number)))
        self._writers[0].write(records)
        write_errors(self._writers[1], errors)
        self._pending_items += items
        self._pending_summary = summary
        self._window_batches += 1
        elapsed = time.monotonic() - self._window_started
        due = self._window_batches >= self.every_batches or elapsed >= self.every_seconds
        if due and elapsed * self.max_overhead >= self._last_commit_seconds:
            self.commit(dedup)

    def commit(self, dedup: Deduplicator | None) -> None:
        """Close the open window: parts, then deduplicator state, then the manifest (the commit point)."""
        started = time.monotonic()
        if self._writers is not None:
            for writer in self._writers:
                writer.close()
            self._writers = None
            if dedup is not None:
                self.manifest["dedup"] = self._dedup_state.save(dedup)
            self.manifest["parts"] += 1
            self.manifest["items_done"] += self._pending_items
            self.manifest["summary"] = self._pending_summary
            write_text_atomically(self.workdir / "manifest.json", json.dumps(self.manifest))
            self._dedup_state.prune(self.manifest.get("dedup"))  # runs that merges replaced
        self._pending_items = self._window_batches = 0
        self._window_started = time.monotonic()
        self._last_commit_seconds = self._window_started - started

    def finish(self) -> None:
        """Join the parts into the outputs (atomically) and remove the work directory."""
        parts = range(self.manifest["parts"])
        if self._writers is not None:  # the last window needs no checkpoint: the run is complete
            for writer in self._writers:
                writer.close()
            parts = range(self.manifest["parts"] + 1)
        if self.fmt == "jsonl":
            _concatenate([self._part("docs", n) for n in parts], self.output)
        else:
            _concatenate_parquet([self._part("docs", n) for n in parts], self.output)
        _concatenate([self._part("errors", n) for n in parts], self.errors_output)
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.close()

    def close(self) -> None:
        """Discard a window that has not committed and release the lock (idempotent). After a
        failure the committed checkpoint stays in the work directory for `--resume`."""
        if self._writers is not None:
            for writer in self._writers:
                writer.close(commit=False)
            self._writers = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def work_directory(output: Path) -> Path:
    """Where a resumable run keeps its checkpoint while it writes `output`: `OUTPUT.partial/`."""
    return output.with_name(output.name + ".partial")


def _concatenate(parts: list[Path], target: Path) -> None:
    out = AtomicFile(target)
    with open(out.tmp, "wb") as sink:
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, sink, 1 << 20)
        sink.flush()
        os.fsync(sink.fileno())
    out.commit()


def _concatenate_parquet(parts: list[Path], target: Path) -> None:
    import pyarrow.parquet as pq

    with open_writer(target, "parquet") as writer:
        for part in parts:
            file = pq.ParquetFile(part)
            for group in range(file.num_row_groups):
                writer.write_table(file.read_row_group(group))


class DirectOutput:
    """Output without checkpoints, for standard output (which cannot be resumed or renamed)."""

    items_done = 0
    holds_dedup_state = False
    summary: dict[str, int] = {}
    scratch = None  # temporary files go to the system's temporary directory

    def __init__(self, output: Path | str, errors_output: Path, fmt: str) -> None:
        self._docs = open_writer(output, fmt)
        self._errors = JsonlWriter(errors_output)

    def restore_dedup(self, dedup: Deduplicator) -> None:
        """Nothing to restore: standard output cannot be resumed."""

    def write(self, records, errors, items, summary, dedup) -> None:  # noqa: ARG002
        self._docs.write(records)
        write_errors(self._errors, errors)

    def __enter__(self) -> DirectOutput:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(commit=exc_type is None)

    def finish(self) -> None:
        self.close()

    def close(self, commit: bool = True) -> None:
        """Flush standard output; commit the errors file, or discard it after a failure (idempotent)."""
        if self._docs is not None:
            self._docs.close(commit)
            self._errors.close(commit)
            self._docs = self._errors = None


def open_output(
    output: Path | str, errors_output: Path, fmt: str, fingerprint: str, resume: bool = False, **window: Any
) -> Checkpoint | DirectOutput:
    """Checkpointed output for a file, direct output for "-" (stdout)."""
    if str(output) == "-":
        if resume:
            raise ResumeError("--resume needs an output file, not standard output")
        return DirectOutput(output, errors_output, fmt)
    return Checkpoint(Path(output), errors_output, fmt, fingerprint, resume, **window)
