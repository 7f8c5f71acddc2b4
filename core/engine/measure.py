"""Two-pass methods: stream a measure over the whole raster, threshold it once, then classify.

Pass 1 writes the measures (filtered backscatter, log-ratio, index, magnitude) to
temporary GeoTIFFs and keeps a regular sample of them; the automatic threshold
comes from that whole-raster sample. Pass 2 streams the measures back and
classifies them. Memory stays bounded by the block size.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator, Mapping, Sequence

from ..io.grid import Grid
from ..io.raster import BandReader, open_raster
from ..outputs.writer import OutputSet, RasterOutput
from ..progress import Progress
from .stream import Compute, stream
from .threshold import Sampler


@contextlib.contextmanager
def scratch_folder(near: Sequence[str | None]) -> Iterator[str]:
    """A temporary folder beside the first output (same disk), removed afterwards."""
    base = next((os.path.dirname(os.path.abspath(p)) for p in near if p), None)
    if base is None or not os.path.isdir(base) or not os.access(base, os.W_OK):
        base = None
    folder = tempfile.mkdtemp(prefix=".changelens-", dir=base)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_pass(
    grid: Grid,
    readers: Mapping[str, BandReader],
    compute: Compute,
    keys: Sequence[str],
    folder: str,
    progress: Progress,
    halo_px: int = 0,
    sampled: Sequence[str] | None = None,
) -> tuple[dict[str, BandReader], Sampler]:
    """First pass of a two-pass method: stream ``compute``, keep ``keys`` on disk, sample ``sampled``.

    ``compute`` returns core-window arrays (float32, NaN = no data) for at least ``keys`` and
    ``sampled`` (which defaults to ``keys``). The stored measures are Float32 GeoTIFFs in
    ``folder`` (a scratch folder the caller removes), returned as readers on ``grid``; the
    :class:`Sampler` holds a regular sample of every sampled key over the whole raster, so one
    threshold serves every block. Memory stays bounded by the block size.
    """
    sampler = Sampler(grid.width_px, grid.height_px)
    to_sample = tuple(keys if sampled is None else sampled)
    specs = {key: RasterOutput(os.path.join(folder, f"{key}.tif"), description=key) for key in keys}
    with OutputSet(grid, dict(specs)) as out:
        stream(grid, readers, compute, out, progress, halo_px=halo_px, sample=(sampler, to_sample))
    stored = {}
    for key, spec in specs.items():
        ds = open_raster(spec.path)
        stored[key] = BandReader(ds, 1)
    return stored, sampler
