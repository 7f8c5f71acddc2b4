"""What a date given as a product holds: one file per band, and the cloud masks that come with it.

A date can be a path to a product as users download it instead of a multi-band raster:

* a Sentinel-2 ``.SAFE`` folder, its ``.zip`` or its ``MTD_MSIL1C.xml``/``MTD_MSIL2A.xml``: the JPEG2000
  bands of its granule (each band at its finest resolution), the L2A scene classification (``SCL``, 20 m)
  and, from processing baseline 04.00, the ``QI_DATA/MSK_CLASSI_B00.jp2`` cloud mask (opaque clouds,
  cirrus, snow; 60 m);
* a Landsat Collection 2 folder (Level-2 ``*_SR_B*.TIF`` or Level-1 ``*_B*.TIF``) or its ``*_MTL.txt``/
  ``*_MTL.xml``, with its ``QA_PIXEL``;
* a folder of per-band files (the OSCD layout ``B01.tif`` ... ``B12.tif``, ``B8A.tif``; USGS or STAC names);
* a text file listing band files, one per line (``path`` or ``path,band name``; relative to the list).

:func:`find_product` answers what the product holds (nothing is opened but file names and metadata);
:mod:`.bandpick` chooses the bands a run takes from it and :mod:`.stack` builds the date's stack.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from osgeo import gdal

from ..errors import InputError
from .products import ProductInfo, band_name_from_file, files_info, read_text
from .raster import canonical_band_name

RASTER_EXT = (".tif", ".tiff", ".jp2", ".img", ".vrt")
LIST_EXT = (".txt", ".csv", ".lst")
MASK_NAMES = ("SCL", "QA_PIXEL")
PRODUCT_HELP = (
    " A product as downloaded works too (type or paste its path): a Sentinel-2 .SAFE folder, its .zip or "
    "MTD_MSIL*.xml, a Landsat Collection 2 folder or its _MTL.txt, a folder of band files (B02.tif ...) or a text "
    "list of band files; ChangeLens stacks only the bands it needs (docs/products.md)."
)
MSK_CLASSI_LAYERS = ("MSK_CLASSI_OPAQUE", "MSK_CLASSI_CIRRUS", "MSK_CLASSI_SNOW")  # bands 1-3 of MSK_CLASSI_B00
_S2_RESOLUTION = re.compile(r"_(\d{2})m\.jp2$", re.I)
_MTL = re.compile(r"_MTL\.(txt|xml)$", re.I)
# Names a file may carry as a whole (STAC asset keys and common names), besides band numbers.
_PLAIN_NAMES = {
    "COASTAL", "BLUE", "GREEN", "RED", "REDEDGE", "REDEDGE1", "REDEDGE2", "REDEDGE3", "NIR", "NIR08", "NIR09",
    "SWIR16", "SWIR22", "SWIR1", "SWIR2", "SCL", "QA_PIXEL",
}  # fmt: skip


@dataclass(frozen=True)
class BandFile:
    """One band of a product: the producer's ``name`` (``B02``, ``SR_B5``, ``SCL``), the GDAL ``path`` of
    its file (``/vsizip/...`` inside a zip) and the ``band`` of that file that holds it."""

    name: str
    path: str
    band: int = 1


@dataclass
class Product:
    """A product's band files by canonical name (``B2``, ``B8A``, ``B5`` for ``SR_B5``), its mask files by
    mask name (``SCL``, ``QA_PIXEL``, ``MSK_CLASSI_*``), and what its metadata and file names say."""

    kind: str  # "Sentinel-2 SAFE", "Landsat Collection 2 product", "folder of band files", "list of band files"
    path: str
    title: str
    bands: dict[str, BandFile] = field(default_factory=dict)
    masks: dict[str, BandFile] = field(default_factory=dict)
    info: ProductInfo = field(default_factory=ProductInfo)
    notes: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        """The producer's band names, in the product's order."""
        return [f.name for f in self.bands.values()]

    def band(self, name: str) -> BandFile | None:
        """The band file named ``name`` in any producer's spelling (``B08`` == ``B8``), or None."""
        return self.bands.get(canonical_band_name(name))


def _listing(folder: str) -> list[str]:
    """Every file under ``folder`` (relative paths), also inside a zip (``/vsizip/...``)."""
    entries = gdal.ReadDirRecursive(folder) or []
    return sorted(e for e in entries if not e.endswith("/"))


