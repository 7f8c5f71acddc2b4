"""The simulated held-out landslide set, written as GeoTIFFs for `make eval` (there is no real labelled one).

The scenes come from ``training/landslide_sim.py`` (the simulator ``landslide_s2`` trained on) but
only from backgrounds it never trained on: the first dates of the OSCD cities in
``HELDOUT_CITIES`` (on generated terrain) and eo-learn scene ``HELDOUT_EOLEARN`` (on its real
DEM), with their own fixed seeds. Backgrounds are read from the shared data the way
``training/extract.py`` reads them, so the scenes are the same pixels as the training code's
held-out check. Each case: before/after Sentinel-2 GeoTIFFs (UInt16 DN = reflectance x 10000,
bands named B02 B03 B04 B08 B11 B12), a DEM (metres) and a label (1 landslide, 0 not, 255 ignored).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

from .datasets import Case, Dataset

ROOT = Path(__file__).resolve().parents[2]
BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
KIND = "landslide_sim"
PATH = "simulated/landslide_heldout"
PIXEL_M = 10.0
EPSG = 32633


def _sim():  # noqa: ANN202 - the training module (numpy only)
    sys.path.insert(0, str(ROOT / "training"))
    import landslide_sim

    return landslide_sim


def _city_back(city: Path) -> np.ndarray:
    """The city's first date as training/extract.py reads it (the same pixels as the held-out check)."""
    sys.path.insert(0, str(ROOT / "training"))
    import extract

    return extract.oscd_date(city, "t1")


def _write(path: Path, data: np.ndarray, gdal_type: int, descriptions: tuple[str, ...] = (), nodata=None) -> str:  # noqa: ANN001
    bands = data if data.ndim == 3 else data[None]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), bands.shape[2], bands.shape[1], bands.shape[0], gdal_type)
    ds.SetGeoTransform((500000.0, PIXEL_M, 0.0, 5100000.0, 0.0, -PIXEL_M))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    for i, band in enumerate(bands):
        out = ds.GetRasterBand(i + 1)
        out.WriteArray(band)
        if i < len(descriptions):
            out.SetDescription(descriptions[i])
        if nodata is not None:
            out.SetNoDataValue(nodata)
    ds = None
    return str(path)


def landslide_dataset(data_root: str | Path, folder: Path) -> Dataset | None:
    """Generate the held-out scenes into ``folder``; None when the shared backgrounds are absent."""
    sim = _sim()
    root = Path(data_root)
    cities = {c: root / "oscd" / c for c in sim.HELDOUT_CITIES}
    eo = root / "s2_background" / "eolearn_slovenia"
    if not all((c / "change.tif").is_file() for c in cities.values()) or not (eo / "DEM.npy").is_file():
        return None
    scenes = np.load(eo / "REFERENCE_SCENES.npy").astype(np.float32)  # (5, H, W, 13), L1C band order
    order = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
    eo_back = np.transpose(scenes[sim.HELDOUT_EOLEARN][..., [order.index(b) for b in BANDS]], (2, 0, 1))
    eo_dem = np.load(eo / "DEM.npy")[..., 0].astype(np.float32)
    backs = {name: _city_back(path) for name, path in cities.items()}
    cases = []
    for name, x, label, dem in sim.heldout_scenes(backs, eo_back, eo_dem):
        case_dir = folder / name
        case_dir.mkdir(parents=True, exist_ok=True)
        dn = np.clip(np.round(x[:12] * 10000.0), 1, 65535).astype(np.uint16)
        inputs = {
            "before": _write(case_dir / "before.tif", dn[:6], gdal.GDT_UInt16, BANDS),
            "after": _write(case_dir / "after.tif", dn[6:], gdal.GDT_UInt16, BANDS),
            "dem": _write(case_dir / "dem.tif", dem.astype(np.float32), gdal.GDT_Float32),
        }
        label_path = _write(case_dir / "label.tif", label, gdal.GDT_Byte)
        cases.append(Case(name, inputs, label_path, (1,), (255,)))
    return Dataset(PATH, KIND, cases)
