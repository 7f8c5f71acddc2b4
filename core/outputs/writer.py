"""Streaming GeoTIFF outputs written under a temporary name and moved into place on success.

A run writes every output block by block; only when all of them are complete are
they renamed to their final paths (with their ``.aux.xml`` category names and
``.qml`` style). A failure or a cancel removes every partial file.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..classes import ClassScheme
from ..errors import OutputError
from ..io.grid import Grid
from ..io.windows import Window
from .styles import qml_paletted, sidecar_path

gdal.UseExceptions()

_TYPES = {"Byte": gdal.GDT_Byte, "UInt16": gdal.GDT_UInt16, "Int16": gdal.GDT_Int16, "Float32": gdal.GDT_Float32}
TILE_PX = 256


@dataclass(frozen=True)
class RasterOutput:
    """What to write: path, type, nodata, band description and optional classes/style."""

    path: str
    data_type: str = "Float32"
    nodata: float | None = float("nan")
    description: str = ""
    scheme: ClassScheme | None = None
    qml: str | None = None

    def style_text(self) -> str | None:
        """The ``.qml`` to write next to the raster (paletted for classified outputs)."""
        if self.qml is not None:
            return self.qml
        return qml_paletted(self.scheme) if self.scheme is not None else None


def check_output_path(path: str) -> None:
    """Raise :class:`OutputError` unless ``path`` is a writable GeoTIFF destination."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise OutputError(f"The output folder '{folder}' does not exist.")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"The output folder '{folder}' is not writable.")
    if os.path.splitext(path)[1].lower() not in (".tif", ".tiff"):
        raise OutputError(f"Output '{path}' must be a GeoTIFF (.tif).")


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


class RasterWriter:
    """One single-band GeoTIFF written window by window to a temporary file."""

    def __init__(self, spec: RasterOutput, grid: Grid) -> None:
        check_output_path(spec.path)
        self.spec = spec
        self.grid = grid
        folder, name = os.path.split(os.path.abspath(spec.path))
        self.temp_path = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.partial.tif")
        dtype = _TYPES[spec.data_type]
        options = [
            "TILED=YES",
            f"BLOCKXSIZE={TILE_PX}",
            f"BLOCKYSIZE={TILE_PX}",
            "COMPRESS=DEFLATE",
            "ZLEVEL=1",
            f"PREDICTOR={3 if spec.data_type == 'Float32' else 2}",
            "BIGTIFF=IF_SAFER",
            "NUM_THREADS=ALL_CPUS",
        ]
        try:
            self._ds = gdal.GetDriverByName("GTiff").Create(
                self.temp_path, grid.width_px, grid.height_px, 1, dtype, options=options
            )
        except RuntimeError as exc:
            raise OutputError(f"Cannot create '{spec.path}': {exc}") from exc
        self._ds.SetGeoTransform(grid.geotransform)
        if grid.crs_wkt:
            self._ds.SetProjection(grid.crs_wkt)
        band = self._ds.GetRasterBand(1)
        if spec.nodata is not None:
            band.SetNoDataValue(spec.nodata)
        if spec.description:
            band.SetDescription(spec.description)
        if spec.scheme is not None:
            self._set_classes(band, spec.scheme)

    @staticmethod
    def _set_classes(band: gdal.Band, scheme: ClassScheme) -> None:
        table = gdal.ColorTable()
        names = [""] * (max(scheme.values) + 1)
        for info in scheme.classes:
            table.SetColorEntry(info.value, (*info.rgb(), 255))
            names[info.value] = info.name
        table.SetColorEntry(scheme.nodata, (0, 0, 0, 0))
        band.SetRasterColorTable(table)
        band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
        band.SetCategoryNames(names)

    def write(self, window: Window, array: np.ndarray) -> None:
        """Write ``array`` (shape ``height x width``) at ``window``."""
        self._ds.GetRasterBand(1).WriteArray(array, window.col_off, window.row_off)

    def finish(self) -> None:
        """Close the file and move it (and its sidecars) to the final path."""
        self._ds.FlushCache()
        self._ds = None
        final = self.spec.path
        for suffix in ("", ".aux.xml"):
            _remove(final + suffix)
        _remove(sidecar_path(final))
        if os.path.exists(self.temp_path + ".aux.xml"):
            os.replace(self.temp_path + ".aux.xml", final + ".aux.xml")
        os.replace(self.temp_path, final)
        style = self.spec.style_text()
        if style:
            with open(sidecar_path(final), "w", encoding="utf-8") as handle:
                handle.write(style)

    def discard(self) -> None:
        """Drop the temporary file; the final path is left untouched."""
        self._ds = None
        _remove(self.temp_path)
        _remove(self.temp_path + ".aux.xml")


class OutputSet:
    """Several outputs committed together: all appear on success, none on failure."""

    def __init__(self, grid: Grid, specs: dict[str, RasterOutput | None]) -> None:
        self.grid = grid
        self.writers: dict[str, RasterWriter] = {}
        try:
            for key, spec in specs.items():
                if spec is not None:
                    self.writers[key] = RasterWriter(spec, grid)
        except Exception:
            self.discard()
            raise

    def __contains__(self, key: str) -> bool:
        return key in self.writers

    def write(self, key: str, window: Window, array: np.ndarray) -> None:
        """Write a window of the output named ``key`` (ignored when not requested)."""
        writer = self.writers.get(key)
        if writer is not None:
            writer.write(window, array)

    def commit(self) -> None:
        """Move every output into place; if one cannot be, no temporary file stays behind."""
        pending = list(self.writers.values())
        try:
            while pending:
                pending[0].finish()
                pending.pop(0)
        except OSError as exc:
            for writer in pending:
                writer.discard()
            raise OutputError(f"Cannot write '{pending[0].spec.path}' ({exc.strerror or exc}).") from exc

    def discard(self) -> None:
        """Remove every partial output."""
        for writer in self.writers.values():
            writer.discard()

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if exc_type is None:
            self.commit()
        else:
            self.discard()
