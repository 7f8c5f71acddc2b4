"""What a run asks for and what it has opened: plain values passed between the pipeline and a method."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..io.grid import Grid
from ..io.raster import BandReader, BandSpec


@dataclass
class Opened:
    """The inputs of one run, validated and aligned on one grid.

    ``readers`` map ``"<role>_<date>"`` (and ``"slope"`` with a DEM) to band readers on
    ``grid``; ``used`` lists, per image title, the bands and conversions chosen (for the
    log and the report); ``details`` holds method-specific choices (index, scale, bands).
    """

    grid: Grid
    readers: dict[str, BandReader]
    inputs: dict[str, str]
    used: list[tuple[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    keep: list[Any] = field(default_factory=list)  # datasets that must outlive the readers
    config: Any = None  # the method's config adjusted to the data (e.g. defaults by pixel size), if it was


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs, as plain values (no QGIS).

    ``images`` maps input keys (``before``, ``after``, ``dem``) to paths (None = not given);
    ``bands`` maps a date key to ``{role: band number or name}`` chosen by the user;
    ``outputs`` maps raster output keys to paths (None = skip); ``config`` is the method's
    configuration dataclass.
    """

    images: Mapping[str, str | None]
    config: Any
    outputs: Mapping[str, str | None]
    bands: Mapping[str, Mapping[str, BandSpec | None]] = field(default_factory=dict)
