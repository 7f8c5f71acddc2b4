"""Generators of the input situations users reported (../shared/cases), rebuilt in code for the tests.

Each function writes a case's inputs into a folder, following the case's own generator, and the
tests in ``test_input_cases.py`` assert the value a correct run produces.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from osgeo import gdal, osr

BURN_ROWS = slice(16, 48)  # the burned block of the 64 x 64 burn cases (rows and columns)


def write(
    path: Path | str,
    bands: Sequence[np.ndarray],
    geotransform: tuple[float, ...] | None,
    epsg: int | None = 32610,
    names: Sequence[str] | None = None,
    dtype: int = gdal.GDT_UInt16,
    nodata: float | None = None,
    metadata: dict[str, str] | None = None,
) -> str:
    """A GeoTIFF with band descriptions (no nodata flag unless given), like the cases' ``rasters.write``."""
    rows, cols = bands[0].shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, len(bands), dtype)
    if geotransform is not None:
        ds.SetGeoTransform(geotransform)
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    for i, data in enumerate(bands, start=1):
        band = ds.GetRasterBand(i)
        band.WriteArray(np.asarray(data))
        if names:
            band.SetDescription(names[i - 1])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    if metadata:
        ds.SetMetadata(metadata)
    ds = None
    return str(path)


def burn_truth() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reflectance (NIR, SWIR2) before and after: NIR 0.30 / SWIR2 0.10, a burned block 0.15 / 0.25."""
    nir, swir = np.full((64, 64), 0.30), np.full((64, 64), 0.10)
    post_nir, post_swir = nir.copy(), swir.copy()
    post_nir[BURN_ROWS, BURN_ROWS], post_swir[BURN_ROWS, BURN_ROWS] = 0.15, 0.25
    return nir, swir, post_nir, post_swir


def landsat_dn(reflectance: np.ndarray) -> np.ndarray:
    """Landsat Collection 2 Level-2 DN of a reflectance (DN x 0.0000275 - 0.2)."""
    return np.round((reflectance + 0.2) / 2.75e-5).astype(np.uint16)


def s2_dn(reflectance: np.ndarray, offset: int = 0) -> np.ndarray:
    """Sentinel-2 DN of a reflectance, with the baseline-04.00 offset (+1000) when ``offset``."""
    return np.round(reflectance * 10000 + offset).astype(np.uint16)


def safe_l2a(folder: Path, date: str, nir: np.ndarray, swir: np.ndarray, dn0_cols: int = 0) -> str:
    """A minimal Sentinel-2 L2A SAFE (baseline 05.09, JPEG2000 B8A/B12 with the +1000 offset) that GDAL's
    Sentinel-2 driver opens; ``dn0_cols`` first columns hold DN 0 (NO_DATA, no flag). Returns the
    20 m subdataset name (``SENTINEL2_L2A:.../MTD_MSIL2A.xml:20m:EPSG_32610``)."""
    n, ulx, uly = nir.shape[0], 600000, 4400040
    root = folder / f"S2B_MSIL2A_{date}T184919_N0509_R113_T10SEG_{date}T230000.SAFE"
    granule = f"L2A_T10SEG_A012345_{date}T185000"
    img = root / "GRANULE" / granule / "IMG_DATA" / "R20m"
    img.mkdir(parents=True)
    files = []
    for band, refl in (("B8A", nir), ("B12", swir)):
        dn = s2_dn(refl, 1000)
        dn[:, :dn0_cols] = 0
        stem = f"T10SEG_{date}T184919_{band}_20m"
        mem = gdal.GetDriverByName("MEM").Create("", n, n, 1, gdal.GDT_UInt16)
        mem.SetGeoTransform((ulx, 20, 0, uly, 0, -20))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(32610)
        mem.SetProjection(srs.ExportToWkt())
        mem.GetRasterBand(1).WriteArray(dn)
        gdal.GetDriverByName("JP2OpenJPEG").CreateCopy(str(img / f"{stem}.jp2"), mem, options=["REVERSIBLE=YES"])
        files.append(f"GRANULE/{granule}/IMG_DATA/R20m/{stem}")
    offsets = "".join(f'<BOA_ADD_OFFSET band_id="{i}">-1000</BOA_ADD_OFFSET>' for i in range(13))
    physical = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"]
    res = [60, 10, 10, 10, 20, 20, 20, 10, 20, 60, 60, 20, 20]
    spectral = "".join(
        f'<Spectral_Information bandId="{i}" physicalBand="{p}"><RESOLUTION>{r}</RESOLUTION></Spectral_Information>'
        for i, (p, r) in enumerate(zip(physical, res))
    )
    day = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    (root / "MTD_MSIL2A.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<n1:Level-2A_User_Product '
        'xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd"><n1:General_Info>'
        f"<Product_Info><PRODUCT_START_TIME>{day}T18:49:19.024Z</PRODUCT_START_TIME>"
        f"<PRODUCT_STOP_TIME>{day}T18:49:19.024Z</PRODUCT_STOP_TIME><PRODUCT_URI>{root.name}</PRODUCT_URI>"
        "<PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL><PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE>"
        "<PROCESSING_BASELINE>05.09</PROCESSING_BASELINE>"
        f'<Datatake datatakeIdentifier="GS2B_{date}T184919_012345_N05.09"><SPACECRAFT_NAME>Sentinel-2B'
        f"</SPACECRAFT_NAME><DATATAKE_SENSING_START>{day}T18:49:19.024Z</DATATAKE_SENSING_START></Datatake>"
        '<Query_Options completeSingleTile="true"><PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT></Query_Options>'
        '<Product_Organisation><Granule_List><Granule datastripIdentifier="DS" granuleIdentifier="TL" '
        f'imageFormat="JPEG2000">{"".join(f"<IMAGE_FILE>{f}</IMAGE_FILE>" for f in files)}</Granule>'
        "</Granule_List></Product_Organisation></Product_Info><Product_Image_Characteristics>"
        "<Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX>"
        "</Special_Values><Special_Values><SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT>"
        "<SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX></Special_Values><QUANTIFICATION_VALUES_LIST>"
        '<BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>'
        f"<BOA_ADD_OFFSET_VALUES_LIST>{offsets}</BOA_ADD_OFFSET_VALUES_LIST>"
        f"<Spectral_Information_List>{spectral}</Spectral_Information_List></Product_Image_Characteristics>"
        "</n1:General_Info></n1:Level-2A_User_Product>\n"
    )
    sizes = "".join(
        f'<Size resolution="{r}"><NROWS>{n * 20 // r}</NROWS><NCOLS>{n * 20 // r}</NCOLS></Size>' for r in (10, 20, 60)
    )
    positions = "".join(
        f'<Geoposition resolution="{r}"><ULX>{ulx}</ULX><ULY>{uly}</ULY><XDIM>{r}</XDIM><YDIM>-{r}</YDIM></Geoposition>'
        for r in (10, 20, 60)
    )
    (root / "GRANULE" / granule / "MTD_TL.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<n1:Level-2A_Tile_ID '
        'xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-2A_Tile_Metadata.xsd">'
        '<n1:General_Info><TILE_ID metadataLevel="Brief">TL</TILE_ID></n1:General_Info><n1:Geometric_Info>'
        '<Tile_Geocoding metadataLevel="Brief"><HORIZONTAL_CS_NAME>WGS84 / UTM zone 10N</HORIZONTAL_CS_NAME>'
        f"<HORIZONTAL_CS_CODE>EPSG:32610</HORIZONTAL_CS_CODE>{sizes}{positions}</Tile_Geocoding>"
        "</n1:Geometric_Info></n1:Level-2A_Tile_ID>\n"
    )
    return f"SENTINEL2_L2A:{root / 'MTD_MSIL2A.xml'}:20m:EPSG_32610"


def landsat_band_files(folder: Path, product: str, nir: np.ndarray, swir: np.ndarray) -> str:
    """USGS-style per-band files (fill 0 flagged, no descriptions, no scale), the MTL file, and the VRT
    stack a user builds with ``gdalbuildvrt -separate``; returns the VRT path."""
    gt = (500000, 30, 0, 4300020, 0, -30)
    files = []
    for band, refl in (("SR_B5", nir), ("SR_B7", swir)):
        path = folder / f"{product}_{band}.TIF"
        write(path, [landsat_dn(refl)], gt, nodata=0)
        files.append(str(path))
    (folder / f"{product}_MTL.txt").write_text(
        'GROUP = LANDSAT_METADATA_FILE\n  GROUP = PRODUCT_CONTENTS\n    SPACECRAFT_ID = "LANDSAT_9"\n'
        "  END_GROUP = PRODUCT_CONTENTS\n  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\n"
        "    REFLECTANCE_MULT_BAND_5 = 2.75E-05\n    REFLECTANCE_ADD_BAND_5 = -0.2\n"
        "    REFLECTANCE_MULT_BAND_7 = 2.75E-05\n    REFLECTANCE_ADD_BAND_7 = -0.2\n"
        "  END_GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS\nEND_GROUP = LANDSAT_METADATA_FILE\nEND\n"
    )
    vrt = str(folder / f"{product}_stack.vrt")
    gdal.BuildVRT(vrt, files, separate=True)
    return vrt


def grd_gcp(path: Path, col0_ground: int, flood: bool, angle_deg: float = 0.0) -> str:
    """A 120 x 120 Sentinel-1-GRD-like VV amplitude image in radar geometry: GCPs only, no geotransform.

    Water DN 30, land 300; a river in ground columns 40-49; with ``flood`` also ground columns 60-79,
    rows 30-69. ``col0_ground`` is the ground column of the frame's first pixel; ``angle_deg`` turns
    the swath on the ground (a descending pass is not north-up), so its bounding box has empty corners.
    """
    n, lon0, lat0, step = 120, 7.60, 45.10, 0.0001
    ground = np.arange(n) + col0_ground
    img = np.full((n, n), 300, np.uint16)
    img[:, (ground >= 40) & (ground <= 49)] = 30
    if flood:
        img[30:70][:, (ground >= 60) & (ground <= 79)] = 30
    ds = gdal.GetDriverByName("GTiff").Create(str(path), n, n, 1, gdal.GDT_UInt16)
    ds.GetRasterBand(1).WriteArray(img)
    ds.GetRasterBand(1).SetDescription("VV")
    cos, sin = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    gcps = [
        gdal.GCP(
            lon0 + ((c + col0_ground) * cos - r * sin) * step,
            lat0 - ((c + col0_ground) * sin + r * cos) * step,
            0.0,
            float(c),
            float(r),
        )
        for r in np.linspace(0, n, 5)
        for c in np.linspace(0, n, 5)
    ]
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    ds.SetGCPs(gcps, srs.ExportToWkt())
    ds = None
    return str(path)


def snap_s1(path: Path, flood: bool, rng: np.random.Generator) -> str:
    """A SNAP-exported Sentinel-1 pair date: bands ``Sigma0_VH_db``, ``Sigma0_VV_db`` (VH first), EPSG:4326."""
    n = 100
    vv, vh = np.full((n, n), -8.0), np.full((n, n), -15.0)
    vv[:, 40:45], vh[:, 40:45] = -22, -28
    if flood:
        vv[30:60, 60:90], vh[30:60, 60:90] = -21, -27
    bands = [(vh + rng.normal(0, 0.7, (n, n))).astype(np.float32), (vv + rng.normal(0, 0.7, (n, n))).astype(np.float32)]
    gt = (23.50, 0.0001, 0, 46.80, 0, -0.0001)
    return write(path, bands, gt, 4326, ["Sigma0_VH_db", "Sigma0_VV_db"], gdal.GDT_Float32)


def chdir_free(path: Path) -> str:
    """``path`` as a string that does not depend on the working folder."""
    return os.fspath(path.resolve())
