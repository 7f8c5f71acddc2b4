"""What the files around a raster say about the product it comes from: sensor, level, baseline, scale, date.

Sources, strongest first: the raster's own GDAL metadata (the Sentinel-2 driver exposes the
product's ``PROCESSING_BASELINE``, offsets, quantification and special values); the product's
metadata file found beside the raster or in a parent ``.SAFE`` folder (``MTD_MSIL1C.xml``,
``MTD_MSIL2A.xml``) or the Landsat ``*_MTL.txt``/``*_MTL.xml`` sharing the product id; and the
names of the files themselves (``..._N0400_...``, ``LC09_L2SP_...``, ``..._SR_B5.TIF``, dates).
A VRT stack of per-band files is read through its sources, so ``gdalbuildvrt -separate`` stacks
keep their band names and metadata. Every fact keeps the sentence saying where it came from.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from osgeo import gdal

# Sentinel-2 processing baseline 04.00 (products from 25 January 2022) adds 1000 to every DN.
S2_OFFSET_BASELINE = 4.0
S2_OFFSET_DATE = dt.date(2022, 1, 25)

_S2_PRODUCT = re.compile(r"S2[ABCD]_MSI(L1C|L2A)_(\d{8})T\d{6}_N(\d{2})(\d{2})_", re.I)
_S2_TILE_FILE = re.compile(r"(?:^|_)T\d{2}[A-Z]{3}_(\d{8})T\d{6}_(B\d{1,2}A?|SCL|TCI|AOT|WVP)(?:_(\d{2})m)?", re.I)
_LANDSAT = re.compile(r"(L[COTEM])0?([4-9])_(L1TP|L1GT|L1GS|L2SP|L2SR)_\d{6}_(\d{8})_\d{8}_\d{2}_(T1|T2|RT)", re.I)
_LANDSAT_BAND = re.compile(r"_(SR_B\d|ST_B\d{1,2}|QA_PIXEL|QA_RADSAT|SR_QA_AEROSOL|B\d{1,2})\.(tif|tiff)$", re.I)
_BAND_FILE = re.compile(r"(?:^|[_\-.])(B\d{1,2}A?)(?:_\d{2}m)?\.(tif|tiff|jp2)$", re.I)
_LANDSAT_SHORT = re.compile(r"(?:^|[_\-. ])(?:landsat[_\- ]?|l[cote]?0?)([4-9])(?=$|[_\-. ])", re.I)
_DATE = re.compile(r"(?<!\d)(20\d{2})([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")  # 20230801, 2023-08-01
SOURCES_KEY = "CHANGELENS_SOURCES"  # metadata of a stack ChangeLens built: the product files it reads (JSON)
LANDSAT_SENSORS = {"8": "landsat_oli", "9": "landsat_oli", "7": "landsat_etm", "4": "landsat_tm", "5": "landsat_tm"}


@dataclass
class ProductInfo:
    """Facts about one raster's product; empty fields are unknown.

    ``sensor``: ``sentinel2``, ``landsat_oli``, ``landsat_etm``, ``landsat_tm`` or ``sentinel1``;
    ``offset_dn``: the Sentinel-2 additive offset in DN (-1000 from baseline 04.00, 0 before);
    ``landsat_scale``: ``{band number: (multiply, add)}`` from the MTL file; ``band_names``:
    ``{1-based band: name}`` from per-band source files; ``evidence``: where each fact came from.
    ``from_name_only`` names the facts that only a file name gave (``"offset"``: a Sentinel-2
    baseline token such as ``N0509``; ``"sensor"``: a short Landsat token such as ``L8``): an export
    keeps its source's name after its values were changed, so values may overrule them.
    """

    sensor: str = ""
    level: str = ""
    baseline: float | None = None
    offset_dn: float | None = None
    quantification: float | None = None
    nodata_dn: tuple[float, ...] = ()
    landsat_scale: dict[int, tuple[float, float]] = field(default_factory=dict)
    acquired: str = ""
    band_names: dict[int, str] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    from_name_only: set[str] = field(default_factory=set)

    def note(self, text: str) -> None:
        """Record where a fact came from (once)."""
        if text not in self.evidence:
            self.evidence.append(text)


def _float(value: object) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _from_gdal_metadata(ds: gdal.Dataset, info: ProductInfo) -> None:
    for domain in ("", "IMAGERY"):
        items = ds.GetMetadata(domain) or {}
        if not isinstance(items, dict):
            continue
        baseline = _float(items.get("PROCESSING_BASELINE"))
        if baseline is not None and info.baseline is None:
            info.baseline, info.sensor = baseline, info.sensor or "sentinel2"
            info.note(f"processing baseline {baseline:05.2f} (product metadata read by GDAL)")
        for key, value in items.items():
            if "ADD_OFFSET" in key.upper() and _float(value) is not None and info.offset_dn is None:
                info.offset_dn = _float(value)
                info.note(f"{key} = {value} (product metadata read by GDAL)")
        quant = _float(items.get("BOA_QUANTIFICATION_VALUE") or items.get("QUANTIFICATION_VALUE"))
        if quant and info.quantification is None:
            info.quantification = quant
        nodata = _float(items.get("SPECIAL_VALUE_NODATA"))
        if nodata is not None and not info.nodata_dn:
            info.nodata_dn = (nodata,)
            info.note(f"no-data value {nodata:g} (product metadata SPECIAL_VALUE_NODATA)")
        level = str(items.get("PRODUCT_TYPE") or items.get("PROCESSING_LEVEL") or "").upper()
        if "2A" in level or "1C" in level:
            info.level = info.level or ("L2A" if "2A" in level else "L1C")
            info.sensor = info.sensor or "sentinel2"
        start = str(items.get("PRODUCT_START_TIME") or items.get("DATATAKE_1_DATATAKE_SENSING_START") or "")
        if start[:10] and not info.acquired:
            info.acquired = start[:10]


def is_file(path: str) -> bool:
    """True when ``path`` is a file, also inside a GDAL virtual file system (``/vsizip/``: a zipped SAFE)."""
    if not path.startswith("/vsi"):
        return os.path.isfile(path)
    stat = gdal.VSIStatL(path)
    return stat is not None and not stat.IsDirectory()


def read_text(path: str) -> str:
    """The text of a small file, also inside a GDAL virtual file system; '' when it cannot be read."""
    if not path.startswith("/vsi"):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""
    handle = gdal.VSIFOpenL(path, "rb")
    if handle is None:
        return ""
    try:
        stat = gdal.VSIStatL(path)
        data = gdal.VSIFReadL(1, stat.size if stat else 0, handle) or b""
    finally:
        gdal.VSIFCloseL(handle)
    return bytes(data).decode("utf-8", "replace")


def _mtd_xml(path: str, info: ProductInfo) -> None:
    """Read a Sentinel-2 ``MTD_MSIL1C.xml``/``MTD_MSIL2A.xml``."""
    try:
        root = ET.fromstring(read_text(path))
    except ET.ParseError:
        return
    texts: dict[str, list[str]] = {}
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        texts.setdefault(tag, []).append((element.text or "").strip())
    name = os.path.basename(path)
    info.sensor = "sentinel2"
    info.level = info.level or ("L2A" if "L2A" in name.upper() else "L1C")
    baseline = _float((texts.get("PROCESSING_BASELINE") or [None])[0])
    if baseline is not None and info.baseline is None:
        info.baseline = baseline
        info.note(f"processing baseline {baseline:05.2f} ({name})")
    offsets = [v for tag in ("BOA_ADD_OFFSET", "RADIO_ADD_OFFSET") for v in texts.get(tag, [])]
    if offsets and info.offset_dn is None:
        info.offset_dn = _float(offsets[0])
        info.note(f"additive offset {offsets[0]} DN ({name})")
    quant = texts.get("BOA_QUANTIFICATION_VALUE") or texts.get("QUANTIFICATION_VALUE")
    if quant and info.quantification is None:
        info.quantification = _float(quant[0])
    special = list(zip(texts.get("SPECIAL_VALUE_TEXT", []), texts.get("SPECIAL_VALUE_INDEX", [])))
    nodata = [_float(index) for text, index in special if text.upper() == "NODATA"]
    if nodata and not info.nodata_dn and nodata[0] is not None:
        info.nodata_dn = (nodata[0],)
        info.note(f"no-data value {nodata[0]:g} ({name} SPECIAL_VALUE_NODATA)")
    start = (texts.get("PRODUCT_START_TIME") or [""])[0]
    if start and not info.acquired:
        info.acquired = start[:10]


def _mtl(path: str, info: ProductInfo) -> None:
    """Read a Landsat Collection 2 ``*_MTL.txt`` (ODL) or ``*_MTL.xml``."""
    text = read_text(path)
    if not text:
        return
    pairs = dict(re.findall(r"^\s*([A-Z0-9_]+)\s*=\s*\"?([^\"\n]*)\"?\s*$", text, re.M))
    pairs.update(dict(re.findall(r"<([A-Z0-9_]+)>([^<]*)</\1>", text)))
    name = os.path.basename(path)
    spacecraft = pairs.get("SPACECRAFT_ID", "")
    number = re.search(r"(\d)", spacecraft)
    if number and number.group(1) in LANDSAT_SENSORS:
        info.sensor = LANDSAT_SENSORS[number.group(1)]
        info.note(f"{spacecraft} ({name})")
    for key, value in pairs.items():
        match = re.fullmatch(r"REFLECTANCE_MULT_BAND_(\d+)", key)
        if match:
            add = _float(pairs.get(f"REFLECTANCE_ADD_BAND_{match.group(1)}"))
            mult = _float(value)
            if mult is not None and add is not None:
                info.landsat_scale[int(match.group(1))] = (mult, add)
    if info.landsat_scale:
        info.note(f"reflectance scale and offset per band ({name})")
        info.level = info.level or ("L2SP" if "LEVEL2" in text.upper() else "L1")
    if pairs.get("DATE_ACQUIRED") and not info.acquired:
        info.acquired = pairs["DATE_ACQUIRED"][:10]


def _from_name(path: str, info: ProductInfo) -> None:
    name = os.path.basename(path)
    s2 = _S2_PRODUCT.search(path)
    if s2:
        info.sensor = info.sensor or "sentinel2"
        info.level = info.level or s2.group(1).upper()
        baseline = float(f"{s2.group(3)}.{s2.group(4)}")
        if info.baseline is None:
            info.baseline = baseline
            info.from_name_only.add("offset")
            info.note(f"processing baseline {baseline:05.2f} (N{s2.group(3)}{s2.group(4)} in the product name)")
        info.acquired = info.acquired or f"{s2.group(2)[:4]}-{s2.group(2)[4:6]}-{s2.group(2)[6:]}"
    landsat = _LANDSAT.search(name)
    if landsat:
        sensor = LANDSAT_SENSORS[landsat.group(2)]
        if not info.sensor.startswith("landsat"):
            info.sensor = sensor
            info.note(f"{landsat.group(1).upper()}0{landsat.group(2)} {landsat.group(3).upper()} (file name)")
        info.level = info.level or landsat.group(3).upper()
        date = landsat.group(4)
        info.acquired = info.acquired or f"{date[:4]}-{date[4:6]}-{date[6:]}"
    short = None if landsat else _LANDSAT_SHORT.search(os.path.splitext(name)[0])
    if short and not info.sensor:
        info.sensor = LANDSAT_SENSORS[short.group(1)]
        info.from_name_only.add("sensor")
        info.note(f"Landsat {short.group(1)} ({short.group(0).strip('_-. ')} in the file name)")
    if _S2_TILE_FILE.search(name):
        info.sensor = info.sensor or "sentinel2"
    date = _DATE.search(name)
    if date and not info.acquired:
        info.acquired = f"{date.group(1)}-{date.group(3)}-{date.group(4)}"
        info.note(f"acquired {info.acquired} (date in the file name)")


def band_name_from_file(path: str) -> str:
    """The band a per-band file holds, from its name (``..._SR_B5.TIF`` -> ``SR_B5``, ``B8A.tif`` -> ``B8A``)."""
    name = os.path.basename(path)
    for pattern in (_LANDSAT_BAND, _S2_TILE_FILE, _BAND_FILE):
        match = pattern.search(name)
        if match:
            return (match.group(2) if pattern is _S2_TILE_FILE else match.group(1)).upper()
    return ""


def vrt_source(ds: gdal.Dataset, index: int) -> str:
    """The file the first source of VRT band ``index`` reads ('' when none is a file)."""
    items = ds.GetRasterBand(index).GetMetadata("vrt_sources") or {}
    for xml in items.values():
        match = re.search(r"<SourceFilename([^>]*)>([^<]+)</SourceFilename>", xml)
        if match:
            path = match.group(2)
            if 'relativeToVRT="1"' in match.group(1) and not path.startswith("/vsi"):
                path = os.path.join(os.path.dirname(ds.GetDescription()), path)
            return path
    return ""


def _vrt_band_sources(ds: gdal.Dataset) -> dict[int, str]:
    sources = {index: vrt_source(ds, index) for index in range(1, ds.RasterCount + 1)}
    return {index: path for index, path in sources.items() if path}


def _metadata_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """Sentinel-2 MTD files (beside a file or in a parent ``.SAFE``) and Landsat MTL files (same product id)."""
    mtd, mtl = [], []
    for path in paths:
        folder = os.path.dirname(path if path.startswith("/vsi") else os.path.abspath(path))
        for _level in range(5):
            for name in ("MTD_MSIL2A.xml", "MTD_MSIL1C.xml"):
                candidate = os.path.join(folder, name)
                if candidate not in mtd and is_file(candidate):
                    mtd.append(candidate)
            if folder.upper().endswith(".SAFE") or os.path.dirname(folder) == folder:
                break
            folder = os.path.dirname(folder)
        landsat = _LANDSAT.search(os.path.basename(path))
        if landsat:
            for suffix in ("_MTL.txt", "_MTL.xml"):
                folder = os.path.dirname(path if path.startswith("/vsi") else os.path.abspath(path))
                candidate = os.path.join(folder, landsat.group(0) + suffix)
                if candidate not in mtl and is_file(candidate):
                    mtl.append(candidate)
    return mtd, mtl


def files_info(paths: list[str], info: ProductInfo | None = None) -> ProductInfo:
    """What product metadata files found from ``paths`` (MTD beside or in a parent ``.SAFE``, the MTL of the
    same product id) and the names of the files say about their product."""
    info = info if info is not None else ProductInfo()
    paths = [p.split(":", 1)[1].rsplit(":", 2)[0] if p.upper().startswith("SENTINEL2_") else p for p in paths]
    mtd, mtl = _metadata_files(paths)
    for path in mtd:
        _mtd_xml(path, info)
    for path in mtl:
        _mtl(path, info)
    for path in dict.fromkeys(paths):
        _from_name(path, info)
    if info.sensor == "sentinel2" and info.offset_dn is None and info.baseline is not None:
        info.offset_dn = -1000.0 if info.baseline >= S2_OFFSET_BASELINE else 0.0
    else:
        info.from_name_only.discard("offset")  # the product metadata gave the offset itself
    return info


def product_info(ds: gdal.Dataset) -> ProductInfo:
    """Everything the raster, its product metadata files and the file names say about its product."""
    info = ProductInfo()
    _from_gdal_metadata(ds, info)
    sources = _vrt_band_sources(ds) if ds.GetDriver().ShortName == "VRT" else {}
    paths = [p for p in [ds.GetDescription(), *(ds.GetFileList() or []), *sources.values()] if p]
    try:
        paths += [str(p) for p in json.loads(ds.GetMetadataItem(SOURCES_KEY) or "[]")]
    except ValueError:
        pass
    files_info(paths, info)
    for index, source in sources.items():
        name = band_name_from_file(source)
        if name:
            info.band_names[index] = name
    return info
