"""Runs over many scene pairs: pair discovery (class areas and the summary table: :mod:`.batch_summary`).

Pair discovery rules (documented in the README and the algorithm help):

* a sub-folder ``<name>/`` holding one *before* raster (stem ``pre``, ``before``, ``t1`` or
  ``date1``) and one *after* raster (stem ``post``, ``after``, ``t2`` or ``date2``) is pair
  ``<name>`` (and so is the chosen folder itself when it holds them directly);
* sibling rasters ``<name>_pre.tif`` and ``<name>_post.tif`` (also ``_before``/``_after``,
  ``_t1``/``_t2``, ``_date1``/``_date2``, with ``_``, ``-`` or ``.`` before the role) in the
  folder itself are pair ``<name>``;
* either date may be a product instead of a raster (:mod:`.io.bandfiles`): a folder of band files
  named by its role (the OSCD layout ``<city>/t1/B01.tif ...``, ``<name>/pre/``), a ``pre.zip`` or
  ``<name>_pre.SAFE``; a sub-folder holding exactly two Sentinel-2 or Landsat products under their
  own names is a pair too, the earlier acquisition first (a ``.SAFE`` and its own ``.zip`` are one
  product); one product, more than two, or two of one date make a pair with a problem;
* a list file (CSV or text) holds one ``before,after[,name]`` line per pair (comma, semicolon or
  tab separated; ``#`` comments, blank lines and a header line are skipped; relative paths are
  relative to the list file).

A half pair (a before without an after, or two candidates for one role) is kept as a pair with
a problem, so the run reports it as one failed line instead of silently skipping it. Pair names keep
their letters in every script; only what is unsafe in a path is replaced (:mod:`.names`).
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from .errors import InputError
from .io.bandfiles import LIST_EXT, Product, find_product, is_product_path
from .names import renamed, unique_safe_names

RASTER_EXTENSIONS = (".tif", ".tiff", ".vrt", ".jp2", ".img")
BEFORE_ROLES = ("pre", "before", "t1", "date1")
AFTER_ROLES = ("post", "after", "t2", "date2")
_LANDSAT_ID = re.compile(r"^L[CEOTM]0\d_L\w{3}_\d{6}_\d{8}_\d{8}_\d{2}_(T1|T2|RT)$", re.IGNORECASE)
_SIBLING = re.compile(r"^(?P<name>.+?)[_.-](?P<role>pre|before|t1|date1|post|after|t2|date2)$", re.IGNORECASE)


@dataclass(frozen=True)
class ScenePair:
    """One before/after pair to process; ``problem`` says why it cannot run (None when it can)."""

    name: str
    before: str
    after: str
    problem: str | None = None
    given_name: str | None = None  # the name as found or written in the list, before it was made safe


def _is_raster_name(filename: str) -> bool:
    return filename.lower().endswith(RASTER_EXTENSIONS) and not filename.lower().endswith(".aux.xml")


def _stem(filename: str) -> str:
    return os.path.splitext(filename)[0]


def _role(stem: str) -> str | None:
    low = stem.lower()
    if low in BEFORE_ROLES:
        return "before"
    if low in AFTER_ROLES:
        return "after"
    return None


def _pair_from_candidates(name: str, before: list[str], after: list[str], where: str) -> ScenePair:
    problem = None
    if not before:
        problem = f"no before image in {where} (name it pre.tif or before.tif)"
    elif not after:
        problem = f"no after image in {where} (name it post.tif or after.tif)"
    elif len(before) > 1 or len(after) > 1:
        both = sorted(os.path.basename(p) for p in (before if len(before) > 1 else after))
        problem = f"{where} holds several candidates for one date ({', '.join(both)}); keep one"
    return ScenePair(name, before[0] if before else "", after[0] if after else "", problem)


def _product(path: str) -> Product | None:
    """The product at ``path`` (None when it is none); a product with a problem still counts (its pair says so)."""
    try:
        return find_product(path)
    except InputError:
        if path.lower().endswith(LIST_EXT):
            return None  # a text file that is no band list (a pair list, notes) is no date
        return Product("product", path, os.path.basename(path))


def _is_date(folder: str, entry: str) -> bool:
    """A raster file, or a product (``.SAFE`` folder or zip, Landsat folder, folder or list of band files)."""
    path = os.path.join(folder, entry)
    if _is_raster_name(entry) and os.path.isfile(path):
        return True
    return is_product_path(path) and _product(path) is not None


def _role_files(folder: str) -> dict[str, list[str]]:
    """The before/after dates directly in ``folder`` (``pre.tif``, ``after.vrt``, ``t1/`` of band files ...)."""
    roles: dict[str, list[str]] = {"before": [], "after": []}
    for entry in sorted(os.listdir(folder)):
        role = _role(_stem(entry))
        if role and _is_date(folder, entry):
            roles[role].append(os.path.join(folder, entry))
    return roles


def _same_product_key(path: str) -> str:
    """A product's name without ``.SAFE``/``.zip``: a SAFE folder and its own zip share it."""
    base = os.path.basename(path.rstrip("/\\"))
    stem, ext = os.path.splitext(base)
    return (stem if ext.lower() in (".safe", ".zip") else base).upper()


