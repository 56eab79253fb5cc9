"""The whole job: read -> clean -> dedup -> classify -> write, over streaming batches.

Per-document work runs in parallel worker processes with joblib: cleaning, language
identification of the cleaned text, classification, the dedup sketch (shingles and signatures),
and the JSON encoding of each document's record, which is all that comes back with the sketch.
Matching against the corpus-wide dedup index runs in this process, batch after batch, in input
order, and fills in the records' dedup fields. With --drop-duplicates the clean text and the
classification depend on the dedup flags, so documents come back whole and are classified and
encoded here.
A stage that fails on a batch is retried document by document, and a document that still fails
becomes an error record naming the stage: every input ends up in the output or in the errors.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from itertools import islice
from pathlib import Path

from joblib import Parallel, delayed, effective_n_jobs

from classify.checkpoint import open_output, run_fingerprint, work_directory
from classify.clean import CleanOptions, clean_documents, split_lines
from classify.clean.repetition import SourceLineCounts
from classify.dedup import Deduplicator, DedupOptions
from classify.dedup.minhash import MinHasher
from classify.dedup.stage import BatchItems, batch_items
from classify.document import BLANK, CONTENT, Document, ErrorRecord
from classify.language import detect_language
from classify.locking import index_lock, index_lock_path
from classify.models import ModelBundle, classify_documents, default_models_dir, load_models, model_files
from classify.readers import Batch, JsonlSlice, ReadOptions, read_batch, read_batches, rereadable
from classify.writers import AtomicFile, EncodedRecord

STAGES = ("clean", "dedup", "classify")
REPETITION_SCOPES = ("corpus", "batch")
# --jobs counts cores: classification runs on one thread in every process that does it (each
# worker, or this one with --jobs 1 or --drop-duplicates), so a run never uses more than --jobs.
CLASSIFY_THREADS = 1


@dataclass(slots=True)
class RunOptions:
    """Everything a run needs besides its inputs and outputs, one field per stage's options."""

    read: ReadOptions = field(default_factory=ReadOptions)
    clean: CleanOptions = field(default_factory=CleanOptions)
    dedup: DedupOptions = field(default_factory=DedupOptions)
    drop_duplicates: bool = False  # drop flagged duplicate paragraphs before classification
    target: str | None = None  # stance toward this entity instead of the article's subject
    models_dir: Path | None = None  # None: the shipped models
    index_path: Path | None = None  # persistent dedup index shared by successive runs
    batch_size: int = 256
    jobs: int = 1
    checkpoint_every: int = 64  # batches per committed window of a resumable run
    stages: tuple[str, ...] = STAGES  # `classify clean` and `classify dedup` run a prefix
    # Where lines repeated in a source are counted: over the whole corpus (a first, counting pass
    # over the inputs; stdin falls back to "batch") or within each batch of documents.
    repetition: str = "corpus"

    def __post_init__(self) -> None:
        unknown = set(self.stages) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown stages {sorted(unknown)}; choose from {STAGES}")
        if self.repetition not in REPETITION_SCOPES:
            raise ValueError(f"repetition must be one of {REPETITION_SCOPES}, got {self.repetition!r}")
        if self.jobs == 0:
            raise ValueError("jobs must be at least 1, or negative to count back from all cores (-1: all)")
        if self.batch_size < 1 or self.checkpoint_every < 1:
            raise ValueError("batch_size and checkpoint_every must be at least 1")


@dataclass(slots=True)
class RunSummary:
    documents: int = 0
    errors: int = 0
    lines_removed: int = 0
    duplicate_paragraphs: int = 0

    def add(self, records: list[EncodedRecord], errors: list[ErrorRecord]) -> None:
        self.documents += len(records)
        self.errors += len(errors)
        self.lines_removed += sum(record.lines_removed for record in records)
        self.duplicate_paragraphs += sum(len(record.duplicates) for record in records)


