"""Terrain slope from a DEM, computed at the DEM's own resolution and put onto an image grid."""

from __future__ import annotations

import os

from osgeo import gdal, osr

from ..errors import InputError, NoOverlapError
from ..progress import Log, no_log
from .grid import Grid, grid_of, intersection_window, metres_per_degree, warp_to_grid
from .raster import BandReader, bounded_gdal_cache, open_raster


def _utm_epsg(lon: float, lat: float) -> int:
    zone = min(max(int((lon + 180.0) // 6.0) + 1, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def _metric_dem(dem: gdal.Dataset, dem_grid: Grid, log: Log) -> tuple[gdal.Dataset, float]:
    """The DEM with metric horizontal units, and the DEMProcessing scale (horizontal unit in metres).

    A projected DEM is used as it is (its linear unit gives the scale). A DEM in degrees is
    first warped (virtually, bilinear) to the UTM zone of its centre at about its own pixel
    size, because one metres-per-degree factor cannot hold for both axes away from the equator.
    """
    srs = dem_grid.srs()
    if srs is None or not srs.IsGeographic():
        return dem, (srs.GetLinearUnits() or 1.0) if srs is not None else 1.0
    xmin, ymin, xmax, ymax = dem_grid.bounds
    lon, lat = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    per_deg_x, per_deg_y = metres_per_degree(lat)
    pixel_m = min(dem_grid.pixel_width * per_deg_x, dem_grid.pixel_height * per_deg_y)
    epsg = _utm_epsg(lon, lat)
    target = osr.SpatialReference()
    target.ImportFromEPSG(epsg)
    warped = gdal.Warp(
        "",
        dem,
        options=gdal.WarpOptions(
            format="VRT",
            dstSRS=target.ExportToWkt(),
            xRes=pixel_m,
            yRes=pixel_m,
            resampleAlg="bilinear",
            outputType=gdal.GDT_Float32,
        ),
    )
    log(f"The DEM is in degrees: slope computed on a {pixel_m:.1f} m grid in UTM (EPSG:{epsg}).")
    return warped, 1.0


def slope_reader(dem_path: str, grid: Grid, folder: str, log: Log = no_log) -> BandReader:
    """Slope in degrees on ``grid``: computed on the DEM's own grid (elevations in metres), then resampled."""
    dem = open_raster(dem_path)
    dem_grid = grid_of(dem)
    if bool(dem_grid.crs_wkt) != bool(grid.crs_wkt):
        raise InputError("The DEM and the image must both have a coordinate reference system: assign one to both.")
    try:
        intersection_window(grid, dem_grid)
    except NoOverlapError as exc:
        raise NoOverlapError("The DEM does not overlap the image: give a DEM that covers the mapped area.") from exc
    metric, scale = _metric_dem(dem, dem_grid, log)
    path = os.path.join(folder, "slope.tif")
    with bounded_gdal_cache():  # without a cap GDAL's cache would fill with the whole DEM and slope
        gdal.DEMProcessing(
            path,
            metric,
            "slope",
            options=gdal.DEMProcessingOptions(
                computeEdges=True, scale=scale, format="GTiff", creationOptions=["TILED=YES"]
            ),
        )
    slope = open_raster(path)
    log("Slope computed on the DEM's own grid and resampled (bilinear) onto the image grid.")
    return BandReader(slope, 1, warp_to_grid(slope, grid, "bilinear"))