def _finest(found: dict[str, tuple[int, BandFile]], key: str, rank: int, band: BandFile) -> None:
    """Keep, per canonical name, the file of the finest resolution (lowest ``rank``)."""
    if key not in found or rank < found[key][0]:
        found[key] = (rank, band)


def _safe_root(path: str) -> str | None:
    """The Sentinel-2 ``.SAFE`` folder (or zipped ``.SAFE``) a path names, or None (a Sentinel-1 SAFE is no
    Sentinel-2 product: GDAL's own SAFE driver reads it as a raster)."""
    low = path.rstrip("/\\").lower()
    if os.path.basename(low) in ("mtd_msil1c.xml", "mtd_msil2a.xml") and os.path.isfile(path):
        return os.path.dirname(os.path.abspath(path))
    if low.endswith(".safe") and os.path.isdir(path):
        has_mtd = any(os.path.isfile(os.path.join(path, n)) for n in ("MTD_MSIL1C.xml", "MTD_MSIL2A.xml"))
        return os.path.abspath(path) if has_mtd else None
    if low.endswith(".zip") and os.path.isfile(path):
        return _zipped_safe(f"/vsizip/{os.path.abspath(path)}", path)
    return None


def _zipped_safe(inside: str, given: str) -> str | None:
    """The Sentinel-2 SAFE inside a zip: its top (``MTD_MSIL*.xml``), a ``<name>.SAFE/`` at the top (as ESA
    delivers it) or one folder down (``download/<name>.SAFE/``, as some tools wrap it); None when the zip holds
    no Sentinel-2 product. A SAFE deeper down raises :class:`InputError` saying where it is and what to do."""
    top = gdal.ReadDir(inside) or []
    if any(name.upper().startswith("MTD_MSIL") for name in top):
        return inside
    folders = [inside] + [f"{inside}/{e}" for e in top if not e.upper().endswith(".SAFE")]
    for folder in folders:
        for root in sorted(e for e in gdal.ReadDir(folder) or [] if e.upper().endswith(".SAFE")):
            if any(n.upper().startswith("MTD_MSIL") for n in gdal.ReadDir(f"{folder}/{root}") or []):
                return f"{folder}/{root}"
    deeper = [
        e for e in gdal.ReadDirRecursive(inside) or [] if os.path.basename(e.rstrip("/")).upper().startswith("MTD_MSIL")
    ]
    if deeper:
        raise InputError(
            f"The zip '{os.path.basename(given)}' holds a Sentinel-2 product, but deeper than ChangeLens looks "
            f"({deeper[0]}; a .SAFE is read at the top of the zip or one folder down): unzip it and give the .SAFE "
            "folder or its MTD_MSIL*.xml."
        )
    return None


def _sentinel2(root: str, given: str) -> Product:
    files = _listing(root)
    granules = sorted({f.split("/")[1] for f in files if f.startswith("GRANULE/") and f.count("/") >= 2})
    if len(granules) > 1:
        raise InputError(
            f"The Sentinel-2 product '{given}' holds {len(granules)} granules (an old multi-tile product): give the "
            "folder of one granule's IMG_DATA, or a list of its band files."
        )
    found: dict[str, tuple[int, BandFile]] = {}
    masks: dict[str, BandFile] = {}
    for rel in files:
        low = rel.lower()
        full = f"{root}/{rel}"
        if "/qi_data/" in low and os.path.basename(low) == "msk_classi_b00.jp2":
            masks.update({name: BandFile(name, full, i) for i, name in enumerate(MSK_CLASSI_LAYERS, start=1)})
            continue
        if "/img_data/" not in low or not low.endswith(".jp2"):
            continue
        name = band_name_from_file(rel)
        if not name or name in ("TCI", "AOT", "WVP", "B0", "B00"):
            continue
        resolution = _S2_RESOLUTION.search(rel)
        rank = int(resolution.group(1)) if resolution else 0
        _finest(found, canonical_band_name(name), rank, BandFile(name, full))
    bands = {k: b for k, (_r, b) in sorted(found.items(), key=_s2_order) if k != "SCL"}
    if "SCL" in found:
        masks["SCL"] = found["SCL"][1]
    if not bands:
        raise InputError(f"The Sentinel-2 product '{given}' holds no band files (GRANULE/*/IMG_DATA/*.jp2).")
    info = files_info([f"{root}/MTD_MSIL2A.xml", f"{root}/MTD_MSIL1C.xml", bands[next(iter(bands))].path])
    name = os.path.basename(root.rstrip("/"))
    return Product("Sentinel-2 SAFE", given, f"Sentinel-2 product {name}", bands, masks, info)