def batched(items: Iterable[Document | ErrorRecord], size: int) -> Iterator[Batch]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def guarded(stage: str, step: Callable[[list[Document]], list[Document]], docs: list[Document], errors: list[ErrorRecord]) -> list[Document]:
    """Apply `step` to the batch; if it raises, retry each document alone and record the failures."""
    try:
        return step(docs)
    except Exception:  # noqa: BLE001 - any failure is turned into per-document error records
        survivors = []
        for doc in docs:
            try:
                survivors.extend(step([doc]))
            except Exception as exc:  # noqa: BLE001
                errors.append(ErrorRecord(doc.source, f"{type(exc).__name__}: {exc}", stage=stage, id=doc.id))
        return survivors


def keep_every_line(docs: list[Document]) -> list[Document]:
    """Without the cleaning stage, every non-blank line is kept as content."""
    for doc in docs:
        doc.lines = doc.lines or split_lines(doc)
        for line in doc.lines:
            line.status = CONTENT if line.text.strip() else BLANK
    return docs


def line_counts_path(index_path: Path) -> Path:
    """Where a persistent index keeps its source line counts: beside the dedup index."""
    return index_path.with_name(index_path.name + ".lines.npz")


def run_files(output: Path | str, errors_output: Path | str, index_path: Path | None) -> tuple[Path, ...]:
    """What a run writes, resolved: its output, errors file and work directory, and a persistent
    index with its lock and line counts."""
    paths = [Path(errors_output)]
    if str(output) != "-":
        paths += [Path(output), work_directory(Path(output))]
    if index_path is not None:
        paths += [index_path, index_lock_path(index_path), line_counts_path(index_path)]
    return tuple(sorted({path.resolve() for path in paths}))


def excluding_run_files(inputs: list[str], output: Path | str, errors_output: Path | str, options: RunOptions) -> RunOptions:
    """`options` with which a directory input never reads the run's own files (`run_files`): an
    output inside an input directory would otherwise be read back, its work directory's files
    while the run writes them. An input file that the run writes is an error: it would be
    overwritten; so is an output that is a directory, found now rather than when the finished
    output is renamed into place at the end of the run."""
    for path in (output, errors_output):
        if str(path) != "-" and Path(path).is_dir():
            raise IsADirectoryError(f"{path} is a directory; give the output a file name")
    written = run_files(output, errors_output, options.index_path)
    for item in inputs:
        if item != "-" and Path(item).resolve() in written:
            raise ValueError(f"{item} is an input and is also written by this run; choose another --output or --index")
    return replace(options, read=replace(options.read, exclude=written))


def count_batch_lines(batch: Batch | JsonlSlice, options: ReadOptions) -> SourceLineCounts:
    """A batch's part of the corpus line counts. A document that cannot be read as lines is left
    out here; the cleaning pass records its error."""
    counts = SourceLineCounts()
    for doc in read_batch(batch, options):
        if isinstance(doc, Document):
            try:
                counts.add_documents([doc])
            except Exception:  # noqa: BLE001 - reported by the cleaning stage, which fails on it too
                continue
    return counts


def counts_over_corpus(inputs: list[str], options: RunOptions) -> bool:
    """Whether the run counts repeated lines in a first pass over the whole corpus: not when
    repetition is counted per batch, nor when an input (stdin, a pipe) cannot be read twice."""
    return "clean" in options.stages and options.repetition == "corpus" and all(map(rereadable, inputs))


def count_corpus_lines(inputs: list[str], options: RunOptions) -> SourceLineCounts | None:
    """The repetition evidence of the whole corpus: every source's line counts from a first pass
    over the inputs (in parallel, merged here), plus those of earlier runs kept with a persistent
    index. None when repetition is counted per batch or the input (stdin) cannot be read twice.
    The counts are complete: the cleaning pass only looks them up."""
    if not counts_over_corpus(inputs, options):
        return None
    parts = Parallel(n_jobs=options.jobs, return_as="generator", pre_dispatch="2*n_jobs")(
        delayed(count_batch_lines)(batch, options.read) for batch in read_batches(inputs, options.read, options.batch_size)
    )
    counts = SourceLineCounts.merged(parts, complete=True)
    # The line counts belong to the index: without the index file a run starts afresh, whatever
    # counts an earlier index left beside it.
    if options.index_path is not None and options.index_path.exists() and line_counts_path(options.index_path).exists():
        counts.update(SourceLineCounts.load(line_counts_path(options.index_path)))
    return counts


