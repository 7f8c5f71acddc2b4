"""Enum values are stored as numbers in models, scripts and job files: they may only grow at the end.

Each Processing enum must list its core choices in core order, and the core keys must start with
the values pinned here. Renaming a label is fine; reordering, inserting or removing a choice fails.
"""

from __future__ import annotations

import pytest
from changelens.core.engine.filters import SPECKLE_FILTERS
from changelens.core.engine.threshold import THRESHOLD_METHODS
from changelens.core.io.grid import RESAMPLING
from changelens.core.io.masks import CLOUD_MASKS
from changelens.core.io.radiometry import DATE_RADIOMETRY_CHOICES, RADIOMETRY_CHOICES
from changelens.core.io.sar import SAR_SCALES
from changelens.core.methods.cva import NORMALISATIONS
from changelens.core.methods.flood_optical import WATER_INDICES
from changelens.core.methods.flood_sar import POLARISATIONS
from changelens.core.models.meta import LAYOUTS, TASKS
from changelens.core.models.runtime import DEVICES
from changelens.processing.model_metadata import KEEP
from qgis.core import QgsProcessingModelAlgorithm, QgsProcessingParameterEnum

RESAMPLING_CHOICES = tuple((name, name) for name in RESAMPLING)
PINNED = {
    "radiometry": (RADIOMETRY_CHOICES, ("auto", "s2_dn", "s2_dn_offset", "landsat_c2", "reflectance", "custom")),
    "date_radiometry": (
        DATE_RADIOMETRY_CHOICES,
        ("same", "auto", "s2_dn", "s2_dn_offset", "landsat_c2", "reflectance", "custom"),
    ),
    "resampling": (RESAMPLING_CHOICES, ("nearest", "bilinear", "cubic", "average")),
    "threshold": (THRESHOLD_METHODS, ("otsu", "ki", "user")),
    "normalisation": (NORMALISATIONS, ("date", "reference", "none")),
    "sar_scale": (SAR_SCALES, ("auto", "db", "power", "amplitude", "display8")),
    "speckle": (SPECKLE_FILTERS, ("auto", "refined_lee", "median", "none")),
    "polarisation": (POLARISATIONS, ("auto", "vv", "vh", "both")),
    "water_index": (WATER_INDICES, ("auto", "mndwi", "ndwi")),
    "cloud_mask": (CLOUD_MASKS, ("auto", "none", "csmask")),
    "device": (tuple((key, label) for key, label, _provider in DEVICES), ("cpu", "cuda", "directml", "coreml", "rocm")),
    "task": (
        ((KEEP, KEEP),) + tuple((t, t) for t in TASKS),
        ("(keep)", "change_detection", "segmentation", "burned_area", "burn_severity", "flood", "landslide"),
    ),
    "layout": (((KEEP, KEEP),) + tuple((v, v) for v in LAYOUTS), ("(keep)", "single", "concat", "stacked", "separate")),
}
# Enums whose options depend on the machine are given by name (static strings), never by position.
BY_NAME = {"BUNDLED_MODEL"}
PARAMETERS = {
    "RADIOMETRY": "radiometry",
    **{f"{image}_RADIOMETRY": "date_radiometry" for image in ("PRE", "POST", "BEFORE", "AFTER", "IMAGE")},
    "RESAMPLING": "resampling",
    "THRESHOLD_METHOD": "threshold",
    "NORMALISATION": "normalisation",
    "SCALE": "sar_scale",
    "FILTER": "speckle",
    "POLARISATION": "polarisation",
    "INDEX": "water_index",
    "CLOUD_MASK": "cloud_mask",
    "DEVICE": "device",
    "TASK": "task",
    "LAYOUT": "layout",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_core_choices_only_grow_at_the_end(name: str) -> None:
    choices, pinned = PINNED[name]
    assert tuple(key for key, _label in choices)[: len(pinned)] == pinned


def test_every_enum_follows_its_core_choices(provider) -> None:  # noqa: ANN001
    seen = set()
    for alg in provider.algorithms():
        if isinstance(alg, QgsProcessingModelAlgorithm):
            continue
        for definition in alg.parameterDefinitions():
            if not isinstance(definition, QgsProcessingParameterEnum):
                continue
            where = f"{alg.id()} {definition.name()}"
            if definition.name() in BY_NAME:
                assert definition.usesStaticStrings(), where
                continue
            assert definition.name() in PARAMETERS, f"{where}: pin its values in this test"
            choices, _pinned = PINNED[PARAMETERS[definition.name()]]
            assert definition.options() == [label for _key, label in choices], where
            seen.add(alg.name())
    assert {"burnseverity", "sarflood", "opticalflood", "landslide", "cva", "runmodel", "editmodelmetadata"} <= seen
