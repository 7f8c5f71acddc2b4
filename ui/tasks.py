"""What the panel can run: tasks, and for each the methods (Processing algorithms) that serve it.

Index methods come from their declarations (``processing.catalog.panel_entries``): a new
method appears in the panel without any edit here. Model methods are added from the model
list (``ui/models.py``). A :class:`MethodSpec` names the parameters the panel fills
(before/after images, DEM, band roles, reflectance, minimum mapping unit, model, device);
every other parameter keeps the algorithm's default; every destination parameter is written
to the output folder or to a temporary file. An entry whose algorithm is not registered, or
whose parameter names do not match the registered algorithm, is shown disabled with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from qgis.core import QgsApplication, QgsProcessingAlgorithm

from ..processing.catalog import panel_entries

BEFORE = "before"
AFTER = "after"


@dataclass(frozen=True)
class Task:
    """A question a user brings: "what burned?", "what flooded?"."""

    key: str
    label: str
    help: str


@dataclass(frozen=True)
class BandParam:
    """A band parameter of an algorithm and the role it plays on one date (``nir`` of the before image)."""

    parameter: str
    date: str
    role: str
    optional: bool = False


@dataclass(frozen=True)
class MethodSpec:
    """How the panel drives one Processing algorithm (parameter names; None where it has none).

    Images, DEM, model and bands must exist in the algorithm; ``radiometry``, ``cloud_mask``,
    ``min_area_m2`` and ``device`` are features the panel offers only when the registered
    algorithm has them (so an entry keeps working while algorithms gain options).
    ``devices`` lists the execution provider behind each option of the ``device`` enum;
    ``model_path`` is the model a model method runs; ``extra_outputs`` are optional destinations
    the panel writes although the algorithm skips them by default (a model's probability raster:
    the report's mean probability per class and histogram come from it).
    """

    task: str
    label: str
    algorithm_id: str
    after: str
    before: str | None = None
    before_optional: bool = False
    dem: str | None = None
    dem_optional: bool = False
    bands: tuple[BandParam, ...] = ()
    radiometry: str | None = None
    min_area_m2: str | None = None
    cloud_mask: str | None = None
    model: str | None = None
    device: str | None = None
    devices: tuple[str, ...] = ()
    model_path: str = ""
    summary: str = ""
    preferred: bool = False  # listed first and chosen by default for its task
    extra_outputs: tuple[str, ...] = ()

    @property
    def roles(self) -> tuple[str, ...]:
        """Band roles the method reads, in first-use order."""
        return tuple(dict.fromkeys(b.role for b in self.bands))

    def parameters(self) -> list[str]:
        """The parameters the algorithm must have for this entry to work."""
        names = [self.after, self.before, self.dem, self.model]
        return [n for n in names if n] + [b.parameter for b in self.bands]

    def role_optional(self, role: str) -> bool:
        """True when no band parameter of ``role`` is required."""
        return all(b.optional for b in self.bands if b.role == role)


TASKS = (
    Task("change", "Change detection", "Where did the surface change between the two dates?"),
    Task("burn", "Burned area and burn severity", "What burned, and how badly (dNBR with USGS classes)?"),
    Task("flood", "Flood extent", "What was flooded on the after date that was dry before?"),
    Task("landslide", "Landslides", "Where did vegetation disappear on slopes (needs a DEM)?"),
    Task("model", "Custom model (ONNX)", "Run an ONNX model from the model manager on one or two images."),
)


def _declared_methods() -> tuple[MethodSpec, ...]:
    """One entry per index method, read from the method declarations (no parameter name repeated here)."""
    return tuple(
        MethodSpec(
            **{key: value for key, value in entry.items() if key != "bands"},  # type: ignore[arg-type]
            bands=tuple(BandParam(*row) for row in entry["bands"]),  # type: ignore[union-attr]
        )
        for entry in panel_entries()
    )


METHODS = _declared_methods()


def methods_for(task: str, methods: tuple[MethodSpec, ...] = METHODS) -> list[MethodSpec]:
    """The methods that serve ``task``, a preferred one (a bundled model that won) first."""
    serving = [m for m in methods if m.task == task]
    return [m for m in serving if m.preferred] + [m for m in serving if not m.preferred]


def registered_algorithm(method: MethodSpec) -> QgsProcessingAlgorithm | None:
    """The registered algorithm behind ``method``, or None."""
    return QgsApplication.processingRegistry().algorithmById(method.algorithm_id)


def unavailable_reason(method: MethodSpec) -> str | None:
    """Why ``method`` cannot run in this QGIS (None when it can)."""
    algorithm = registered_algorithm(method)
    if algorithm is None:
        return f"the algorithm '{method.algorithm_id}' is not installed in this version of ChangeLens"
    missing = [n for n in method.parameters() if algorithm.parameterDefinition(n) is None]
    if missing:
        return (
            f"the panel does not match the algorithm '{method.algorithm_id}' "
            f"(unknown parameter(s) {', '.join(missing)}); use it from the Processing Toolbox"
        )
    return None


def task_unavailable_reason(task: str, methods: tuple[MethodSpec, ...] = METHODS) -> str | None:
    """Why no method of ``task`` can run (None when at least one can)."""
    candidates = methods_for(task, methods)
    if not candidates:
        return "no ChangeLens algorithm for this task is installed yet"
    reasons = [unavailable_reason(m) for m in candidates]
    return None if any(r is None for r in reasons) else reasons[0]