def prepare_batch(
    batch: Batch | JsonlSlice, options: RunOptions, counts: SourceLineCounts | None = None
) -> tuple[list[Document], list[ErrorRecord], int]:
    """Per-batch work that parallelises: reading a batch still in its file, cleaning, then language
    identification of the clean text. `counts`: the corpus's line counts (None: repetition is
    counted within the batch). Returns the batch's documents, its error records, and its number
    of input items."""
    batch = read_batch(batch, options.read)
    docs = [item for item in batch if isinstance(item, Document)]
    errors = [item for item in batch if isinstance(item, ErrorRecord)]

    def clean_and_identify(chunk: list[Document]) -> list[Document]:
        chunk = clean_documents(chunk, options.clean, counts) if "clean" in options.stages else keep_every_line(chunk)
        for doc in chunk:
            doc.language = detect_language(doc.clean_text() or doc.text)
        return chunk

    return guarded("clean", clean_and_identify, docs, errors), errors, len(batch)


@dataclass(frozen=True, slots=True)
class SharedCounts:
    """The corpus's line counts as a file that each worker process loads once, instead of a copy
    pickled into every batch's task (megabytes, growing with the corpus)."""

    path: str
    token: str  # unique per run: a worker's cache never serves an earlier run's file at a reused path

    def load(self) -> SourceLineCounts:
        return _load_shared_counts(self.path, self.token)


@lru_cache(maxsize=2)
def _load_shared_counts(path: str, token: str) -> SourceLineCounts:  # noqa: ARG001 - token: part of the cache key
    return SourceLineCounts.load(path)


@contextmanager
def shared_counts(counts: SourceLineCounts | None, directory: Path | None = None) -> Iterator[SharedCounts | None]:
    """`counts` saved for the run's workers (None stays None) in `directory` (None: a temporary
    directory of the system); the file goes when the run ends."""
    if counts is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="classify-counts-", dir=directory) as scratch:
        path = Path(scratch) / "counts.npz"
        counts.save(path)
        yield SharedCounts(str(path), uuid.uuid4().hex)


def worker_models(directory: Path | None) -> ModelBundle:
    """The models, loaded once per worker process and reloaded when their files change: a
    long-lived worker (joblib's reusable pool, a Dask cluster) must not keep models retrained since."""
    directory = Path(directory) if directory is not None else default_models_dir()
    stamp = tuple((stat.st_mtime_ns, stat.st_size) for stat in (f.stat() for f in model_files(directory) if f.exists()))
    return _load_worker_models(str(directory), stamp)


@lru_cache(maxsize=2)
def _load_worker_models(directory: str, stamp: tuple) -> ModelBundle:  # noqa: ARG001 - stamp: part of the cache key
    return load_models(Path(directory))


def warm_up_worker(models_dir: Path | None) -> None:
    """A worker's start-up work done ahead of its first batch: the imports (by unpickling this
    function) and, when given a directory, the models."""
    if models_dir is not None:
        worker_models(models_dir)


@contextmanager
def started_workers(options: RunOptions) -> Iterator[Callable[[], None]]:
    """Start the worker pool now, one warm-up task per worker, and yield `ready`, which waits for
    those tasks. A worker takes about a second to spawn and import; started early, that second
    overlaps this process's own set-up instead of delaying the first pass. joblib's loky pool is
    reused by the run's later `Parallel` calls. On the way out the warm-up is waited for, so that
    a run that fails early does not cancel a worker mid-import."""
    pending: Iterator[None] = iter(())
    if effective_n_jobs(options.jobs) > 1:
        models_dir = (options.models_dir or default_models_dir()) if "classify" in options.stages else None
        pending = Parallel(n_jobs=options.jobs, return_as="generator_unordered")(
            delayed(warm_up_worker)(models_dir) for _ in range(effective_n_jobs(options.jobs))
        )

    def ready() -> None:
        for _ in pending:
            pass

    try:
        yield ready
    finally:
        with suppress(Exception):  # the run's own error, if any, is the one to report
            ready()