def _dated_pair(folder: str, name: str) -> ScenePair | None:
    """A folder holding exactly two products (``S2A_MSIL2A_...SAFE``, Landsat folders ...): the earlier
    acquisition is the before date. A ``.SAFE`` and its own ``.zip`` are one product (the folder is read).
    None when the folder holds no product; a pair with a problem when it holds one, or more than two, or two
    of one date (never dropped silently)."""
    found: dict[str, tuple[str, str]] = {}
    copies: list[str] = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if not _is_raster_name(entry) and is_product_path(path) and not _role(_stem(entry)):
            product = _product(path)
            if product is None or product.kind == "folder of band files":
                continue
            key = _same_product_key(path)
            if key in found:
                copies.append(entry)
                if os.path.isdir(path):  # the unzipped folder rather than its zip
                    found[key] = (product.info.acquired, path)
                continue
            found[key] = (product.info.acquired, path)
    products = sorted(found.values())
    names = ", ".join(os.path.basename(p) for _d, p in products)
    also = f", beside {', '.join(copies)}: the same product" if copies else ""
    if not products:
        return None
    if len(products) == 1:
        return ScenePair(
            name, products[0][1], "", f"folder '{name}' holds one product ({names}){also}: add the other date's product"
        )
    if len(products) > 2:
        return ScenePair(
            name, products[0][1], products[-1][1],
            f"folder '{name}' holds {len(products)} products ({names}): keep two, or list the pairs in a pair list",
        )  # fmt: skip
    (date_a, a), (date_b, b) = products
    if date_a and date_a == date_b:
        return ScenePair(
            name, a, b,
            f"folder '{name}' holds two products of the same date {date_a} ({names}), two tiles or copies of one "
            "acquisition: keep one and add the other date's product",
        )  # fmt: skip
    if not date_a:
        return ScenePair(
            name, a, b, f"folder '{name}' holds two products ({names}) whose dates do not tell which is before"
        )
    return ScenePair(name, a, b)


def _landsat_id(entry: str) -> bool:
    """Whether ``entry`` is a Landsat product id (``LC08_L2SP_044033_20230902_20230904_02_T1``), whose
    ``_T1``/``_T2`` is its tier, not the role of a sibling date."""
    return bool(_LANDSAT_ID.match(entry))


def discover_pairs(folder: str) -> list[ScenePair]:
    """Pairs found in ``folder`` by the sub-folder and sibling rules, sorted by name."""
    if not os.path.isdir(folder):
        raise InputError(f"The scene folder '{folder}' does not exist: pick the folder that holds your pairs.")
    pairs: list[ScenePair] = []
    siblings: dict[str, dict[str, list[str]]] = {}
    own = _role_files(folder)  # the folder itself is one pair (pre.tif + post.tif directly inside)
    if own["before"] or own["after"]:
        name = os.path.basename(os.path.abspath(folder))
        pairs.append(_pair_from_candidates(name, own["before"], own["after"], f"folder '{name}'"))
    elif not any(_role(_stem(e)) for e in os.listdir(folder)):
        dated = _dated_pair(folder, os.path.basename(os.path.abspath(folder)))
        pairs += [dated] if dated else []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if os.path.isdir(path) and _product(path) is None:
            roles = _role_files(path)
            if roles["before"] or roles["after"]:
                pairs.append(_pair_from_candidates(entry, roles["before"], roles["after"], f"folder '{entry}'"))
            else:
                dated = _dated_pair(path, entry)
                pairs += [dated] if dated else []
        elif _SIBLING.match(_stem(entry)) and not _landsat_id(entry) and _is_date(folder, entry):
            match = _SIBLING.match(_stem(entry))
            if match:
                role = _role(match.group("role")) or ""
                siblings.setdefault(match.group("name"), {"before": [], "after": []})[role].append(path)
    for name, roles in siblings.items():
        pairs.append(_pair_from_candidates(name, roles["before"], roles["after"], f"files '{name}_*'"))
    # NFC first: the same folder lists in the same order (and gets the same suffixes) on every system.
    return unique_names(sorted(pairs, key=lambda p: (unicodedata.normalize("NFC", p.name), p.name)))


