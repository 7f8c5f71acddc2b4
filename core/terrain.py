"""Terrain slope from a DEM, computed in the DEM's own CRS and put onto an image grid."""

from __future__ import annotations

import os

from osgeo import gdal

from .errors import InputError, NoOverlapError
from .grid import Grid, grid_of, intersection_window, warp_to_grid
from .pair import Log, no_log
from .raster import BandReader, open_raster

gdal.UseExceptions()

METRES_PER_DEGREE = 111120.0


def slope_reader(dem_path: str, grid: Grid, folder: str, log: Log = no_log) -> BandReader:
    """Slope in degrees on ``grid``: computed on the DEM's grid (horizontal units from its CRS), then warped.

    A DEM in a geographic CRS uses the GDAL convention of 111120 m per degree;
    elevations are taken as metres.
    """
    dem = open_raster(dem_path)
    dem_grid = grid_of(dem)
    if bool(dem_grid.crs_wkt) != bool(grid.crs_wkt):
        raise InputError("The DEM and the image must both have a coordinate reference system: assign one to both.")
    try:
        intersection_window(grid, dem_grid)
    except NoOverlapError as exc:
        raise NoOverlapError("The DEM does not overlap the image: give a DEM that covers the mapped area.") from exc
    scale = 1.0
    srs = dem_grid.srs()
    if srs is not None:
        if srs.IsGeographic():
            scale = METRES_PER_DEGREE
        else:
            scale = srs.GetLinearUnits() or 1.0
    path = os.path.join(folder, "slope.tif")
    gdal.DEMProcessing(
        path,
        dem,
        "slope",
        options=gdal.DEMProcessingOptions(
            computeEdges=True, scale=scale, format="GTiff", creationOptions=["TILED=YES"]
        ),
    )
    slope = open_raster(path)
    unit = "degrees of latitude/longitude" if scale == METRES_PER_DEGREE else "metres"
    log(f"Slope computed from the DEM on its own grid ({unit} horizontally) and resampled onto the image grid.")
    return BandReader(slope, 1, warp_to_grid(slope, grid, "bilinear"))
