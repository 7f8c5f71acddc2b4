"""Sentinel-1 backscatter: what scale the values are in, and conversion to dB.

Every SAR method works on dB (or, for uncalibrated 8-bit display images, on the
display values, which a linear stretch of dB makes proportional to dB). The
scale is detected only where the values leave no doubt; otherwise the user says.
Speckle filters are in :mod:`changelens.core.engine.filters`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from ..errors import EmptyDataError, ParameterError
from .raster import BandReader

SAR_SCALES = (
    ("auto", "Automatic (detect; stops and asks when the values are ambiguous)"),
    ("db", "Calibrated backscatter in dB"),
    ("power", "Calibrated backscatter, linear power (sigma0)"),
    ("amplitude", "Calibrated backscatter, linear amplitude (sqrt of sigma0)"),
    ("display8", "Uncalibrated 8-bit display image (0-255, stretched)"),
)


@dataclass(frozen=True)
class ScaleCheck:
    """The scale a band is read in and why."""

    scale: str
    reason: str


def _value_summary(sample: np.ndarray) -> str:
    p1, p50, p99 = np.percentile(sample, [1, 50, 99])
    return f"1st/50th/99th percentiles {p1:.3g} / {p50:.3g} / {p99:.3g}"


def detect_scale(reader: BandReader, data_type: int, declared: str, label: str) -> ScaleCheck:
    """Check the declared scale against the values, or detect it; raise when it cannot be told.

    Declared dB data that is clearly not dB (an 8-bit image, or values that are all
    non-negative with a positive median) is refused rather than silently misread.
    """
    sample = reader.sample(512)
    if sample.size == 0:
        raise EmptyDataError(f"The {label} has no valid pixel (all no data).")
    summary = _value_summary(sample)
    p1, p50, p99 = (float(v) for v in np.percentile(sample, [1, 50, 99]))
    is_byte = data_type == gdal.GDT_Byte
    if declared == "db":
        if is_byte or (p1 >= 0.0 and p50 > 0.0):
            raise ParameterError(
                f"The {label} was declared as dB but its values are not dB ({summary}; calibrated sigma0 in dB "
                "is mostly negative): choose the scale that matches the file (linear power, amplitude or "
                "uncalibrated 8-bit display image)."
            )
        return ScaleCheck("db", f"dB as declared ({summary})")
    if declared in ("power", "amplitude"):
        if p1 < 0.0:
            raise ParameterError(
                f"The {label} was declared as linear {declared} but holds negative values ({summary}): "
                "it is probably in dB; choose dB."
            )
        return ScaleCheck(declared, f"linear {declared} as declared ({summary})")
    if declared == "display8":
        return ScaleCheck("display8", f"8-bit display values as declared ({summary}); thresholds are in DN")
    if declared != "auto":
        raise ParameterError(f"Unknown SAR scale '{declared}'.")
    if is_byte:
        return ScaleCheck(
            "display8",
            f"8-bit image: read as an uncalibrated display image ({summary}); thresholds are in DN "
            "(choose another scale if this is wrong)",
        )
    if p50 < 0.0:
        return ScaleCheck("db", f"values are mostly negative, read as dB ({summary})")
    raise ParameterError(
        f"Cannot tell the scale of the {label} from its values ({summary}): choose dB, linear power, "
        "amplitude or 8-bit display in the 'Input scale' parameter."
    )


def to_db(values: np.ndarray, scale: str) -> np.ndarray:
    """Values in the working scale: dB for calibrated data, unchanged for display images."""
    if scale in ("db", "display8"):
        return values
    out = np.full(values.shape, np.nan, np.float32)
    positive = values > 0
    factor = 10.0 if scale == "power" else 20.0
    out[positive] = factor * np.log10(values[positive])
    return out
