"""Every date on a ground grid before pairing: GCP-only rasters are warped, ungeoreferenced ones refused.

A raster georeferenced by ground control points only (Sentinel-1 GRD measurement files in radar
geometry, many scanned maps and exports) has no geotransform: compared pixel by pixel with
another date, the same (row, col) is not the same place, and areas would come from 1 m²
identity pixels. Such a raster is warped onto a ground grid through its GCPs (GDAL warp,
virtual VRT: thin-plate spline with 10 or more GCPs, else a first-order polynomial), and the
outputs carry that georeferencing. A raster with neither geotransform nor GCPs is refused in one
sentence unless the user says the dates are pixel-aligned images (then areas are unknown).
"""

from __future__ import annotations

from osgeo import gdal, osr

from ..errors import InputError
from ..progress import Log, no_log

TPS_MIN_GCPS = 10


def has_geotransform(ds: gdal.Dataset) -> bool:
    """True when ``ds`` has a real geotransform (not GDAL's default identity)."""
    return ds.GetGeoTransform(can_return_null=True) is not None


def _copy_band_facts(source: gdal.Dataset, target: gdal.Dataset) -> None:
    """Band descriptions, metadata, scale/offset and the dataset's metadata survive the warp."""
    target.SetMetadata(source.GetMetadata() or {})
    for index in range(1, source.RasterCount + 1):
        src, dst = source.GetRasterBand(index), target.GetRasterBand(index)
        dst.SetDescription(src.GetDescription())
        dst.SetMetadata(src.GetMetadata() or {})
        if src.GetScale() not in (None, 1.0) or src.GetOffset() not in (None, 0.0):
            dst.SetScale(src.GetScale() or 1.0)
            dst.SetOffset(src.GetOffset() or 0.0)


_INTEGER_LIMITS = {
    gdal.GDT_Byte: (0, 255),
    gdal.GDT_UInt16: (0, 65535),
    gdal.GDT_Int16: (-32768, 32767),
    gdal.GDT_UInt32: (0, 4294967295),
    gdal.GDT_Int32: (-2147483648, 2147483647),
}


def _outside_value(ds: gdal.Dataset) -> tuple[float | None, float | None]:
    """(the source's no-data value, the value the warp writes outside the swath): the source's own flag, NaN
    for float data, else the first of 0 and the type's limits that no band uses, so that the corners of a
    rotated swath's bounding box are no data and never read as pixels."""
    band = ds.GetRasterBand(1)
    if band.GetNoDataValue() is not None:
        return band.GetNoDataValue(), band.GetNoDataValue()
    limits = _INTEGER_LIMITS.get(band.DataType)
    if limits is None:
        return None, float("nan")
    used = [
        ds.GetRasterBand(i).ReadAsArray(buf_xsize=min(ds.RasterXSize, 512), buf_ysize=min(ds.RasterYSize, 512))
        for i in range(1, ds.RasterCount + 1)
    ]
    for candidate in (0, limits[1], limits[0]):
        if not any((values == candidate).any() for values in used):
            return None, float(candidate)
    return None, None


def georeferenced(
    ds: gdal.Dataset, label: str, pixel_aligned: bool = False, resampling: str = "bilinear", log: Log = no_log
) -> gdal.Dataset:
    """``ds`` on a ground grid: itself when it has a geotransform, a GCP warp when it has GCPs only.

    Raises :class:`InputError` for a raster with neither, unless ``pixel_aligned`` (the user says the
    dates are images on one pixel grid; it is then used as it is and areas are unknown).
    """
    if has_geotransform(ds):
        return ds
    count = ds.GetGCPCount()
    if count >= 3:
        tps = count >= TPS_MIN_GCPS
        method = f"thin-plate spline through {count} GCPs" if tps else f"first-order polynomial through {count} GCPs"
        source_nodata, outside = _outside_value(ds)
        options = gdal.WarpOptions(
            format="VRT",
            dstSRS=ds.GetGCPProjection() or None,
            srcNodata=source_nodata,
            dstNodata=outside,
            tps=tps,
            polynomialOrder=None if tps else 1,
            resampleAlg=resampling,
            multithread=False,
        )
        warped = gdal.Warp("", ds, options=options)
        _copy_band_facts(ds, warped)
        srs = osr.SpatialReference(wkt=warped.GetProjection()) if warped.GetProjection() else None
        crs = (srs.GetAuthorityName(None) or "") + ":" + (srs.GetAuthorityCode(None) or "") if srs else "unknown CRS"
        gt = warped.GetGeoTransform()
        log(
            f"The {label} is georeferenced by ground control points only (radar geometry or an unrectified "
            f"export): warped onto a {warped.RasterXSize} x {warped.RasterYSize} ground grid in {crs.strip(':')} "
            f"of {abs(gt[1]):.3g} x {abs(gt[5]):.3g} units ({method}, {resampling})."
        )
        return warped
    if pixel_aligned:
        log(f"The {label} has no georeferencing: used as a pixel-aligned image (areas are unknown).")
        return ds
    raise InputError(
        f"The {label} has no georeferencing (neither a geotransform nor ground control points), so it cannot be "
        "put on the ground: georeference it first (e.g. terrain correction in SNAP, or gdalwarp), or tick "
        "'pixel-aligned images' (PIXEL_ALIGNED=true) if it is a single image or every date is on the same pixel "
        "grid (areas are then unknown)."
    )
