"""Shared parameter and logging helpers for the index-method algorithms (flood, landslide, change)."""

from __future__ import annotations

from typing import Any, Sequence

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
)

from ..core.outputs.products import MapProduct
from .base import raster_path


def advanced(alg: QgsProcessingAlgorithm, params: Sequence[QgsProcessingParameterDefinition]) -> None:
    """Add parameters flagged as advanced."""
    for param in params:
        param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        alg.addParameter(param)


def choice(
    alg: QgsProcessingAlgorithm,
    parameters: dict[str, Any],
    name: str,
    context: QgsProcessingContext,
    choices: Sequence[tuple[str, str]],
) -> str:
    """The key of an enum parameter built from ``(key, label)`` choices."""
    return choices[alg.parameterAsEnum(parameters, name, context)][0]


def report_product(feedback: QgsProcessingFeedback, product: MapProduct) -> dict[str, float]:
    """Log the threshold and the area of each class; return hectares per class name."""
    if product.threshold is not None:
        feedback.pushInfo(f"Threshold used on the {product.measure_name}: {product.threshold:.4g}.")
    areas: dict[str, float] = {}
    for row in product.stats.rows():
        feedback.pushInfo(
            f"{row['class_name']}: {row['area_ha']:.2f} ha ({row['pixels']} pixels, {row['percent']:.1f} %)"
        )
        areas[str(row["class_name"])] = float(row["area_ha"])  # type: ignore[arg-type]
    return areas


def optional_raster(
    alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str, context: QgsProcessingContext, label: str
) -> str | None:
    """The file path of an optional raster parameter, or None when it is empty."""
    if parameters.get(name) in (None, ""):
        return None
    return raster_path(alg, parameters, name, context, label)