def _s2_order(item: tuple[str, tuple[int, BandFile]]) -> tuple[int, str]:
    match = re.match(r"B(\d+)(A?)$", item[0])
    return (int(match.group(1)) * 2 + bool(match.group(2)), "") if match else (99, item[0])


def _landsat(folder: str, mtl: str | None, given: str) -> Product:
    mtls = [mtl] if mtl else [f for f in os.listdir(folder) if _MTL.search(f)]
    ids = sorted({_MTL.split(os.path.basename(m))[0] for m in mtls})
    if len(ids) > 1:
        raise InputError(
            f"The folder '{given}' holds {len(ids)} Landsat products ({', '.join(ids)}): give one product's _MTL file."
        )
    product_id = ids[0]
    bands: dict[str, BandFile] = {}
    masks: dict[str, BandFile] = {}
    level2 = "_L2S" in product_id.upper()
    for entry in sorted(os.listdir(folder)):
        if not entry.upper().startswith(product_id.upper()) or not entry.lower().endswith(RASTER_EXT):
            continue
        name = band_name_from_file(entry)
        path = os.path.join(folder, entry)
        if name == "QA_PIXEL":
            masks[name] = BandFile(name, path)
        elif name.startswith("SR_B") or (not level2 and re.fullmatch(r"B\d{1,2}", name)):
            bands[canonical_band_name(name)] = BandFile(name, path)
    if not bands:
        raise InputError(f"The Landsat product '{given}' holds no band files ({product_id}_SR_B*.TIF or _B*.TIF).")
    mtl_path = os.path.join(folder, mtls[0])
    info = files_info([mtl_path, *(b.path for b in bands.values())])
    return Product("Landsat Collection 2 product", given, f"Landsat product {product_id}", bands, masks, info)


def _name_of(path: str) -> str:
    """The band a file holds from its name: producers' band tokens, or a STAC name as the whole stem."""
    name = band_name_from_file(path)
    if name and name not in ("B0", "B00"):
        return name
    stem = os.path.splitext(os.path.basename(path))[0].upper()
    return stem if stem in _PLAIN_NAMES else ""


def _resolution_m(path: str) -> int | None:
    """The pixel size a producer wrote in a file name (``..._B8A_20m.jp2``, ``B02_10m.tif``), or None."""
    found = _S2_RESOLUTION.search(path) or re.search(r"_(\d{2})m\.", path, re.I)
    return int(found.group(1)) if found else None


def _loose_files(named: list[tuple[str, str]], kind: str, given: str, title: str) -> Product:
    """A product from (band name, path) rows, masks apart.

    Two files for one band are refused (:class:`InputError` naming both and how to choose), except the one
    documented case: files whose names give different pixel sizes of the band (``B8A_20m``, ``B8A_60m``:
    the finest is read).
    """
    found: dict[str, list[tuple[int | None, BandFile]]] = {}
    for name, path in named:
        key = canonical_band_name(name)
        found.setdefault(key, []).append((_resolution_m(path), BandFile(key if key in MASK_NAMES else name, path)))
    chosen: dict[str, BandFile] = {}
    for key, files in found.items():
        sizes = [size for size, _f in files]
        if len(files) > 1 and (None in sizes or len(set(sizes)) < len(sizes)):
            paths = " and ".join(f"'{os.path.basename(f.path)}'" for _s, f in files)
            raise InputError(
                f"The {title} holds {len(files)} files for band {key} ({paths}), and nothing tells which one is "
                f"this date's: remove the others, or give a band list file (a .txt naming one file per band, one "
                f"per line; docs/products.md)."
            )
        chosen[key] = min(files, key=lambda item: item[0] or 0)[1]
    masks = {k: f for k, f in chosen.items() if k in MASK_NAMES}
    items = [(k, (0, f)) for k, f in chosen.items() if k not in MASK_NAMES]
    bands = {k: b for k, (_r, b) in sorted(items, key=_s2_order)}
    info = files_info([b.path for b in bands.values()])
    return Product(kind, given, title, bands, masks, info)


