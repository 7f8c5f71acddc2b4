"""Models exported for the Deepness QGIS plugin: their metadata keys mapped onto :class:`ModelMeta`.

Deepness stores ``model_type``, ``class_names``, ``resolution`` (cm/px), ``tile_size`` or
``tiles_size``, ``tiles_overlap`` (percent), ``standardization_mean``/``std`` and
``seg_thresh``; it feeds the first C bands divided by 255, then standardised, and reads
the output as probabilities. ChangeLens does the same.
"""

from __future__ import annotations

from typing import Any, Mapping

from .meta_fields import class_scheme, fail, integer, number
from .schema import BandPrep, ModelMeta


def _deepness_list(doc: Mapping[str, Any], key: str, label: str) -> list[float] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, (int, float)) for v in value):
        raise fail(label, f"Deepness '{key}' must be a list of numbers.")
    return [float(v) for v in value]


def parse_deepness(doc: Mapping[str, Any], label: str, input_channels: int | None) -> ModelMeta:
    model_type = str(doc.get("model_type", "Segmentor"))
    if model_type.lower() != "segmentor":
        raise fail(label, f"Deepness model type '{model_type}' is not supported; ChangeLens runs segmentation models.")
    names = doc.get("class_names")
    if isinstance(names, dict):
        try:
            names = [names[k] for k in sorted(names, key=lambda k: int(k))]
        except ValueError:
            raise fail(label, "Deepness 'class_names' keys must be class numbers.") from None
    if not isinstance(names, list) or not names:
        raise fail(label, "Deepness 'class_names' must list the class names.")
    mean = _deepness_list(doc, "standardization_mean", label)
    std = _deepness_list(doc, "standardization_std", label)
    channels = input_channels or (len(mean) if mean else 3)
    if mean and len(mean) != channels or std and len(std) != channels:
        raise fail(label, f"Deepness standardisation lists must have one value per input channel ({channels}).")
    if std and any(s <= 0 for s in std):
        raise fail(label, "Deepness 'standardization_std' values must be greater than 0.")
    bands = tuple(
        BandPrep(f"#{i + 1}", 1.0 / 255.0, 0.0, False, None, mean[i] if mean else 0.0, std[i] if std else 1.0)
        for i in range(channels)
    )
    classes = [{"name": str(n)} for n in names]
    if len(classes) == 1:  # a single sigmoid channel: add the implicit background
        classes = [{"name": "background"}, {"name": str(names[0]), "background": False}]
    tile = integer(doc, "tile_size", label, None, minimum=8) or integer(doc, "tiles_size", label, 512, minimum=8)
    overlap_pct = number(doc, "tiles_overlap", label, 15)
    if not 0 <= overlap_pct <= 50:
        raise fail(label, f"Deepness 'tiles_overlap' is a percentage between 0 and 50 (got {overlap_pct}).")
    resolution_cm = number(doc, "resolution", label, None, positive=True)
    threshold = number(doc, "seg_thresh", label, None)
    scheme = class_scheme(classes, label)
    return ModelMeta(
        name=label,
        task="segmentation",
        scheme=scheme,
        layout="single",
        bands=bands,
        tile_size_px=tile,
        tile_overlap_px=int(round(tile * overlap_pct / 100.0)),
        output_kind="probabilities",
        activation="none",
        threshold=threshold if threshold is not None and len(scheme.classes) == 2 and 0 < threshold < 1 else None,
        pixel_size_m=resolution_cm / 100.0 if resolution_cm else None,
        source="deepness",
    )
