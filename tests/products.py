"""Small but structurally faithful products written in code: a Sentinel-2 SAFE (L1C or L2A: JPEG2000 bands
at 10/20/60 m in the granule, ``SCL``, ``QI_DATA/MSK_CLASSI_B00.jp2``, ``MTD_MSIL*.xml`` with offset and
NODATA), a Landsat Collection 2 Level-2 folder (``*_SR_B*.TIF``, ``QA_PIXEL``, ``*_MTL.txt``) and an
OSCD-style folder of per-band GeoTIFFs.

Scenes are 96 x 96 pixels of 10 m (48 x 48 of 20 m, 16 x 16 of 60 m; Landsat 32 x 32 of 30 m) with
constant regions aligned to the coarsest pixel, so every resolution holds the same values.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Mapping

import numpy as np
from osgeo import gdal, osr

SIDE_M = 960
ULX, ULY = 600000, 4400040
EPSG = 32610
S2_RES = {
    "B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20, "B07": 20, "B08": 10, "B8A": 20,
    "B09": 60, "B10": 60, "B11": 20, "B12": 20,
}  # fmt: skip
# Reflectance of the scene's surfaces per band: vegetation, burned ground, bare ground (a landslide), water.
SURFACES = {
    "vegetation": {"B02": 0.04, "B03": 0.07, "B04": 0.05, "B08": 0.30, "B8A": 0.30, "B11": 0.18, "B12": 0.10},
    "burned": {"B02": 0.05, "B03": 0.06, "B04": 0.08, "B08": 0.15, "B8A": 0.15, "B11": 0.28, "B12": 0.25},
    "bare": {"B02": 0.10, "B03": 0.12, "B04": 0.14, "B08": 0.20, "B8A": 0.21, "B11": 0.30, "B12": 0.25},
    "water": {"B02": 0.06, "B03": 0.08, "B04": 0.05, "B08": 0.02, "B8A": 0.02, "B11": 0.01, "B12": 0.01},
}
OTHER_BAND = 0.12  # bands a surface does not list
BLOCK = slice(24, 72)  # the changed square, in 10 m pixels (aligned to 60 m and 30 m cells: 24 = 4 x 6 = 8 x 3)


def surface_map(changed: str | None) -> np.ndarray:
    """96 x 96 surface names: vegetation, the changed square ``changed`` (None: unchanged)."""
    out = np.full((96, 96), "vegetation", dtype=object)
    if changed:
        out[BLOCK, BLOCK] = changed
    return out


def reflectance(surfaces: np.ndarray, band: str) -> np.ndarray:
    """Reflectance (float64, shape of ``surfaces``) of ``band`` (``B8A``, ``SR_B5`` read as its S2 twin)."""
    table = {name: SURFACES[name].get(band, OTHER_BAND) for name in SURFACES}
    return np.vectorize(table.get)(surfaces).astype(np.float64)


def coarse(values: np.ndarray, factor: int) -> np.ndarray:
    """Block mean by ``factor`` (values are constant within the coarse cells of the scenes here)."""
    rows, cols = values.shape
    return values.reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))


def _dataset(driver: str, path: Path | str, data: np.ndarray, res: float, dtype: int, nodata: float | None = None):  # noqa: ANN202
    bands = data if data.ndim == 3 else data[None]
    mem = gdal.GetDriverByName("MEM").Create("", bands.shape[2], bands.shape[1], bands.shape[0], dtype)
    mem.SetGeoTransform((ULX, res, 0, ULY, 0, -res))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    mem.SetProjection(srs.ExportToWkt())
    for i, band in enumerate(bands, start=1):
        mem.GetRasterBand(i).WriteArray(band)
        if nodata is not None:
            mem.GetRasterBand(i).SetNoDataValue(nodata)
    options = ["REVERSIBLE=YES", "QUALITY=100"] if driver == "JP2OpenJPEG" else ["COMPRESS=DEFLATE"]
    gdal.GetDriverByName(driver).CreateCopy(str(path), mem, options=options)


def s2_safe(
    folder: Path,
    date: str,
    surfaces: np.ndarray,
    level: str = "L2A",
    scl: np.ndarray | None = None,
    classi: np.ndarray | None = None,
    dn0: np.ndarray | None = None,
    baseline: str = "05.09",
) -> Path:
    """A Sentinel-2 SAFE with every band at its native resolution (L2A: also at coarser ones, as ESA ships),
    DN with the baseline-04.00 offset, ``scl`` (48 x 48, L2A) and ``classi`` (3 x 16 x 16) when given; ``dn0``
    (96 x 96 boolean) marks pixels written as DN 0 (NO_DATA). Returns the ``.SAFE`` folder."""
    offset = 1000 if float(baseline) >= 4.0 else 0
    name = f"S2B_MSI{level}_{date}T184919_N{baseline.replace('.', '')}_R113_T10SEG_{date}T230000.SAFE"
    root = folder / name
    granule = root / "GRANULE" / f"{level}_T10SEG_A012345_{date}T185000"
    files = []
    for band, native in S2_RES.items():
        values = reflectance(surfaces, band)
        resolutions = [native] if level == "L1C" else [r for r in (10, 20, 60) if r >= native]
        for res in resolutions:
            dn = np.round(coarse(values, res // 10) * 10000 + offset).astype(np.uint16)
            if dn0 is not None:
                dn[coarse(dn0.astype(float), res // 10) > 0] = 0
            stem = f"T10SEG_{date}T184919_{band}" + (f"_{res}m" if level == "L2A" else "")
            sub = granule / "IMG_DATA" / (f"R{res}m" if level == "L2A" else "")
            sub.mkdir(parents=True, exist_ok=True)
            _dataset("JP2OpenJPEG", sub / f"{stem}.jp2", dn, res, gdal.GDT_UInt16)
            files.append(str((sub / stem).relative_to(root)))
    if scl is not None:
        for res, factor in ((20, 1), (60, 3)):
            sub = granule / "IMG_DATA" / f"R{res}m"
            _dataset("JP2OpenJPEG", sub / f"T10SEG_{date}T184919_SCL_{res}m.jp2", scl[::factor, ::factor], res, 1)
    qi = granule / "QI_DATA"
    qi.mkdir(parents=True, exist_ok=True)
    if classi is not None:
        _dataset("JP2OpenJPEG", qi / "MSK_CLASSI_B00.jp2", classi.astype(np.uint8), 60, gdal.GDT_Byte)
    _mtd(root, level, date, baseline, files)
    return root


def _mtd(root: Path, level: str, date: str, baseline: str, files: list[str]) -> None:
    day = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    short = "2A" if level == "L2A" else "1C"
    tag = "BOA" if level == "L2A" else "RADIO"
    offsets = "".join(f'<{tag}_ADD_OFFSET band_id="{i}">-1000</{tag}_ADD_OFFSET>' for i in range(13))
    offsets = f"<{tag}_ADD_OFFSET_VALUES_LIST>{offsets}</{tag}_ADD_OFFSET_VALUES_LIST>" if float(baseline) >= 4 else ""
    quant = "BOA_QUANTIFICATION_VALUE" if level == "L2A" else "QUANTIFICATION_VALUE"
    (root / f"MTD_MSIL{short}.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<n1:Level-{short}_User_Product xmlns:n1="https://psd-14.sentinel2'
        f'.eo.esa.int/PSD/User_Product_Level-{short}.xsd"><n1:General_Info><Product_Info>'
        f"<PRODUCT_START_TIME>{day}T18:49:19.024Z</PRODUCT_START_TIME><PRODUCT_URI>{root.name}</PRODUCT_URI>"
        f"<PROCESSING_LEVEL>Level-{short}</PROCESSING_LEVEL><PRODUCT_TYPE>S2MSI{short}</PRODUCT_TYPE>"
        f"<PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE><Product_Organisation><Granule_List><Granule>"
        f"{''.join(f'<IMAGE_FILE>{f}</IMAGE_FILE>' for f in files)}</Granule></Granule_List>"
        "</Product_Organisation></Product_Info><Product_Image_Characteristics>"
        "<Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX>"
        "</Special_Values><QUANTIFICATION_VALUES_LIST>"
        f'<{quant} unit="none">10000</{quant}></QUANTIFICATION_VALUES_LIST>{offsets}'
        "</Product_Image_Characteristics></n1:General_Info></n1:Level-" + short + "_User_Product>\n"
    )


def zip_safe(root: Path) -> Path:
    """The SAFE folder ``root`` zipped as ESA delivers it (``<name>.zip`` holding ``<name>.SAFE/``)."""
    archive = shutil.make_archive(str(root.with_suffix("")), "zip", root.parent, root.name)
    shutil.rmtree(root)
    return Path(archive)


LANDSAT_BANDS = {"SR_B2": "B02", "SR_B3": "B03", "SR_B4": "B04", "SR_B5": "B8A", "SR_B6": "B11", "SR_B7": "B12"}


def landsat_folder(folder: Path, product: str, surfaces: np.ndarray, qa: np.ndarray | None = None) -> Path:
    """A Landsat 8/9 Collection 2 Level-2 folder ``product``: SR_B2..SR_B7 at 30 m (32 x 32; fill 0 flagged),
    ``QA_PIXEL`` (``qa``, 32 x 32 bit flags; clear = 21824) and the MTL file. Returns the folder."""
    out = folder / product
    out.mkdir(parents=True)
    lines = []
    for band, twin in LANDSAT_BANDS.items():
        values = coarse(reflectance(surfaces, twin), 3)
        dn = np.round((values + 0.2) / 2.75e-5).astype(np.uint16)
        if qa is not None:
            dn[(qa & 1) != 0] = 0
        _dataset("GTiff", out / f"{product}_{band}.TIF", dn, 30, gdal.GDT_UInt16, nodata=0)
        number = band[-1]
        lines.append(f"    REFLECTANCE_MULT_BAND_{number} = 2.75E-05\n    REFLECTANCE_ADD_BAND_{number} = -0.2\n")
    flags = qa if qa is not None else np.full((32, 32), 21824, np.uint16)
    _dataset("GTiff", out / f"{product}_QA_PIXEL.TIF", flags.astype(np.uint16), 30, gdal.GDT_UInt16, nodata=1)
    (out / f"{product}_MTL.txt").write_text(
        'GROUP = LANDSAT_METADATA_FILE\n  GROUP = PRODUCT_CONTENTS\n    SPACECRAFT_ID = "LANDSAT_9"\n'
        '    PROCESSING_LEVEL = "L2SP"\n  END_GROUP = PRODUCT_CONTENTS\n'
        "  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\n" + "".join(lines) + "  END_GROUP = "
        "LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n"
    )
    return out


def band_folder(folder: Path, surfaces: np.ndarray, bands: Mapping[str, int] | None = None) -> Path:
    """An OSCD-style folder: one uint16 GeoTIFF per band (``B01.tif`` ... ``B12.tif``, ``B8A.tif``; DN =
    reflectance x 10000, no offset, no no-data flag) at its native resolution. Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for band, res in (bands or S2_RES).items():
        dn = np.round(coarse(reflectance(surfaces, band), res // 10) * 10000).astype(np.uint16)
        _dataset("GTiff", folder / f"{band}.tif", dn, res, gdal.GDT_UInt16)
    return folder


def scl_with_cloud(rows: slice, cols: slice, code: int = 9) -> np.ndarray:
    """48 x 48 SCL (20 m): vegetation (4), ``code`` (9 = cloud high probability) over ``rows``/``cols``."""
    scl = np.full((48, 48), 4, np.uint8)
    scl[rows, cols] = code
    return scl


# Landsat 4-7 TM/ETM+ number their bands one lower than OLI from NIR on (SR_B4 = NIR, SR_B5 = SWIR1).
LANDSAT7_BANDS = {"SR_B1": "B02", "SR_B2": "B03", "SR_B3": "B04", "SR_B4": "B8A", "SR_B5": "B11", "SR_B7": "B12"}
# Landsat 8/9 Level-1: B1-B7 and B9 (cirrus) at 30 m, B8 (panchromatic) at 15 m, B10/B11 (thermal) at 30 m.
LANDSAT_L1_BANDS = {
    "B1": "B02", "B2": "B02", "B3": "B03", "B4": "B04", "B5": "B8A", "B6": "B11", "B7": "B12", "B9": "B02",
}  # fmt: skip


def _mtl(out: Path, product: str, spacecraft: str, level: str, scale: tuple[float, float], numbers: list[str]) -> None:
    group = "LEVEL2_SURFACE_REFLECTANCE_PARAMETERS" if level == "L2SP" else "LEVEL1_RADIOMETRIC_RESCALING"
    lines = "".join(
        f"    REFLECTANCE_MULT_BAND_{n} = {scale[0]:.4E}\n    REFLECTANCE_ADD_BAND_{n} = {scale[1]}\n" for n in numbers
    )
    (out / f"{product}_MTL.txt").write_text(
        f'GROUP = LANDSAT_METADATA_FILE\n  GROUP = PRODUCT_CONTENTS\n    SPACECRAFT_ID = "{spacecraft}"\n'
        f'    PROCESSING_LEVEL = "{level}"\n  END_GROUP = PRODUCT_CONTENTS\n  GROUP = {group}\n{lines}'
        f"  END_GROUP = {group}\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n"
    )


def landsat7_folder(folder: Path, product: str, surfaces: np.ndarray) -> Path:
    """A Landsat 7 ETM+ Collection 2 Level-2 folder ``product`` (SR_B1..SR_B5, SR_B7 at 30 m, QA_PIXEL clear,
    MTL): the same surfaces as :func:`landsat_folder` under TM/ETM+ band numbers. Returns the folder."""
    out = folder / product
    out.mkdir(parents=True)
    for band, twin in LANDSAT7_BANDS.items():
        dn = np.round((coarse(reflectance(surfaces, twin), 3) + 0.2) / 2.75e-5).astype(np.uint16)
        _dataset("GTiff", out / f"{product}_{band}.TIF", dn, 30, gdal.GDT_UInt16, nodata=0)
    _dataset("GTiff", out / f"{product}_QA_PIXEL.TIF", np.full((32, 32), 5440, np.uint16), 30, gdal.GDT_UInt16, 1)
    _mtl(out, product, "LANDSAT_7", "L2SP", (2.75e-5, -0.2), [b[-1] for b in LANDSAT7_BANDS])
    return out


def landsat_l1_folder(folder: Path, product: str, surfaces: np.ndarray) -> Path:
    """A Landsat 8 Collection 2 Level-1 folder ``product``: B1-B7, B9 at 30 m, panchromatic B8 at 15 m, thermal
    B10/B11 (constant), QA_PIXEL clear and the MTL (DN x 2e-5 - 0.1). Returns the folder."""
    out = folder / product
    out.mkdir(parents=True)
    numbers = []
    for band, twin in LANDSAT_L1_BANDS.items():
        dn = np.round((coarse(reflectance(surfaces, twin), 3) + 0.1) / 2e-5).astype(np.uint16)
        _dataset("GTiff", out / f"{product}_{band}.TIF", dn, 30, gdal.GDT_UInt16, nodata=0)
        numbers.append(band[1:])
    for band in ("B10", "B11"):
        _dataset("GTiff", out / f"{product}_{band}.TIF", np.full((32, 32), 30000, np.uint16), 30, gdal.GDT_UInt16, 0)
    pan = np.kron(coarse(reflectance(surfaces, "B04"), 3), np.ones((2, 2)))
    _dataset("GTiff", out / f"{product}_B8.TIF", np.round((pan + 0.1) / 2e-5).astype(np.uint16), 15, gdal.GDT_UInt16, 0)
    _dataset("GTiff", out / f"{product}_QA_PIXEL.TIF", np.full((32, 32), 21824, np.uint16), 30, gdal.GDT_UInt16, 1)
    _mtl(out, product, "LANDSAT_8", "L1TP", (2e-5, -0.1), [*numbers, "8"])
    return out


def burn_params(pre: object, post: object, folder: Path, **extra: object) -> dict[str, object]:
    """``changelens:burnseverity`` parameters: the two dates (paths or products), dNBR and severity in ``folder``."""
    return {
        "PRE": str(pre),
        "POST": str(post),
        "OUTPUT_DNBR": str(folder / "dnbr.tif"),
        "OUTPUT_SEVERITY": str(folder / "severity.tif"),
        **extra,
    }
