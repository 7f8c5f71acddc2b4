"""Parameter declarations and helpers shared by several methods (reflectance, resampling, thresholds)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..engine.threshold import THRESHOLD_METHODS
from ..io.grid import RESAMPLING
from ..io.masks import CLOUD_MASKS, MASK_HELP
from ..io.radiometry import DATE_RADIOMETRY_CHOICES, RADIOMETRY_CHOICES
from ..outputs.styles import diverging_stops, qml_pseudocolor
from .declaration import BandChoice, Choice, Flag, Number, Param

RESAMPLING_CHOICES = tuple((name, name) for name in RESAMPLING)

RADIOMETRY_HELP = "How pixel values become reflectance (0-1); the log states the conversion used."
SCALE_HELP = "Used only with the custom conversion: reflectance = value x scale + offset."
OFFSET_HELP = "Used only with the custom conversion (reflectance units)."


def radiometry(advanced: bool = False, help: str = "") -> Choice:
    """``RADIOMETRY``: how stored values become reflectance (automatic by default)."""
    return Choice(
        "RADIOMETRY", "Reflectance conversion", help, advanced, field="radiometry", choices=RADIOMETRY_CHOICES,
        default="auto",
    )  # fmt: skip


def custom_scale(help: str = "") -> Number:
    """``SCALE``: the custom conversion's scale (advanced)."""
    return Number(
        "SCALE", "Custom scale (reflectance = value x scale + offset)", help, True, field="custom_scale", default=1.0
    )


def custom_offset(help: str = "") -> Number:
    """``OFFSET``: the custom conversion's offset in reflectance units (advanced)."""
    return Number("OFFSET", "Custom offset", help, True, field="custom_offset", default=0.0)


def resampling(label: str, help: str = "") -> Choice:
    """``RESAMPLING``: how the second date is put on the first date's grid (bilinear by default)."""
    return Choice("RESAMPLING", label, help, True, field="resampling", choices=RESAMPLING_CHOICES, default="bilinear")


def reflectance(
    resampling_label: str, dates: Sequence[tuple[str, str, str]], advanced: bool = True
) -> tuple[Param, ...]:
    """``RADIOMETRY`` (advanced unless said), ``SCALE``, ``OFFSET``, ``RESAMPLING``, then one conversion
    per date from ``(image parameter, date key, title)`` rows (``<IMAGE>_RADIOMETRY``, default: as
    ``RADIOMETRY``), so that a pair across the Sentinel-2 baseline change reads right."""
    per_date = tuple(
        Choice(
            f"{name}_RADIOMETRY",
            f"{title}: reflectance conversion (default: as above)",
            f"Overrides 'Reflectance conversion' for the {title.lower()} only, e.g. when the two dates lie on "
            "both sides of the Sentinel-2 baseline change (25 January 2022).",
            True,
            field=f"radiometry_{key}",
            choices=DATE_RADIOMETRY_CHOICES,
            default="same",
        )
        for name, key, title in dates
    )
    return (
        radiometry(advanced, RADIOMETRY_HELP),
        custom_scale(SCALE_HELP),
        custom_offset(OFFSET_HELP),
        resampling(resampling_label),
        *per_date,
    )


def pixel_aligned() -> Flag:
    """``PIXEL_ALIGNED``: dates without any georeferencing are used as images on one pixel grid."""
    return Flag(
        "PIXEL_ALIGNED",
        "The dates are pixel-aligned images without georeferencing (areas unknown)",
        "Only for images with neither a geotransform nor ground control points (photos, PNG chips) that cover "
        "the same ground pixel for pixel; otherwise such images are refused. Areas are then not reported.",
        True,
        field="pixel_aligned",
    )


def cloud_mask(help: str = MASK_HELP, advanced: bool = False) -> Choice:
    """``CLOUD_MASK``: the product's cloud mask (automatic), none, or ukis-csmask's when the product has none."""
    return Choice("CLOUD_MASK", "Cloud mask", help, advanced, field="cloud_mask", choices=CLOUD_MASKS, default="auto")


def threshold_method(default: str, advanced: bool = False, help: str = "") -> Choice:
    """``THRESHOLD_METHOD``: Otsu, Kittler-Illingworth or the user's value."""
    return Choice(
        "THRESHOLD_METHOD", "Threshold", help, advanced, field="threshold_method", choices=THRESHOLD_METHODS,
        default=default,
    )  # fmt: skip


def bands(
    specs: Sequence[tuple[str, str, str, str]],
    help: dict[str, str] | None = None,
    advanced: bool = False,
    optional: Sequence[str] = (),
    shown_as: dict[str, str] | None = None,
) -> tuple[Param, ...]:
    """Band parameters from ``(name, label, parent image parameter, role)`` rows.

    Roles in ``optional`` may be missing from an image; ``shown_as`` maps a role decided at run
    time to the role the panel detects for it.
    """
    help, shown_as = help or {}, shown_as or {}
    return tuple(
        BandChoice(
            name,
            label,
            help.get(name, ""),
            advanced,
            parent=parent,
            role=role,
            optional=role in optional,
            shown_as=shown_as.get(role, ""),
        )
        for name, label, parent, role in specs
    )


def diverging_style(lo: float, hi: float, lo_label: str, hi_label: str) -> str:
    """A blue-white-red ``.qml`` for a signed measure between ``lo`` and ``hi``."""
    return qml_pseudocolor(diverging_stops(lo, hi, lo_label, hi_label), lo, hi)


def masked_where(condition: np.ndarray, classes: np.ndarray, nodata: int) -> np.ndarray:
    """``classes`` (uint8) with ``nodata`` wherever ``condition`` is True (same shape)."""
    classes[condition] = nodata
    return classes
