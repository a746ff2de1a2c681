"""Decoding text files: UTF-8 (with or without a BOM), UTF-16 with a BOM, else the
encoding charset-normalizer detects.

Short Western text is ambiguous (an é is the same byte in cp1250 and cp1252), so among
the equally plausible guesses Windows-1252, the usual non-UTF-8 encoding of news text,
is preferred.
"""

import codecs
from dataclasses import dataclass

_PREFERRED = "cp1252"
_CHAOS_MARGIN = 0.05  # guesses this much "messier" than the best still count as plausible
_DESCRIPTIONS = {
    "cp1252": "Western European",
    "latin_1": "Western European",
    "cp1250": "Central European",
    "iso8859_2": "Central European",
    "cp1251": "Cyrillic",
    "koi8_r": "Cyrillic",
    "cp1253": "Greek",
    "cp1254": "Turkish",
    "cp1255": "Hebrew",
    "cp1256": "Arabic",
    "shift_jis": "Japanese",
    "euc_jp": "Japanese",
    "gb18030": "Chinese",
    "big5": "Chinese",
    "euc_kr": "Korean",
}


@dataclass(frozen=True)
class Decoded:
    """A file's text, and the encoding it was read with when that was not UTF-8."""

    text: str
    guessed: str | None = None

    def note(self) -> str | None:
        """What to tell the user about the encoding, if anything."""
        if self.guessed is None:
            return None
        described = _DESCRIPTIONS.get(self.guessed)
        return f"not UTF-8; read as {self.guessed}" + (f" ({described})" if described else "")


def decode_text(data: bytes) -> Decoded | None:
    """The text of a file, or None when it reads as no known text encoding."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16"), "utf_16")
        except UnicodeDecodeError:
            return None
    try:
        return Decoded(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(data) if m.encoding not in ("utf_8", "ascii")]
    if not matches:
        return None
    floor = min(m.chaos for m in matches)
    plausible = [m for m in matches if m.chaos <= floor + _CHAOS_MARGIN]
    for match in plausible:
        if _PREFERRED in match.could_be_from_charset:
            return Decoded(data.decode(_PREFERRED, errors="replace"), _PREFERRED)
    best = plausible[0]
    return Decoded(str(best), best.encoding)