def _looks_like_header(fields: Sequence[str]) -> bool:
    low = [f.strip().lower() for f in fields[:2]]
    return (
        len(low) == 2
        and low[0] in BEFORE_ROLES + ("before_path", "pre_path")
        and low[1]
        in AFTER_ROLES
        + (
            "after_path",
            "post_path",
        )
    )


def _default_name(before: str, after: str, index: int) -> str:
    for path in (before, after):
        stem = _stem(os.path.basename(path))
        match = _SIBLING.match(stem)
        if match:
            return match.group("name")
        if _role(stem) and os.path.basename(os.path.dirname(path)):
            return os.path.basename(os.path.dirname(path))
    return f"pair_{index}"


def _list_text(list_path: str) -> str:
    """The text of a pair list: UTF-8 (with or without BOM) or UTF-16 with its BOM, else one clear error."""
    with open(list_path, "rb") as handle:
        data = handle.read()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"The pair list '{list_path}' is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line}): "
            "save it as UTF-8 (in Excel: 'CSV UTF-8'), so that names and paths in any script are read right."
        ) from exc


def _existing_form(path: str) -> str:
    """``path`` as it exists on disk when it differs only in Unicode normalisation (NFC/NFD) from the list.

    A list typed on one system (NFC) names files copied from macOS (NFD) by the same letters but other
    code points; each missing part is looked up among its folder's entries by NFC. Unchanged when not found.
    """
    if os.path.exists(path):
        return path
    head, tail = os.path.split(path)
    if not tail or head == path:
        return path
    head = _existing_form(head)
    candidate = os.path.join(head, tail)
    if os.path.exists(candidate) or not os.path.isdir(head):
        return candidate
    wanted = unicodedata.normalize("NFC", tail)
    try:
        entries = sorted(os.listdir(head))
    except OSError:
        return candidate
    matches = [e for e in entries if unicodedata.normalize("NFC", e) == wanted]
    return os.path.join(head, matches[0]) if matches else candidate


def read_pair_list(list_path: str) -> list[ScenePair]:
    """Pairs from a ``before,after[,name]`` list file; missing files become pairs with a problem.

    The list is UTF-8 (a BOM is allowed) or UTF-16 with a BOM; names keep their letters (see
    :func:`unique_names`) and paths are matched to the files on disk also across NFC/NFD.
    """
    if not os.path.isfile(list_path):
        raise InputError(f"The pair list '{list_path}' does not exist: give a CSV or text file of before,after lines.")
    base = os.path.dirname(os.path.abspath(list_path))
    pairs: list[ScenePair] = []
    for number, line in enumerate(re.split(r"\r\n|\r|\n", _list_text(list_path)), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [f.strip().strip('"') for f in re.split(r"[,;\t]", text)]
        if _looks_like_header(fields):
            continue
        if len(fields) < 2 or not fields[0] or not fields[1]:
            pairs.append(
                ScenePair(f"line_{number}", "", "", f"line {number} of the pair list is not 'before,after[,name]'")
            )
            continue
        before, after = (_existing_form(os.path.normpath(os.path.join(base, f))) for f in fields[:2])
        name = fields[2] if len(fields) > 2 and fields[2] else _default_name(before, after, len(pairs) + 1)
        paths = (("before", before), ("after", after))
        missing = [f"{label} image '{path}'" for label, path in paths if not os.path.exists(path)]
        problem = f"the {' and the '.join(missing)} does not exist" if missing else None
        pairs.append(ScenePair(name, before, after, problem))
    return unique_names(pairs)


def unique_names(pairs: Iterable[ScenePair]) -> list[ScenePair]:
    """The pairs under names safe as folder names (letters of every script kept, NFC), made unique.

    Only characters unsafe in paths are replaced (see :mod:`.names`); names that then collide
    (ignoring case) get ``_2``, ``_3`` ... suffixes. ``given_name`` keeps the name as it was given.
    """
    pairs = list(pairs)
    kept = unique_safe_names([p.name for p in pairs])
    return [
        ScenePair(name, p.before, p.after, p.problem, p.given_name if p.given_name is not None else p.name)
        for p, name in zip(pairs, kept)
    ]


def renamed_note(pairs: Sequence[ScenePair]) -> str:
    """One log sentence listing the pairs whose name changed to be a folder name ("" when none did)."""
    given = [p.given_name if p.given_name is not None else p.name for p in pairs]
    changed = [f"'{g}' -> '{k}'" for g, k in renamed(given, [p.name for p in pairs])]
    if not changed:
        return ""
    return (
        "Pair names changed to be usable as folder names (characters unsafe in paths replaced, repeated "
        f"names numbered; letters of every script are kept): {', '.join(changed)}."
    )
