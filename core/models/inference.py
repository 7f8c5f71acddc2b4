"""Run an ONNX segmentation or change model over rasters of any size, tile row by tile row.

The images are aligned on the first one's grid (optionally resampled to the model's
pixel size), their bands are found by description from the model metadata and
prepared as it says, and overlapping tiles go through onnxruntime in batches
(:mod:`.streaming`: batches are read and prepared on one thread and blended and written
on another while the model runs the next one).
Class probabilities are blended with :mod:`tiling` weights into accumulators that
hold one band of tiles only: as soon as the rows above the next tile row are final
they are classified and written, so memory depends on the tile size and raster
width, never on the raster height. All-no-data tiles are skipped.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Sequence

from ..engine.measure import scratch_folder
from ..errors import InputError, ParameterError
from ..gdal_state import gdal_exceptions
from ..io.grid import RESAMPLING
from ..io.raster import bounded_gdal_cache
from ..outputs.products import MapProduct, with_final_paths
from ..outputs.stats import ClassStats
from ..outputs.styles import qml_pseudocolor
from ..outputs.transaction import Transaction
from ..outputs.writer import OutputSet, RasterOutput, check_output_path
from ..progress import Log, Progress, no_log, no_progress, report
from .graph import check_graph, input_channels
from .inputs import DATE_LABELS, PreparedInputs, missing_dem_message, prepare_inputs
from .meta import ModelMeta, read_model_metadata, with_overrides
from .runtime import device_label, get_session
from .streaming import stream_tiles

GDAL_CACHE_BYTES = 64 << 20


@dataclass(frozen=True)
class InferenceConfig:
    """Run-time choices; None means 'as the model metadata says'."""

    device: str = "cpu"
    threads: int = 0
    tile_size_px: int | None = None
    tile_overlap_px: int | None = None
    threshold: float | None = None
    batch_size: int = 4
    resample_to_model: bool = False
    resampling: str = "bilinear"
    band_numbers: tuple[int, ...] | None = None
    radiometry: str = "auto"  # how stored values become reflectance, for models that take reflectance
    date_radiometry: tuple[str, ...] = ()  # per date: "same" (as radiometry) or a choice of its own
    pixel_aligned: bool = False  # images without georeferencing on one pixel grid (areas unknown)
    cloud_mask: str = "auto"  # the images' own cloud mask ("auto"), "none", or ukis-csmask's where none ("csmask")

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ParameterError("The batch size must be 1 or more.")
        if self.threads < 0:
            raise ParameterError("The thread count must be 0 (automatic) or more.")
        if self.tile_size_px is not None and self.tile_size_px < 8:
            raise ParameterError("The tile size must be at least 8 pixels.")
        if self.tile_overlap_px is not None and self.tile_overlap_px < 0:
            raise ParameterError("The tile overlap must be 0 or more pixels.")
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise ParameterError("The threshold must be a probability between 0 and 1.")
        if self.band_numbers is not None and any(b < 1 for b in self.band_numbers):
            raise ParameterError("Band numbers start at 1.")
        if self.resampling not in RESAMPLING:
            raise ParameterError(f"Unknown resampling '{self.resampling}'; use one of {', '.join(RESAMPLING)}.")


@dataclass(frozen=True)
class InferenceOutputs:
    """Output paths: the class raster and an optional probability raster."""

    classes: str
    probability: str | None = None


def _apply_overrides(meta: ModelMeta, config: InferenceConfig, label: str) -> ModelMeta:
    tile = config.tile_size_px or meta.tile_size_px
    overlap = config.tile_overlap_px if config.tile_overlap_px is not None else min(meta.tile_overlap_px, tile // 2)
    if overlap * 2 > tile:
        raise ParameterError(f"The tile overlap ({overlap} px) must be at most half the tile size ({tile} px).")
    if config.threshold is not None and meta.class_count != 2:
        raise ParameterError(f"A threshold applies to two-class models only; model '{label}' has {meta.class_count}.")
    return with_overrides(meta, tile_size_px=tile, tile_overlap_px=overlap, threshold=config.threshold)


def measure_name(meta: ModelMeta) -> str:
    """What the probability raster holds."""
    if meta.class_count == 2:
        return f"probability of {meta.scheme.classes[1].name}"
    return "probability of the predicted class"


def _outputs(meta: ModelMeta, outputs: InferenceOutputs) -> dict[str, RasterOutput | None]:
    title = measure_name(meta)
    style = qml_pseudocolor([(0.0, "#f7f7f7", "0"), (0.5, "#fdae61", "0.5"), (1.0, "#d7191c", "1")], 0.0, 1.0)
    return {
        "classes": RasterOutput(outputs.classes, "Byte", meta.scheme.nodata, f"{meta.name}: classes", meta.scheme),
        "probability": outputs.probability and RasterOutput(outputs.probability, description=title, qml=style) or None,
    }


def run_model(
    model_path: str,
    images: Sequence[str],
    outputs: InferenceOutputs,
    config: InferenceConfig = InferenceConfig(),
    progress: Progress = no_progress,
    log: Log = no_log,
    dem: str | None = None,
    transaction: Transaction | None = None,
) -> MapProduct:
    """Classify ``images`` (one, or before and after) with the ONNX model at ``model_path``.

    ``dem`` (elevation in metres) feeds models whose metadata lists ``terrain`` channels. The
    rasters are staged in ``transaction`` (then the product's paths are the staged ones and the
    caller commits); without one, the call commits its own. Raises
    :class:`~changelens.core.errors.ModelError`, :class:`~changelens.core.errors.InputError`,
    :class:`~changelens.core.errors.OutputError` or :class:`~changelens.core.errors.CancelledError`.
    """
    with gdal_exceptions():
        if transaction is not None:
            return _run_model(model_path, images, outputs, config, progress, log, dem, transaction)
        with Transaction() as own:
            product = _run_model(model_path, images, outputs, config, progress, log, dem, own)
        return with_final_paths(product, own)


def _run_model(
    model_path: str,
    images: Sequence[str],
    outputs: InferenceOutputs,
    config: InferenceConfig,
    progress: Progress,
    log: Log,
    dem: str | None,
    transaction: Transaction,
) -> MapProduct:
    started = time.perf_counter()
    for key, path in (("classes", outputs.classes), ("probability", outputs.probability)):
        if path:
            check_output_path(path)
            transaction.path_for(path, f"{key} output")
    label = os.path.basename(model_path)
    session, reused = get_session(model_path, config.device, config.threads)
    log(
        f"onnxruntime providers: {', '.join(session.get_providers())} (device: {device_label(config.device)}, "
        f"threads: {config.threads or 'automatic'}{', cached session' if reused else ''})."
    )
    meta = read_model_metadata(model_path, input_channels(session))
    meta = _apply_overrides(meta, config, label)
    io = check_graph(meta, session, label)
    batch_size = min(config.batch_size, io.max_batch or config.batch_size)
    if meta.terrain and not dem:
        raise InputError(missing_dem_message(meta, meta.name))
    log(meta.summary())
    if meta.ignored_keys:
        log(f"Metadata keys not used by ChangeLens (check for typos): {', '.join(meta.ignored_keys)}.")
    if dem and not meta.terrain:
        log(f"Model '{meta.name}' takes no terrain channel: the DEM is not used.")
    stats = ClassStats(meta.scheme)
    with scratch_folder([outputs.classes]) as folder:
        with bounded_gdal_cache():  # reading the inputs samples decimated whole bands (validity, radiometry)
            inputs = prepare_inputs(
                meta,
                images,
                meta.name,
                config.band_numbers,
                config.resample_to_model,
                config.resampling,
                log,
                dem if meta.terrain else None,
                folder,
                config.radiometry,
                config.date_radiometry,
                config.pixel_aligned,
                config.cloud_mask,
            )
        reading, roles = _reading(meta, images, inputs)
        with OutputSet(inputs.grid, _outputs(meta, outputs), transaction) as out:
            report(progress, 0.0)
            with bounded_gdal_cache(GDAL_CACHE_BYTES):
                tiles = stream_tiles(
                    meta, io, session, inputs, out, stats, batch_size, label, lambda f: report(progress, f)
                )
            staged = {key: out.staged_path(key) for key in ("classes", "probability") if key in out}
        del inputs  # release the slope raster before its scratch folder goes
    log(f"{tiles[0]} tile(s) run through the model, {tiles[1]} skipped (no data).")
    names = DATE_LABELS[meta.dates]
    return MapProduct(
        title=meta.name,
        class_raster=staged["classes"],
        scheme=meta.scheme,
        stats=stats,
        measure_raster=staged.get("probability"),
        measure_name=measure_name(meta),
        threshold=meta.threshold,
        reading=reading,
        roles=roles,
        inputs=tuple(zip(names, (str(p) for p in images))) + ((("dem", str(dem)),) if meta.terrain else ()),
        parameters=(
            ("model", label),
            ("model version", meta.version or "?"),
            ("device", f"{device_label(config.device)} ({', '.join(session.get_providers())})"),
            ("tile size (px)", str(meta.tile_size_px)),
            ("tile overlap (px)", str(meta.tile_overlap_px)),
            ("threshold", "argmax" if meta.threshold is None else f"{meta.threshold:g}"),
        ),
        seconds=time.perf_counter() - started,
    )


def _reading(meta: ModelMeta, images: Sequence[str], inputs: PreparedInputs) -> tuple[tuple, tuple]:
    """How each image was read (as logged: georeferencing, model band per input band, conversion, no data);
    and per image the true-colour bands read, by name, for the report's previews."""
    reading = [(label[:1].upper() + label[1:], text) for label, text in inputs.used]
    roles = []
    for path, readers in zip(images, inputs.readers):
        named = {r.name.lower(): r.index for r in readers}
        roles.append((str(path), tuple((role, named[name]) for role, name in _RGB_NAMES if name in named)))
    return tuple(reading), tuple(roles)


_RGB_NAMES = (("red", "b4"), ("red", "b04"), ("green", "b3"), ("green", "b03"), ("blue", "b2"), ("blue", "b02"))
