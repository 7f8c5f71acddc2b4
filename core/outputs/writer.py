"""Streaming GeoTIFF outputs, staged by a :class:`~.transaction.Transaction` and committed together.

A run writes every output block by block to its staged path; only when all of them are
complete do they move to their final paths (with their ``.aux.xml`` category names and
``.qml`` style). A failure or a cancel removes every staged file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..classes import ClassScheme
from ..errors import OutputError
from ..io.grid import Grid
from ..io.windows import Window
from .styles import qml_paletted, sidecar_path
from .transaction import Transaction

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
    options: tuple[str, ...] | None = None  # GeoTIFF creation options (None: :func:`creation_options`)

    def style_text(self) -> str | None:
        """The ``.qml`` to write next to the raster (paletted for classified outputs)."""
        if self.qml is not None:
            return self.qml
        return qml_paletted(self.scheme) if self.scheme is not None else None


def check_output_path(path: str) -> None:
    """Raise :class:`OutputError` unless ``path`` names a GeoTIFF (``.tif``/``.tiff``)."""
    if os.path.splitext(path)[1].lower() not in (".tif", ".tiff"):
        raise OutputError(f"Output '{path}' must be a GeoTIFF (.tif).")


TILING = ("TILED=YES", f"BLOCKXSIZE={TILE_PX}", f"BLOCKYSIZE={TILE_PX}", "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS")


def creation_options(data_type: str) -> list[str]:
    """GeoTIFF creation options of every ChangeLens raster: 256 px tiles and DEFLATE (read by every GDAL).

    Float measures: fast DEFLATE with the floating-point predictor. Class rasters: fast DEFLATE without
    a predictor (differences of class codes compress worse than the codes, and cost time).
    """
    predictor = ["PREDICTOR=3"] if data_type == "Float32" else []
    return [*TILING, "COMPRESS=DEFLATE", "ZLEVEL=1", *predictor]


def scratch_options() -> tuple[str, ...]:
    """Creation options of temporary measures that the same run reads back: ZSTD level 1 (cheapest to write
    and read) when this GDAL has it, else no compression; never seen by another program."""
    have = gdal.GetDriverByName("GTiff").GetMetadataItem("DMD_CREATIONOPTIONLIST") or ""
    return (*TILING, "COMPRESS=ZSTD", "ZSTD_LEVEL=1") if "ZSTD" in have else (*TILING, "COMPRESS=NONE")


class RasterWriter:
    """One single-band GeoTIFF written window by window at ``path`` (a staged path during a run)."""

    def __init__(self, spec: RasterOutput, grid: Grid, path: str) -> None:
        self.spec = spec
        self.grid = grid
        self.path = path
        try:
            self._ds = gdal.GetDriverByName("GTiff").Create(
                path,
                grid.width_px,
                grid.height_px,
                1,
                _TYPES[spec.data_type],
                options=list(spec.options) if spec.options is not None else creation_options(spec.data_type),
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
        """Write a window of the output named ``key`` (``array`` of shape ``(window.height, window.width)``);
        ignored when that output was not requested.
        """
        self._ds.GetRasterBand(1).WriteArray(array, window.col_off, window.row_off)

    def finish(self) -> None:
        """Close the file (GDAL writes the ``.aux.xml``) and write the ``.qml`` style beside it."""
        if self._ds is None:
            return
        self._ds.FlushCache()
        self._ds = None
        style = self.spec.style_text()
        if style:
            with open(sidecar_path(self.path), "w", encoding="utf-8") as handle:
                handle.write(style)

    def close(self) -> None:
        """Release the file without finishing it (the transaction removes it)."""
        self._ds = None


class OutputSet:
    """Several rasters of one run: all appear on success, none on failure or cancel.

    With a ``transaction`` (the run's), each spec's path is reserved in it and the files
    move into place when the whole run commits. Without one, the set is its own
    transaction: it commits when the ``with`` block ends normally.
    """

    def __init__(
        self, grid: Grid, specs: dict[str, RasterOutput | None], transaction: Transaction | None = None
    ) -> None:
        self.grid = grid
        self.own = transaction is None
        self.transaction = transaction or Transaction()
        self.writers: dict[str, RasterWriter] = {}
        try:
            wanted = {key: spec for key, spec in specs.items() if spec is not None}
            staged = {}
            for key, spec in wanted.items():
                check_output_path(spec.path)
                staged[key] = self.transaction.path_for(spec.path, f"output '{os.path.basename(spec.path)}'")
            for key, spec in wanted.items():
                self.writers[key] = RasterWriter(spec, grid, staged[key])
        except Exception:
            self.discard()
            raise

    def __contains__(self, key: str) -> bool:
        return key in self.writers

    def staged_path(self, key: str) -> str:
        """Where output ``key`` is being written until the transaction commits."""
        return self.writers[key].path

    def write(self, key: str, window: Window, array: np.ndarray) -> None:
        """Write a window of the output named ``key`` (``array`` of shape ``(window.height, window.width)``);
        ignored when that output was not requested.
        """
        writer = self.writers.get(key)
        if writer is not None:
            writer.write(window, array)

    def finish(self) -> None:
        """Close every file so that it is complete on disk (still staged)."""
        for writer in self.writers.values():
            writer.finish()

    def commit(self) -> None:
        """Finish every output and, when the set owns its transaction, move them into place."""
        self.finish()
        if self.own:
            self.transaction.commit()

    def discard(self) -> None:
        """Release every file; an owned transaction removes them now, a shared one when the run fails."""
        for writer in self.writers.values():
            writer.close()
        if self.own:
            self.transaction.discard()

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if exc_type is None:
            self.commit()
        else:
            self.discard()
