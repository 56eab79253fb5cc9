"""Line-level verdicts: repetition in the source, explicit noise rules, then a learned classifier.

Each non-blank line is judged in this order, and the first piece of evidence that says "noise"
becomes the line's reason:

1. repetition: the line occurs in >= `min_source_repeats` documents of the same source;
2. rules: lines no article sentence looks like (no letters, currency tickers, photo/source credits,
   reprint/copyright/subscribe notices, arrow-terminated link labels, a bare site name, a date,
   a read-more link);
3. the context-sensitive classifier (`classify.clean.features`, `classify.clean.model`): a
   two-stage model, per-line probabilities refined by where the line sits in the document's
   content (`StackedLineClassifier`), against the threshold that `favor` selects;
4. jusText's context rule on the firm evidence of 1 and 2 (except with favor="recall"): a short
   non-sentence line whose nearest neighbours are both noise by repetition or rule is a list item;
5. lists of links after a list heading (except with favor="recall"): headline-like lines in a run
   right after a short heading removed by repetition or rule ("Read also:", "Most read") are the
   page's links to other articles;
6. with favor="recall" instead, the context rule the other way round: a run of lines removed
   only by the classifier or for having no letters, between kept lines, is kept.

The rules carry reasons a reader can check; the classifier decides everything they do not cover.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from classify.clean.features import line_feature_names, line_features_documents, stacked_feature_names
from classify.clean.model import StackedLineClassifier, TreeContentClassifier
from classify.clean.options import CleanOptions
from classify.clean.rules import (
    BOILERPLATE_REASON, NO_LETTERS_REASON, SENTENCE_END, headline_like, is_prose, list_heading, rule_reason, verdict_reason,
)
from classify.document import BLANK, CONTENT, NOISE, Line

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
LINE_MODEL = "clean_lines"
# jusText's length_high: a block this long is judged on its own, never by its neighbours.
SANDWICH_MAX_CHARS = 200


@lru_cache(maxsize=16)
def load_model(name: str, models_dir: str | None = None) -> TreeContentClassifier:
    """A model from `models_dir` (default: the shipped `models/`), read once per process;
    models are never mutated after loading."""
    return TreeContentClassifier.load(_model_path(name, models_dir))


@lru_cache(maxsize=16)
def load_line_model(models_dir: str | None = None) -> StackedLineClassifier:
    """The two-stage text-line model (`models/clean_lines{,_stacked}`), read once per process."""
    model = StackedLineClassifier.load(_model_path(LINE_MODEL, models_dir))
    if model.feature_names != line_feature_names() or model.stacked_feature_names != stacked_feature_names():
        raise ValueError("models/clean_lines was built with other features: rebuild it")
    return model


def _model_path(name: str, models_dir: str | None) -> Path:
    path = Path(models_dir or MODELS_DIR) / name
    if not path.with_suffix(".npz").exists():
        raise FileNotFoundError(f"{path}.npz is missing: run `python models/build_line_model.py`")
    return path


def threshold_for(model: TreeContentClassifier | StackedLineClassifier, favor: str) -> float:
    """The content-probability threshold that `favor` selects, as chosen when the model was built."""
    return float(model.metadata["thresholds"][favor])


def score_unscored_lines(documents: list[list[Line]], models_dir: str | None = None) -> None:
    """Give every non-blank line without a `score` its P(content) from the line model, in place.

    The model sees each document whole (its pre-scored lines too, as context). Features are made
    document by document, but both model stages run once over the rows of all the documents:
    rows are independent, so a batch is scored exactly as each document alone would be, without
    paying the stages' fixed cost per document."""
    bodies = [[i for i, line in enumerate(lines) if line.text.strip()] for lines in documents]
    todo = [k for k, (lines, body) in enumerate(zip(documents, bodies)) if any(lines[i].score is None for i in body)]
    if not todo:
        return
    features = line_features_documents([[documents[k][i].text for i in bodies[k]] for k in todo])
    rows = np.repeat(np.arange(len(todo)), [len(bodies[k]) for k in todo])
    scores = load_line_model(models_dir).predict_proba_documents(np.vstack(features), rows)[:, 1].tolist()
    position = 0
    for k in todo:
        for i in bodies[k]:
            line = documents[k][i]
            if line.score is None:
                line.score = scores[position]
            position += 1


