"""Parameter declarations and helpers shared by several methods (reflectance, resampling, thresholds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..engine.threshold import THRESHOLD_METHODS
from ..errors import ParameterError
from ..io.grid import RESAMPLING
from ..io.masks import CLOUD_MASKS, MASK_HELP
from ..io.radiometry import DATE_RADIOMETRY_CHOICES, RADIOMETRY_CHOICES
from ..outputs.styles import diverging_stops, qml_pseudocolor
from .declaration import BandChoice, Choice, Flag, Number, Param

RESAMPLING_CHOICES = tuple((name, name) for name in RESAMPLING)


@dataclass(frozen=True)
class OpticalPairConfig:
    """How an optical method reads its two dates: reflectance conversion (``radiometry``; ``custom``
    uses ``custom_scale`` and ``custom_offset`` in reflectance units) with per-date overrides
    (``"same"`` = as ``radiometry``), resampling of the after image onto the before grid, dates on one
    pixel grid without georeferencing (areas unknown), and the cloud mask (the product's mask
    ``"auto"``, ``"none"``, or ukis-csmask's where the product has none ``"csmask"``)."""

    radiometry: str = "auto"
    custom_scale: float = 1.0
    custom_offset: float = 0.0
    resampling: str = "bilinear"
    pixel_aligned: bool = False
    radiometry_before: str = "same"
    radiometry_after: str = "same"
    cloud_mask: str = "auto"


def check_threshold_method(name: str) -> None:
    """Raise :class:`ParameterError` unless ``name`` is ``otsu``, ``ki`` (Kittler-Illingworth) or ``user``."""
    if name not in dict(THRESHOLD_METHODS):
        raise ParameterError(f"Unknown threshold method '{name}'.")


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


BEFORE_AFTER = (("BEFORE", "Before"), ("AFTER", "After"))  # image parameter and its label, per date


def bands(
    roles: Sequence[tuple[str, str, str]],
    dates: Sequence[tuple[str, str]] = BEFORE_AFTER,
    help: dict[str, str] | None = None,
    advanced: bool = False,
    optional: Sequence[str] = (),
    shown_as: dict[str, str] | None = None,
) -> tuple[Param, ...]:
    """Band parameters ``<IMAGE>_<NAME>_BAND`` ("<Date> <band> band (empty: detect)"), date by date, from
    ``(IMAGE, Date)`` rows of ``dates`` and ``(NAME, role, band)`` rows of ``roles``.

    ``help`` is keyed by role; roles in ``optional`` may be missing from an image; ``shown_as`` maps a
    role decided at run time to the role the panel detects for it.
    """
    help, shown_as = help or {}, shown_as or {}
    return tuple(
        BandChoice(
            f"{image}_{name}_BAND",
            f"{date} {band} band (empty: detect)",
            help.get(role, ""),
            advanced,
            parent=image,
            role=role,
            optional=role in optional,
            shown_as=shown_as.get(role, ""),
        )
        for image, date in dates
        for name, role, band in roles
    )


def before_after_reflectance() -> tuple[Param, ...]:
    """:func:`reflectance` for a method whose images are ``BEFORE`` and ``AFTER`` (all advanced)."""
    return reflectance(
        "Resampling of the after image onto the before grid",
        (("BEFORE", "before", "Before image"), ("AFTER", "after", "After image")),
    )


def diverging_style(lo: float, hi: float, lo_label: str, hi_label: str) -> str:
    """A blue-white-red ``.qml`` for a signed measure between ``lo`` and ``hi``."""
    return qml_pseudocolor(diverging_stops(lo, hi, lo_label, hi_label), lo, hi)


def masked_where(condition: np.ndarray, classes: np.ndarray, nodata: int) -> np.ndarray:
    """``classes`` (uint8) with ``nodata`` wherever ``condition`` is True (same shape)."""
    classes[condition] = nodata
    return classes
