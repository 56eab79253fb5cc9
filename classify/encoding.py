"""Decoding input bytes: BOMs, UTF-16 without BOM, UTF-8, and the single-byte Cyrillic code pages.

The rule is "never silently garbled": a text is decoded with a candidate encoding only when the
result looks like language (letters, mostly lower case, few control characters); bytes that fit no
candidate raise `UndecodableInput` with the reason, and the reader turns that into an error record.
"""

from __future__ import annotations

import codecs
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


class UndecodableInput(ValueError):
    """The bytes are binary or in an encoding we cannot identify with confidence."""


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    return bad / len(text)


def _plausibility(text: str) -> float:
    """Share of the non-ASCII characters that are lower-case letters or common typography.

    Decoding Russian cp1251 bytes as koi8-r (or the reverse) swaps the cases, so wrong Cyrillic
    guesses come out mostly upper case; decoding them as cp1252 gives accented Latin soup, which
    we score by the share of letters that sit next to other non-ASCII letters (rare in French).
    """
    high = [ch for ch in text if ord(ch) > 127]
    if not high:
        return 1.0
    good = sum(1 for ch in high if ch.islower() or ch in "«»—–…№’‘“”„•°€")
    return good / len(high)


def _latin_soup(text: str) -> bool:
    """True when accented Latin letters cluster into runs of three or more, as mojibake does."""
    run = 0
    for ch in text:
        if ord(ch) > 127 and ch.isalpha():
            run += 1
            if run >= 3:
                return True
        else:
            run = 0
    return False


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
        # UTF-16 without a BOM puts a NUL beside every ASCII character; anything else with NULs is binary.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        for name, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
            if zeros > len(sample) // 4:
                try:
                    text = data.decode(name)
                except UnicodeDecodeError:
                    continue
                if _control_ratio(text[:_SAMPLE]) < 0.01:
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
    candidates = []
    for name in SINGLE_BYTE:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if _control_ratio(text[:_SAMPLE]) > 0.01:
            continue
        score = _plausibility(text[:_SAMPLE])
        if name == "cp1252" and _latin_soup(text[:_SAMPLE]):
            score = 0.0
        candidates.append((score, name, text))
    if candidates:
        score, name, text = max(candidates, key=lambda c: c[0])
        if score >= 0.6:
            return text, name
    raise UndecodableInput(
        f"not valid UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) and no single-byte encoding "
        f"({', '.join(SINGLE_BYTE)}) fits with confidence"
    )