def classify_lines(
    lines: list[Line],
    options: CleanOptions,
    repeats: list[int] | None = None,
    threshold: float | None = None,
    scorer: str = "line classifier",
    min_repeats: int | None = None,
) -> list[Line]:
    """Mark each line CONTENT, NOISE (with a reason) or BLANK, in place; returns the same list.

    repeats: for each line, in how many documents of its source it occurs (None: not counted);
    from `min_repeats` (default: options.min_source_repeats) on, the line is the source's boilerplate.
    Lines that already carry a `score` (HTML blocks scored by the block model) keep it and are
    judged against `threshold`; the others are scored by the line model here.
    """
    score_unscored_lines([lines], options.models_dir)
    if threshold is None:
        threshold = threshold_for(load_line_model(options.models_dir), options.favor)
    min_repeats = min_repeats or options.min_source_repeats
    firm: set[int] = set()  # lines found noise by repetition or a rule, not by the classifier
    for i, line in enumerate(lines):
        if not line.text.strip():
            line.status, line.reason = BLANK, None
            continue
        count = repeats[i] if repeats is not None else 0
        if count >= min_repeats:
            line.status, line.reason = NOISE, f"repeated in {count} documents of the same source"
            firm.add(i)
            continue
        reason = (rule_reason(line.text) or verdict_reason(line.text)) if options.use_rules else None
        if reason is not None:
            line.status, line.reason = NOISE, reason
            firm.add(i)
        elif line.score < threshold:
            line.status = NOISE
            line.reason = f"{scorer}: content probability {line.score:.2f} < {threshold:.2f}"
        else:
            line.status, line.reason = CONTENT, None
    if options.favor == "recall":
        _keep_runs_inside_content(lines, firm)
    elif options.use_rules:
        _sandwiched_lines(lines, firm)
        _link_lists(lines, repeats, min_repeats)
    return lines


def _keep_runs_inside_content(lines: list[Line], firm: set[int]) -> None:
    """favor="recall": jusText's context rule turned towards content. A run of lines removed only
    by the classifier or for having no letters, with kept lines on both sides, is part of the
    article: a separator between its sections, a table's figures, a list's short items."""
    body = [i for i, line in enumerate(lines) if line.status != BLANK]

    def soft(i: int) -> bool:
        return lines[i].status == NOISE and (i not in firm or lines[i].reason == NO_LETTERS_REASON)

    position = 0
    while position < len(body):
        end = position
        while end < len(body) and soft(body[end]):
            end += 1
        inside = 0 < position < end < len(body)
        if inside and lines[body[position - 1]].status == CONTENT and lines[body[end]].status == CONTENT:
            for i in body[position:end]:
                lines[i].status, lines[i].reason = CONTENT, None
        position = max(end, position + 1)


def _sandwiched_lines(lines: list[Line], firm: set[int]) -> None:
    """jusText's context rule on firm evidence: a kept short line that is not a sentence, whose
    nearest non-blank neighbours on both sides are noise by rule or repetition, is a list or menu
    item (a headline in a "most read" block between view counters, a link between separators)."""
    body = [i for i, line in enumerate(lines) if line.status != BLANK]
    for position, i in enumerate(body):
        line = lines[i]
        text = line.text.strip()
        if line.status != CONTENT or SENTENCE_END.search(text) or len(text) > SANDWICH_MAX_CHARS:
            continue
        before = body[position - 1] if position > 0 else None
        after = body[position + 1] if position + 1 < len(body) else None
        if before in firm and after in firm:
            line.status, line.reason = NOISE, "short line between noise lines (list or menu item)"


def _link_lists(lines: list[Line], repeats: list[int] | None, min_repeats: int) -> None:
    """Headlines of other articles listed under a heading ("Read also:", "Популярное", "Les plus
    lus") after the article's text: the run of headline-like lines (short, no sentence-final
    punctuation) and of noise lines (view counters, dates) that follows such a heading is noise,
    up to the first line that reads as prose.

    The heading is a short line (`list_heading`) that is the source's boilerplate (repeated in its
    documents), or a read-more notice ending with ":" ("Читайте также:"); one without ":" must head
    at least two headline-like lines, so a rubric label over one article title is not a list. Only
    lists after the document's own prose count: a list at the top of a post is the post itself
    (a Telegram digest, a table of contents).
    """
    body = [i for i, line in enumerate(lines) if line.status != BLANK]
    seen_prose = False
    position = 0
    while position < len(body):
        index = body[position]
        heading = lines[index]
        position += 1
        if heading.status == CONTENT and is_prose(heading.text):
            seen_prose = True
            continue
        colon = heading.text.rstrip().endswith(":")
        repeated = repeats is not None and repeats[index] >= min_repeats
        read_also = colon and heading.reason == BOILERPLATE_REASON
        if not seen_prose or not (repeated or read_also) or not list_heading(heading.text):
            continue
        items, run = 0, []
        while position < len(body):
            line = lines[body[position]]
            if headline_like(line.text):
                items += 1
                if line.status == CONTENT:
                    run.append(line)
            elif line.status != NOISE:
                break
            position += 1
        if items >= (1 if colon else 2):
            title = " ".join(heading.text.split())
            for line in run:
                line.status, line.reason = NOISE, f"headline in a list of links after {title!r}"
