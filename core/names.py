"""Names people give things (pairs of a batch run, outputs) made safe as file and folder names.

A name keeps its letters in every script (Greek, CJK, Arabic, accented Latin ...): only what is
unsafe in a path on some platform is replaced by ``_``:

* path separators ``/`` and ``\\``, NUL and other control characters (Unicode category ``Cc``),
  line/paragraph separators and lone surrogates (undecodable bytes of a file name);
* for portability, the characters Windows refuses ``< > : " | ? *``, trailing dots and spaces
  (Windows drops them) and leading dots (``.``/``..`` walk the tree, ``.name`` hides a folder);
* Windows device names (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1``-``COM9``, ``LPT1``-``LPT9``,
  also with an extension such as ``nul.txt``) get ``_`` after the device name.

Names are normalised to Unicode NFC first, so the decomposed (NFD) names that macOS file systems
return compare and print like the composed ones typed elsewhere. A name is cut to
:data:`MAX_NAME_BYTES` bytes of UTF-8 (file systems allow 255 per path component).
"""

from __future__ import annotations

import unicodedata
from typing import Iterable, Sequence

MAX_NAME_BYTES = 200
_WINDOWS_RESERVED = frozenset('<>:"/\\|?*')
_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in [*"123456789", "\u00b9", "\u00b2", "\u00b3"]]
)


def _unsafe(char: str) -> bool:
    return char in _WINDOWS_RESERVED or unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def _cut(text: str, max_bytes: int) -> str:
    """``text`` shortened to at most ``max_bytes`` of UTF-8, never leaving a bare combining mark last."""
    if len(text.encode("utf-8", "surrogatepass")) <= max_bytes:
        return text
    out = text
    while out and len(out.encode("utf-8", "surrogatepass")) > max_bytes:
        out = out[:-1]
    while out and unicodedata.combining(out[-1]):
        out = out[:-1]
    return out


def _trim(text: str) -> str:
    """``text`` without surrounding white space and without trailing dots."""
    text = text.strip()
    while text.endswith("."):
        text = text[:-1].rstrip()
    return text


def safe_name(text: str, fallback: str = "pair", max_bytes: int = MAX_NAME_BYTES) -> str:
    """``text`` as a file or folder name that works on every platform, its letters kept (NFC).

    >>> safe_name("Πυρκαγιά Ρόδος"), safe_name("Incêndio A"), safe_name("fire 3/4: north.")
    ('Πυρκαγιά Ρόδος', 'Incêndio A', 'fire 3_4_ north')
    """
    name = unicodedata.normalize("NFC", str(text))
    name = "".join("_" if _unsafe(c) else c for c in name)
    name = _trim(_cut(_trim(name).lstrip(".").lstrip(), max_bytes))
    if not name.strip("_"):
        return fallback
    device, dot, rest = name.partition(".")
    if device.rstrip(" ").upper() in _DEVICES:
        name = f"{device}_{dot}{rest}"
    return name


def unique_safe_names(names: Sequence[str], fallback: str = "pair") -> list[str]:
    """:func:`safe_name` of each of ``names``, made unique (ignoring case) by ``_2``, ``_3`` ... suffixes.

    Stable: a name that needed no change other than NFC keeps it before one that was changed into it
    (``a:b`` becomes ``a_b_2`` when a pair is really called ``a_b``); among equals the earlier one
    keeps the plain name; a suffix never takes a name that another entry has as its own.
    """
    bases = [safe_name(n, fallback) for n in names]
    kept_as_given = [b == unicodedata.normalize("NFC", str(n)) for b, n in zip(bases, names)]
    order = [i for i, kept in enumerate(kept_as_given) if kept] + [i for i, k in enumerate(kept_as_given) if not k]
    reserved = {b.casefold() for b in bases}
    taken: set[str] = set()
    out = [""] * len(names)
    for i in order:
        base, n = bases[i], 1
        name = base
        while name.casefold() in taken or (n > 1 and name.casefold() in reserved):
            n += 1
            suffix = f"_{n}"
            name = _trim(_cut(base, MAX_NAME_BYTES - len(suffix))) + suffix
        taken.add(name.casefold())
        out[i] = name
    return out


def renamed(given: Iterable[str], kept: Iterable[str]) -> list[tuple[str, str]]:
    """The ``(given, kept)`` pairs whose kept name differs from the given one (beyond NFC)."""
    return [(g, k) for g, k in zip(given, kept) if unicodedata.normalize("NFC", g) != k]