def encodes_in_worker(options: RunOptions) -> bool:
    """Whether a worker can finish its documents: only --drop-duplicates makes their clean text
    (and so their classification) wait for the dedup flags of this process."""
    return not options.drop_duplicates


def encode_records(docs: list[Document], drop_duplicates: bool, errors: list[ErrorRecord]) -> list[tuple[Document, EncodedRecord]]:
    """The documents' records, paired with them; a document that cannot be encoded becomes an error record."""
    return guarded("write", lambda chunk: [(doc, EncodedRecord.of(doc, drop_duplicates)) for doc in chunk], docs, errors)


def sketch_batch(
    docs: list[Document], options: DedupOptions, minhasher: MinHasher
) -> tuple[list[Document], BatchItems, list[ErrorRecord]]:
    """The dedup sketch of a batch; a document that cannot be sketched leaves the batch and
    becomes an error record (the batch is then sketched without it)."""
    errors: list[ErrorRecord] = []
    try:
        return docs, batch_items(docs, options, minhasher), errors
    except Exception:  # noqa: BLE001 - find the documents that fail, sketch the others
        docs = guarded("dedup", lambda chunk: batch_items(chunk, options, minhasher) and chunk, docs, errors)
        return docs, batch_items(docs, options, minhasher), errors


def prepare_in_worker(
    batch: Batch | JsonlSlice,
    options: RunOptions,
    counts: SharedCounts | SourceLineCounts | None = None,
    minhasher: MinHasher | None = None,
) -> tuple[list[EncodedRecord] | list[Document], list[ErrorRecord], int, BatchItems | None]:
    """All of a batch's work that needs no corpus-wide state, for a worker process: `prepare_batch`,
    classification, the records' encoding and the dedup sketch (shingles and signatures: the
    costly, stateless part of dedup), in the order of the returned batch: the records, or the
    documents themselves, unclassified, when not `encodes_in_worker`. The sketch is None without dedup.
    `minhasher`: the run's, sent to the worker so that it does not build one (see `MinHasher`);
    None: one is built from `options.dedup`."""
    docs, errors, n_items = prepare_batch(batch, options, counts.load() if isinstance(counts, SharedCounts) else counts)
    finishes = encodes_in_worker(options)
    if finishes and "classify" in options.stages:
        models = worker_models(options.models_dir)
        docs = guarded(
            "classify", lambda chunk: classify_documents(chunk, models, options.target, False, CLASSIFY_THREADS), docs, errors
        )
    # Each document with what goes back for it: its record, or itself when not finished here.
    pairs = encode_records(docs, False, errors) if finishes else [(doc, doc) for doc in docs]
    items = None
    if "dedup" in options.stages:
        minhasher = minhasher or MinHasher(options.dedup.num_perm, options.dedup.seed)
        sketched, items, failed = sketch_batch([doc for doc, _ in pairs], options.dedup, minhasher)
        if failed:
            errors += failed
            kept = {id(doc) for doc in sketched}
            pairs = [pair for pair in pairs if id(pair[0]) in kept]
    return [returned for _, returned in pairs], errors, n_items, items


def deduplicate(
    dedup: Deduplicator, batch: list[EncodedRecord] | list[Document], items: BatchItems, errors: list[ErrorRecord]
) -> list[EncodedRecord] | list[Document]:
    """Match a batch (records or documents, `items` its sketch) against the index and flag it; a
    batch that fails is matched document by document, and a document that still fails becomes an
    error record."""

    def flag(chunk: list) -> list:
        chunk_items = items if chunk is batch else items.of_document(next(k for k, x in enumerate(batch) if x is chunk[0]))
        dedup.match(chunk_items, [x.id for x in chunk]).apply(chunk)
        return chunk

    return guarded("dedup", flag, batch, errors) if batch else batch