def _band_folder(folder: str, given: str) -> Product | None:
    named = [
        (_name_of(entry), os.path.join(folder, entry))
        for entry in sorted(os.listdir(folder))
        if entry.lower().endswith(RASTER_EXT) and os.path.isfile(os.path.join(folder, entry))
    ]
    named = [(n, p) for n, p in named if n]
    if len([n for n, _p in named if canonical_band_name(n) not in MASK_NAMES]) < 2:
        return None
    name = os.path.basename(os.path.abspath(folder))
    return _loose_files(named, "folder of band files", given, f"folder of band files '{name}'")


_LIST_FORMAT = (
    "a band list holds one raster file per line (.tif, .jp2 ...; relative to the list), optionally followed by "
    "its band name ('B8A.tif' or 'bands/nir.tif,B8A'); '#' starts a comment"
)
_LIST_HEADERS = ("path", "file", "filename", "file_name", "band_file")


def _band_list(path: str) -> Product | None:
    """The band files a list names; None when no line names a raster file (notes, not a band list).

    The list is UTF-8 (a byte-order mark is dropped); blank lines, ``#`` comments and a header line
    (``path,band``) are skipped. A line that names no raster file, names a missing one or a file whose band
    nothing tells raises :class:`InputError` naming the line and the expected format."""
    text = read_text(path).lstrip("\ufeff")
    rows = [(n, ln.strip().lstrip("\ufeff").strip()) for n, ln in enumerate(text.splitlines(), start=1)]
    rows = [(n, ln) for n, ln in rows if ln and not ln.startswith("#")]
    split = [(n, ln, [part.strip().strip('"').strip() for part in ln.split(",")]) for n, ln in rows]
    if split and split[0][2][0].lower() in _LIST_HEADERS:
        split = split[1:]
    if not any(fields[0].lower().endswith(RASTER_EXT) for _n, _ln, fields in split):
        return None  # not a list of band files (notes ...)
    base = os.path.dirname(os.path.abspath(path))
    named = []
    where = f"The band list '{os.path.basename(path)}'"
    for number, line, fields in split:
        file, name = fields[0], (fields[1] if len(fields) > 1 else "")
        if not file.lower().endswith(RASTER_EXT) or len(fields) > 2 or name.lower().endswith(RASTER_EXT):
            raise InputError(f"{where}, line {number} ('{line}'), is not a band file line: {_LIST_FORMAT}.")
        full = file if os.path.isabs(file) else os.path.normpath(os.path.join(base, file))
        if not os.path.isfile(full):
            raise InputError(f"{where} names '{file}' (line {number}), which does not exist.")
        name = name or _name_of(full)
        if not name:
            raise InputError(
                f"{where} names '{file}' (line {number}), whose band the file name does not tell: write its band "
                f"after the path ('{file},B8A')."
            )
        named.append((name, full))
    title = f"list of band files '{os.path.basename(path)}'"
    return _loose_files(named, "list of band files", path, title)


def find_product(path: str) -> Product | None:
    """What the product at ``path`` holds, or None when ``path`` is not a product (a plain raster).

    Raises :class:`~changelens.core.errors.InputError` with one sentence for a product that cannot be
    used as it is (several granules or Landsat products in one folder, a list naming missing files).
    """
    if not path or not isinstance(path, str) or path.upper().startswith(("SENTINEL2_", "/VSI")):
        return None
    root = _safe_root(path)
    if root is not None:
        return _sentinel2(root, path)
    if os.path.isfile(path) and _MTL.search(path):
        return _landsat(os.path.dirname(os.path.abspath(path)), os.path.basename(path), path)
    if os.path.isdir(path):
        if any(_MTL.search(f) for f in os.listdir(path)):
            return _landsat(os.path.abspath(path), None, path)
        if os.path.isfile(os.path.join(path, "MTD_MSIL2A.xml")) or os.path.isfile(os.path.join(path, "MTD_MSIL1C.xml")):
            return _sentinel2(os.path.abspath(path), path)
        return _band_folder(path, path)
    if os.path.isfile(path) and path.lower().endswith(LIST_EXT):
        return _band_list(path)
    return None


def is_product_path(path: object) -> bool:
    """Whether ``path`` names something :func:`find_product` reads (by its kind, without listing bands)."""
    if not isinstance(path, str) or not path:
        return False
    low = path.rstrip("/\\").lower()
    if os.path.isdir(path):
        return True
    if not os.path.isfile(path):
        return False
    name = os.path.basename(low)
    return name in ("mtd_msil1c.xml", "mtd_msil2a.xml") or bool(_MTL.search(low)) or low.endswith((".zip", *LIST_EXT))
