"""One set of GDAL handles per thread: GDAL datasets are not thread-safe, files are.

A worker thread reads through its own handles on the same files (a file is opened again
by name; an in-memory VRT view, e.g. a crop or a warp onto the run's grid, is opened again
from its XML). Readers on one dataset share that thread's handle, so a pixel-interleaved
file is read once per block whichever bands are asked for. A dataset that cannot be
opened again (an in-memory raster, a VRT whose sources have no name) stays shared and
every read of it is serialised by one lock.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Mapping
from xml.etree import ElementTree

from osgeo import gdal

from .raster import BandReader


@dataclass(frozen=True)
class Recipe:
    """How to open a dataset again: its name or VRT XML, and the size a new handle must have."""

    source: str
    shape: tuple[int, int, int]  # columns, rows, bands


def recipe(ds: gdal.Dataset) -> Recipe | None:
    """The recipe to open ``ds`` again, or None when it has no name or XML (MEM rasters). Call it on the
    thread that owns ``ds``: it reads the dataset's metadata."""
    driver = ds.GetDriver().ShortName if ds.GetDriver() is not None else ""
    if driver == "MEM":
        return None
    source = ds.GetDescription()
    if driver == "VRT":
        xml = ds.GetMetadata("xml:VRT")
        source = _absolute_sources(xml[0], source) if xml else source
    return Recipe(source, (ds.RasterXSize, ds.RasterYSize, ds.RasterCount)) if source else None


def _absolute_sources(xml: str, vrt_path: str) -> str:
    """VRT XML whose sources relative to the VRT file (``relativeToVRT="1"``) name absolute paths instead: XML
    opened from a string has no folder to resolve them against."""
    if 'relativeToVRT="1"' not in xml or not vrt_path:
        return xml
    folder = os.path.dirname(os.path.abspath(vrt_path))
    root = ElementTree.fromstring(xml)
    for element in root.iter():
        if element.get("relativeToVRT") == "1" and element.text:
            element.text = os.path.join(folder, element.text)
            element.set("relativeToVRT", "0")
    return ElementTree.tostring(root, encoding="unicode")


def open_recipe(how: Recipe | None) -> gdal.Dataset | None:
    """A new read-only handle made from ``how`` (safe on any thread), or None when it cannot be opened
    or does not have the recorded size (e.g. a VRT whose sources have no name)."""
    if how is None:
        return None
    try:
        new = gdal.OpenEx(how.source, gdal.OF_RASTER | gdal.OF_READONLY)
    except RuntimeError:
        return None
    return new if new is not None and (new.RasterXSize, new.RasterYSize, new.RasterCount) == how.shape else None


def reopen(ds: gdal.Dataset) -> gdal.Dataset | None:
    """A new read-only handle on the pixels of ``ds``, or None when it cannot be opened again."""
    return open_recipe(recipe(ds))


class ThreadReaders:
    """Per-thread copies of ``readers`` (keys as given), made on a thread's first :meth:`get`.

    :meth:`close` drops every copy and its handles (call it before removing scratch files).
    """

    def __init__(self, readers: Mapping[str, BandReader]) -> None:
        self.readers = dict(readers)
        self._local = threading.local()
        self._guard = threading.Lock()
        # Read every dataset's recipe here, on the thread that owns the datasets: workers never touch them.
        self._recipes = {id(r.pixels): recipe(r.pixels) for r in self.readers.values()}
        self._locks = {key: threading.Lock() for key in self._recipes}
        # Cloud masks (one per date, shared by its bands): a copy per thread, through its own handle on the view.
        masks = {id(r.mask): r.mask for r in self.readers.values() if r.mask is not None}
        self._mask_recipes = {key: recipe(m.view) for key, m in masks.items()}
        self._mask_locks = {key: threading.Lock() for key in masks}
        self._made: list[dict[str, BandReader]] = []

    def get(self) -> dict[str, BandReader]:
        """This thread's readers: the same bands, windows and values, through its own handles."""
        mine = getattr(self._local, "readers", None)
        if mine is not None:
            return mine
        handles: dict[int, gdal.Dataset | None] = {}
        masks: dict[int, Any] = {}
        mine = {}
        for key, reader in self.readers.items():
            ds_id = id(reader.pixels)
            if ds_id not in handles:
                handles[ds_id] = open_recipe(self._recipes[ds_id])
            mask = None
            if reader.mask is not None:
                m_id = id(reader.mask)
                if m_id not in masks:
                    masks[m_id] = reader.mask.with_view(open_recipe(self._mask_recipes[m_id]), self._mask_locks[m_id])
                mask = masks[m_id]
            own = handles[ds_id]
            mine[key] = reader.with_pixels(own, mask) if own is not None else reader.with_lock(self._locks[ds_id], mask)
        self._local.readers = mine
        with self._guard:
            self._made.append(mine)
        return mine

    def close(self) -> None:
        """Release every thread's copies (their GDAL handles close)."""
        with self._guard:
            for made in self._made:
                made.clear()
            self._made.clear()
        self._local = threading.local()