def finish_batch(
    batch: list[EncodedRecord] | list[Document],
    sketch: BatchItems | None,
    errors: list[ErrorRecord],
    dedup: Deduplicator | None,
    models: ModelBundle | None,
    options: RunOptions,
) -> list[EncodedRecord]:
    """This process's part of a batch from `prepare_in_worker`: the dedup flags, then, for
    documents the worker could not finish (--drop-duplicates), classification and encoding."""
    if dedup:
        batch = deduplicate(dedup, batch, sketch, errors)
    if encodes_in_worker(options):
        return batch
    if models:
        batch = guarded(
            "classify",
            lambda chunk: classify_documents(chunk, models, options.target, options.drop_duplicates, CLASSIFY_THREADS),
            batch,
            errors,
        )
    return [record for _, record in encode_records(batch, options.drop_duplicates, errors)]


def run(
    inputs: Iterable[str | Path],
    output: Path | str,
    errors_output: Path | str,
    options: RunOptions,
    fmt: str = "jsonl",
    on_batch: Callable[[list[EncodedRecord], list[ErrorRecord]], None] | None = None,
    resume: bool = False,
) -> RunSummary:
    """Read `inputs`, clean, deduplicate and classify them, and write records to `output`.

    With `resume`, a run interrupted before (see `classify.checkpoint`) goes on where its last
    checkpoint left it, and the output is the same as an uninterrupted run's.
    """
    inputs = [str(item) for item in inputs]
    options = excluding_run_files(inputs, output, errors_output, options)
    # Loaded here even when the workers classify: missing or broken models fail the run at once.
    models = load_models(options.models_dir) if "classify" in options.stages else None
    fingerprint = run_fingerprint(_settings(inputs, options, fmt))
    # Held to the end: the persistent index's lock, so that no other run loads the index before this
    # one has saved it, and the output's (the sink; after an error it keeps the last checkpoint).
    with (
        index_lock(options.index_path),
        open_output(output, Path(errors_output), fmt, fingerprint, resume, every_batches=options.checkpoint_every) as sink,
        started_workers(options) as workers_ready,
    ):
        dedup = None
        if "dedup" in options.stages:
            # A resumed run's checkpoint holds the persistent index as it was plus what the run added.
            dedup = Deduplicator(options.dedup, index_path=None if sink.holds_dedup_state else options.index_path)
            sink.restore_dedup(dedup)
        summary = RunSummary(**sink.summary)
        workers_ready()
        corpus_counts = count_corpus_lines(inputs, options)
        # Workers need only the lines that reach the repetition threshold; a persistent index keeps
        # every line's count for later runs, otherwise the full counts are dropped here.
        counts = corpus_counts.repeated(options.clean.min_source_repeats) if corpus_counts is not None else None
        corpus_counts = corpus_counts if options.index_path else None
        # A resumed run leaves out the input items its checkpoint has done.
        batches = read_batches(inputs, options.read, options.batch_size, skip=sink.items_done)
        with shared_counts(counts, sink.scratch) as shared:
            prepared = Parallel(n_jobs=options.jobs, return_as="generator", pre_dispatch="2*n_jobs")(
                delayed(prepare_in_worker)(batch, options, shared, dedup and dedup.minhasher) for batch in batches
            )
            for batch, errors, n_items, sketch in prepared:
                records = finish_batch(batch, sketch, errors, dedup, models, options)
                summary.add(records, errors)
                sink.write(records, errors, n_items, asdict(summary), dedup)
                if on_batch:
                    on_batch(records, errors)
        sink.finish()
        if dedup and options.index_path:
            dedup.save(options.index_path)
        if corpus_counts is not None:
            target = AtomicFile(line_counts_path(options.index_path))
            corpus_counts.save(target.tmp)
            target.commit()
    return summary


def _settings(inputs: list[str], options: RunOptions, fmt: str) -> tuple:
    """What decides a run's output; batch size and worker count do not."""
    return (inputs, fmt, options.stages, options.read, options.clean, options.repetition, options.dedup,
            options.drop_duplicates, options.target, str(options.models_dir), str(options.index_path))
