"""A cloud and shadow mask for a date that carries none, computed with the optional ``ukis-csmask`` package.

ukis-csmask (DLR, Apache-2.0, ``pip install ukis-csmask``) segments clouds and cloud shadows in
Sentinel-2 L1C/L2A and Landsat 5/7/8/9 reflectance with a CNN whose ONNX weights ship inside its wheel
(about 160 MB) and run on onnxruntime. It is not bundled with ChangeLens: the Doctor offers to install it,
and the cloud-mask option says what it needs when it is missing. Its own API is used as published
(``ukis_csmask.mask.CSmask``: blue, green, red, NIR and, when present, SWIR1 and SWIR2 reflectance, the
L1C or L2A model, invalid pixels buffered by 4 pixels), at about 30 m as its authors recommend, chunk by
chunk so memory stays bounded; the mask is written to the run's scratch folder and read like a product's.
"""

from __future__ import annotations

import math
import warnings
from typing import Mapping

import numpy as np
from osgeo import gdal

from ..errors import RuntimeMissingError
from ..progress import Log, no_log
from .grid import grid_of, metres_per_degree
from .masks import MaskRule
from .raster import Radiometry
from .validity import Fill
from .windows import Window

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
UKIS_NAMES = {"blue": "blue", "green": "green", "red": "red", "nir": "nir", "swir1": "swir16", "swir2": "swir22"}
PIXEL_M = 30.0  # the resolution ukis-csmask's models work best at
CHUNK_PX = 1024
MARGIN_PX = 64
MISSING = (
    "The cloud mask 'ukis-csmask' needs the optional ukis-csmask package (DLR's cloud and shadow CNN, Apache-2.0, "
    "about 160 MB with its weights), which is not installed for the Python running ChangeLens: install it with "
    "Doctor… in the ChangeLens panel (or: python -m pip install --user ukis-csmask) and restart QGIS, or choose "
    "the automatic cloud mask."
)


def csmask_version() -> str | None:
    """The installed ukis-csmask version, or None when it cannot be imported."""
    try:
        from importlib.metadata import version

        import ukis_csmask.mask  # noqa: F401
    except Exception:  # noqa: BLE001 - missing, or broken (its onnxruntime import)
        return None
    try:
        return version("ukis-csmask")
    except Exception:  # noqa: BLE001
        return "unknown version"


def require_csmask() -> str:
    """The ukis-csmask version; :class:`RuntimeMissingError` with what to do when it is missing."""
    found = csmask_version()
    if found is None:
        raise RuntimeMissingError(MISSING)
    return found


def _mask_grid(ds: gdal.Dataset) -> tuple[gdal.Dataset, float]:
    """``ds`` at about 30 m (average of finer pixels); itself when its pixels are 25 m or larger."""
    grid = grid_of(ds)
    srs = grid.srs()
    unit_m = 1.0
    if srs is not None and srs.IsGeographic():
        unit_m = metres_per_degree((grid.bounds[1] + grid.bounds[3]) / 2.0)[0]
    elif srs is not None:
        unit_m = srs.GetLinearUnits() or 1.0
    native_m = grid.pixel_width * unit_m
    if native_m >= 25.0:
        return ds, native_m
    factor = max(int(round(PIXEL_M / native_m)), 1)
    width, height = max(math.ceil(ds.RasterXSize / factor), 1), max(math.ceil(ds.RasterYSize / factor), 1)
    view = gdal.Translate("", ds, format="VRT", width=width, height=height, resampleAlg="average")
    return view, native_m * factor


def compute_csmask(
    ds: gdal.Dataset,
    indices: Mapping[str, int],
    conversions: Mapping[int, Radiometry],
    fills: Mapping[int, Fill],
    level: str,
    out_path: str,
    label: str,
    log: Log = no_log,
) -> MaskRule:
    """Write the ukis-csmask mask of one date to ``out_path`` (Byte GeoTIFF on the date's grid coarsened to
    about 30 m: 1 = cloud or cloud shadow, buffered; 0 = clear) and return its rule (band 1 != 0).

    ``indices`` map the roles in :data:`ROLES` (blue, green, red and NIR required) to bands of ``ds``;
    ``conversions`` and ``fills`` turn their raw values into reflectance and no data; ``level`` is
    ``l1c`` or ``l2a``. Raises :class:`RuntimeMissingError` when the package is missing.
    """
    version = require_csmask()
    from ukis_csmask.mask import CSmask

    roles = [r for r in ROLES if r in indices]
    view, pixel_m = _mask_grid(ds)
    width, height = view.RasterXSize, view.RasterYSize
    out = gdal.GetDriverByName("GTiff").Create(out_path, width, height, 1, gdal.GDT_Byte, ["COMPRESS=DEFLATE"])
    scale_x, scale_y = ds.RasterXSize / width, ds.RasterYSize / height
    gt = ds.GetGeoTransform()
    out.SetGeoTransform((gt[0], gt[1] * scale_x, 0.0, gt[3], 0.0, gt[5] * scale_y))
    out.SetProjection(ds.GetProjection())
    model = ""
    for row in range(0, height, CHUNK_PX):
        for col in range(0, width, CHUNK_PX):
            core = Window(col, row, min(CHUNK_PX, width - col), min(CHUNK_PX, height - row))
            c0, r0 = max(col - MARGIN_PX, 0), max(row - MARGIN_PX, 0)
            c1, r1 = min(core.col_end + MARGIN_PX, width), min(core.row_end + MARGIN_PX, height)
            layers = []
            for role in roles:
                index = indices[role]
                raw = view.GetRasterBand(index).ReadAsArray(c0, r0, c1 - c0, r1 - r0).astype(np.float64)
                rad = conversions.get(index, Radiometry())
                values = (raw * rad.scale + rad.offset).astype(np.float32)
                fill = fills.get(index)
                bad = ~np.isfinite(values) | (fill.mask(raw) if fill is not None else False)
                values[bad] = 0.0
                layers.append(values)
            image = np.stack(layers, axis=-1)
            data = np.any(image != 0, axis=-1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # small chunks: the package warns below 256 px
                result = CSmask(
                    image,
                    [UKIS_NAMES[r] for r in roles],
                    product_level=level,
                    nodata_value=0,
                    invalid_buffer=4,
                    providers=["CPUExecutionProvider"],
                )
            model = getattr(result, "model_version", "") or model
            masked = (result.valid[..., 0] == 0) & data
            y, x = row - r0, col - c0
            out.GetRasterBand(1).WriteArray(
                masked[y : y + core.height, x : x + core.width].astype(np.uint8), core.col_off, core.row_off
            )
    out.FlushCache()
    out = None
    bands = ", ".join(roles)
    log(
        f"The {label} carries no cloud mask: ukis-csmask {version} computed one (its CSmask API, model {model}, "
        f"{level.upper()}, {len(roles)} bands: {bands}; at {pixel_m:.3g} m; cloud and cloud shadow buffered by 4 "
        "pixels)."
    )
    return MaskRule("csmask", (1,), f"ukis-csmask {version} (model {model})")
