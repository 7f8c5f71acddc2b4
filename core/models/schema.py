"""The model metadata schema: keys, allowed values, and the validated :class:`ModelMeta` record.

Kept apart from the parsers (:mod:`.meta` for the ChangeLens schema, :mod:`.deepness` for
Deepness exports) so that both build the same record without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..classes import ClassScheme

SCHEMA_KEY = "changelens_schema"
SCHEMA_VERSION = 1
TASKS = ("change_detection", "segmentation", "burned_area", "burn_severity", "flood", "landslide", "land_cover")
LAYOUTS = ("single", "concat", "stacked", "separate")
TWO_DATE_LAYOUTS = ("concat", "stacked", "separate")
VALUES = ("stored", "reflectance")
NORMALIZATIONS = ("fixed", "per_scene")
OUTPUT_KINDS = ("logits", "probabilities")
ACTIVATIONS = ("softmax", "sigmoid", "none")
# Terrain channels a model may take after the images' bands, computed by ChangeLens from a DEM.
TERRAIN_CHANNELS = ("slope_deg",)
TERRAIN_LAYOUTS = ("single", "concat")
KNOWN_KEYS = (
    SCHEMA_KEY,
    "name",
    "task",
    "description",
    "classes",
    "layout",
    "input_names",
    "bands",
    "values",
    "preprocessing",
    "normalization",
    "fill_value",
    "tile_size_px",
    "tile_overlap_px",
    "pixel_size_m",
    "output",
    "threshold",
    "terrain",
    "version",
    "license",
    "training_data",
    "author",
    "url",
)


@dataclass(frozen=True)
class BandPrep:
    """One input band: its name (or ``#k`` for band k) and how its values are prepared.

    ``value * scale + offset`` -> optional ``10 * log10`` (dB) -> optional clip -> ``(v - mean) / std``.
    """

    band: str
    scale: float = 1.0
    offset: float = 0.0
    db: bool = False
    clip: tuple[float, float] | None = None
    mean: float = 0.0
    std: float = 1.0

    @property
    def index(self) -> int | None:
        """The 1-based band index for ``#k`` names, else None."""
        return int(self.band[1:]) if self.band.startswith("#") else None

    def scaled(self, values: np.ndarray) -> np.ndarray:
        """``values`` (any shape, float32) after scale, offset, dB and clip (everything before
        standardisation), in place when possible; same shape.
        """
        out = values
        if self.scale != 1.0:
            out *= np.float32(self.scale)
        if self.offset != 0.0:
            out += np.float32(self.offset)
        if self.db:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = 10.0 * np.log10(np.maximum(out, np.float32(1e-6)), dtype=np.float32)
        if self.clip is not None:
            np.maximum(out, np.float32(self.clip[0]), out=out)
            np.minimum(out, np.float32(self.clip[1]), out=out)
        return out

    def apply(self, values: np.ndarray, mean: float | None = None, std: float | None = None) -> np.ndarray:
        """The model-ready values (any shape, float32, in place); ``mean``/``std`` override the fixed ones
        (per-scene normalisation).
        """
        m = self.mean if mean is None else mean
        s = self.std if std is None else std
        if self.db or self.clip is not None:
            out = self.scaled(values)
            gain, bias = 1.0 / s, -m / s
        else:  # one fused affine pass: (v * scale + offset - mean) / std
            out = values
            gain, bias = self.scale / s, (self.offset - m) / s
        if gain != 1.0:
            out *= np.float32(gain)
        if bias != 0.0:
            out += np.float32(bias)
        return out


@dataclass(frozen=True)
class ModelMeta:
    """A validated model description: what it expects and how to read its output."""

    name: str
    task: str
    scheme: ClassScheme
    layout: str
    bands: tuple[BandPrep, ...]
    tile_size_px: int
    tile_overlap_px: int
    output_kind: str = "logits"
    activation: str = "softmax"
    threshold: float | None = None
    values: str = "stored"
    normalization: str = "fixed"
    fill_value: float = 0.0
    pixel_size_m: float | None = None
    input_names: tuple[str, ...] = ()
    output_name: str | None = None
    terrain: tuple[str, ...] = ()
    version: str = ""
    license: str = ""
    training_data: str = ""
    description: str = ""
    source: str = "changelens"
    ignored_keys: tuple[str, ...] = ()

    @property
    def dates(self) -> int:
        """How many images the model takes (1 or 2)."""
        return 2 if self.layout in TWO_DATE_LAYOUTS else 1

    @property
    def channels_per_date(self) -> int:
        """Bands read from each image."""
        return len(self.bands)

    @property
    def input_channels(self) -> int:
        """Channels of the (first) model input: the images' bands as the layout feeds them, then terrain."""
        per_input = self.channels_per_date * (2 if self.layout == "concat" else 1)
        return per_input + len(self.terrain)

    @property
    def class_count(self) -> int:
        """Number of classes in the class raster."""
        return len(self.scheme.classes)

    def summary(self) -> str:
        """One line for the log: name, task, layout, bands, tile."""
        names = ", ".join(b.band for b in self.bands)
        pixel = f", trained at {self.pixel_size_m:g} m" if self.pixel_size_m else ""
        terrain = f" + terrain {', '.join(self.terrain)} from the DEM" if self.terrain else ""
        return (
            f"Model '{self.name}' ({self.task}, {self.source} metadata, version {self.version or '?'}): "
            f"{self.dates} image(s), layout '{self.layout}', bands {names}{terrain}; tiles {self.tile_size_px} px with "
            f"{self.tile_overlap_px} px overlap{pixel}; classes: {', '.join(c.name for c in self.scheme.classes)}."
        )
