"""What the panel and its dialogs need from core, answered here so that ``ui/`` never imports core.

Sensor profiles and band roles (the same rules the algorithms use), the onnxruntime, ukis-csmask and
``distributed`` checks (cloud masks for dates without one; runs over many scene pairs on a Dask
cluster), the devices "Run ONNX model" offers, a plain description of a model file, and whether a
path is a product (a SAFE, a Landsat folder, a folder or list of band files) the algorithms read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ..core.cluster import distributed_version
from ..core.errors import ChangeLensError, ModelFileError
from ..core.io.bandfiles import find_product, is_product_path
from ..core.io.cloudmask import csmask_version
from ..core.io.sensors import PROFILES, roles_from_descriptions
from ..core.methods import METHODS
from ..core.models.meta import read_model_metadata
from ..core.models.runtime import DEVICES, python_executable
from ..core.models.runtime_check import RuntimeStatus, library_versions, onnxruntime_status

__all__ = [
    "DEVICE_PROVIDERS",
    "ModelInfo",
    "ModelProblem",
    "ProductProblem",
    "RuntimeStatus",
    "csmask_version",
    "describe_product",
    "detect_roles",
    "distributed_version",
    "is_product_path",
    "library_versions",
    "model_info",
    "onnxruntime_status",
    "panel_entries",
    "python_interpreter",
    "sensor_labels",
]

# The execution provider behind each option of the "Run ONNX model" device enum, in enum order.
DEVICE_PROVIDERS = tuple(provider for _key, _label, provider in DEVICES)


class ProductProblem(Exception):
    """A path that is no product ChangeLens reads; the message says why in one sentence."""


def describe_product(path: str) -> str:
    """One line about the product at ``path`` (kind, bands, cloud mask), or :class:`ProductProblem`."""
    try:
        product = find_product(path)
    except ChangeLensError as exc:
        raise ProductProblem(str(exc)) from exc
    if product is None:
        raise ProductProblem(
            f"'{path}' is no product ChangeLens reads: pick a Sentinel-2 .SAFE folder, its .zip or MTD_MSIL*.xml, a "
            "Landsat Collection 2 folder or its _MTL.txt, a folder of band files (B02.tif ...) or a list of band files."
        )
    masks = ", ".join(product.masks) or "none"
    return f"{product.title}: {len(product.bands)} bands ({', '.join(product.names())}); cloud mask: {masks}"


def python_interpreter() -> str:
    """The Python interpreter running QGIS (for pip), as the model runtime finds it."""
    return python_executable()


def sensor_labels() -> list[tuple[str, str]]:
    """``(key, label)`` of every sensor profile the band detection knows."""
    return [(key, profile.label) for key, profile in PROFILES.items()]


def detect_roles(
    descriptions: Sequence[str], sensor: str | None, roles: Iterable[str]
) -> tuple[str, str, dict[str, int | None]]:
    """``(sensor key, sensor label, {role: 1-based band or None})`` from band descriptions.

    ``sensor`` (a profile key) overrides detection; the rules are those the algorithms use
    when their band parameters are left empty.
    """
    profile, found = roles_from_descriptions(descriptions, PROFILES.get(sensor) if sensor else None, list(roles))
    return profile.key, profile.label, found


@dataclass(frozen=True)
class ModelInfo:
    """What the model list shows about a readable model."""

    name: str
    task: str
    dates: int
    needs_dem: bool
    training_data: str
    licence: str
    summary: str


class ModelProblem(Exception):
    """A model that cannot be used; ``not_a_model`` when the file is not an ONNX model at all."""

    def __init__(self, message: str, not_a_model: bool) -> None:
        super().__init__(message)
        self.not_a_model = not_a_model


def model_info(path: str) -> ModelInfo:
    """Read and validate the model at ``path``; raise :class:`ModelProblem` with one sentence otherwise."""
    try:
        meta = read_model_metadata(path)
    except ChangeLensError as exc:
        raise ModelProblem(str(exc), isinstance(exc, ModelFileError)) from exc
    return ModelInfo(
        meta.name, meta.task, meta.dates, bool(meta.terrain), meta.training_data, meta.license, meta.summary()
    )


def panel_entries() -> list[dict[str, object]]:
    """How the panel drives each registered index method, read from its declaration.

    One dict per method: ``task``, ``label``, ``algorithm_id``, the image parameters
    (``before``, ``after``, ``dem`` and whether they are optional), ``bands`` as
    ``(parameter, date, role, optional)`` rows, the ``radiometry``, ``cloud_mask`` and ``min_area_m2``
    parameters (None when the method has none) and the one-line ``summary``.
    """
    entries = []
    for method in METHODS:
        images = {image.key: image for image in method.images()}
        date_of = {image.name: image.key for image in method.images()}
        names = {p.name for p in method.params}
        entries.append(
            {
                "task": method.task,
                "label": method.panel_label or method.title,
                "algorithm_id": f"changelens:{method.id}",
                "after": images["after"].name,
                "before": images["before"].name if "before" in images else None,
                "before_optional": "before" in images and images["before"].optional,
                "dem": images["dem"].name if "dem" in images else None,
                "dem_optional": "dem" in images and images["dem"].optional,
                "bands": [
                    (band.name, date_of[band.parent], band.shown_as or band.role, band.optional)
                    for band in method.band_choices()
                ],
                "radiometry": "RADIOMETRY" if "RADIOMETRY" in names else None,
                "cloud_mask": "CLOUD_MASK" if "CLOUD_MASK" in names else None,
                "min_area_m2": method.min_area_param,
                "summary": method.summary,
            }
        )
    return entries
