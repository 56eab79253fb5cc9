"""Decoding input bytes: BOMs, UTF-16 without BOM, UTF-8, and the single-byte Cyrillic code pages.

The rule is "never silently garbled": a text is decoded with a candidate encoding only when the
result looks like language (letters, mostly lower case, few control characters); bytes that fit no
candidate raise `UndecodableInput` with the reason, and the reader turns that into an error record.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Single-byte code pages tried, in order, when the bytes are not UTF-8.
SINGLE_BYTE = ("cp1251", "koi8_r", "cp1252")
_SAMPLE = 1 << 16
_WORD = re.compile(r"[^\W\d_]+")
# Three accented Latin letters in a row: Cyrillic bytes read as a Western code page.
_UTF8_PAIR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")
_ACCENT_RUN = re.compile(r"[\u00c0-\u024f]{3}")


class UndecodableInput(ValueError):
    """The bytes are binary or in an encoding we cannot identify with confidence."""


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    return bad / len(text)


def _script(ch: str) -> str:
    return "cyrillic" if "\u0400" <= ch <= "\u04ff" else "latin" if ch.isascii() or ch <= "\u024f" else "other"


def _plausibility(text: str) -> float:
    """Share of the words with non-ASCII letters that look like real words.

    A real word is in one script and cased like a word (lower, Title, or a short acronym).
    Reading cp1251 bytes as koi8-r (or the reverse) swaps the cases, reading French cp1252 bytes
    as cp1251 puts Cyrillic letters inside Latin words, and reading Cyrillic bytes as cp1252
    gives runs of accented Latin letters: all three score low.
    """
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    if not words:
        return 1.0
    good = 0
    for word in words:
        if len({_script(ch) for ch in word if ch.isalpha()}) > 1 or _ACCENT_RUN.search(word):
            continue
        if word.islower() or word.istitle() or (word.isupper() and len(word) <= 5):
            good += 1
    return good / len(words)


def _mostly_letters(text: str) -> bool:
    """Text (letters, digits, spaces, punctuation of common scripts) rather than random code points."""
    sample = text[:_SAMPLE]
    common = sum(1 for ch in sample if _script(ch) != "other" or unicodedata.category(ch)[0] in "PZ")
    return common >= 0.95 * len(sample)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode `data`; return (text, encoding name). Raise UndecodableInput when unsure."""
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise UndecodableInput(f"starts with a {name} byte-order mark but does not decode: {exc}") from exc
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        # UTF-16 without a BOM has NULs as the high byte of every ASCII character; other NULs mean binary.
        for name in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(name)
            except UnicodeDecodeError:
                continue
            if _control_ratio(text[:_SAMPLE]) < 0.01 and _plausibility(text[:_SAMPLE]) >= 0.9 and _mostly_letters(text):
                return text, name
        raise UndecodableInput("binary content (NUL bytes), not a text document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
        if exc.reason == "unexpected end of data":
            # A file cut inside its last multi-byte character: keep everything before the cut.
            return data[: exc.start].decode("utf-8"), "utf-8 (truncated)"
    else:
        if _control_ratio(text[:_SAMPLE]) > 0.05:
            raise UndecodableInput("binary content (control characters), not a text document")
        return text, "utf-8"
    high = sum(1 for byte in sample if byte > 127)
    if len(_UTF8_PAIR.findall(sample)) * 2 >= 0.2 * high:
        # Many well-formed UTF-8 sequences beside invalid bytes: two encodings in one file.
        raise UndecodableInput(
            f"mixed encodings: UTF-8 sequences beside bytes that are not UTF-8 (byte {utf8_error.start})"
        )
    candidates = []
    for name in SINGLE_BYTE:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if _control_ratio(text[:_SAMPLE]) > 0.01:
            continue
        score = _plausibility(text[:_SAMPLE])
        candidates.append((score, name, text))
    if candidates:
        score, name, text = max(candidates, key=lambda c: c[0])
        if score >= 0.6:
            return text, name
    raise UndecodableInput(
        f"not valid UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) and no single-byte encoding "
        f"({', '.join(SINGLE_BYTE)}) fits with confidence"
    )
