"""What a method declares: its parameters, the band roles it reads per date, its classes and its pixel rule.

A method is a subclass of :class:`IndexMethod` that sets a few class attributes and
implements :meth:`IndexMethod.compute` (and, for methods with an automatic threshold, the
sample/fit hooks). Everything else — opening and aligning the dates, streaming blocks,
writing staged outputs, class areas — is done once by :func:`changelens.core.pipeline.run_method`.
The Processing algorithm, the panel and the command line are all built from the same
declaration, so parameter names, enum values and defaults live in one place.

Parameter declarations are QGIS-free descriptions (name, label, default, range, help); the
Processing layer turns each into its ``QgsProcessingParameter*``. Names are the stable public
contract of saved models, scripts and job files: never rename one, and only append choices.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from ..classes import ClassScheme
from ..errors import ParameterError
from ..io.raster import BandReader
from ..io.windows import HaloWindow
from ..outputs.vectorize import PolygonConfig
from ..outputs.writer import RasterOutput
from ..progress import Log
from .opening import open_declared
from .request import Opened, RunRequest

# -- parameter declarations --------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter: its stable ``name`` (UPPER), the label users see and what it means."""

    name: str
    label: str
    help: str = ""
    advanced: bool = False


@dataclass(frozen=True)
class ImageInput(Param):
    """A raster input: a date (``key`` ``before``/``after``) or a DEM (``key`` ``dem``)."""

    key: str = ""
    optional: bool = False
    title: str = ""  # how reports and logs name it; the label when empty

    @property
    def display(self) -> str:
        """The name used in reports and messages."""
        return self.title or self.label


@dataclass(frozen=True)
class BandChoice(Param):
    """The user's band for one ``role`` of the image parameter ``parent`` (empty: detect by name).

    ``optional``: the method also runs when no band plays the role. ``shown_as``: the role the
    panel detects for it when the method decides the real role at run time.
    """

    parent: str = ""
    role: str = ""
    optional: bool = False
    shown_as: str = ""


@dataclass(frozen=True)
class Number(Param):
    """A number stored in the config field ``field`` (units in the field's name)."""

    field: str = ""
    default: float | int | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Choice(Param):
    """One of ``choices`` ``(key, label)``; stored by key, exposed by position (append only)."""

    field: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """The choice keys in their stable order."""
        return tuple(key for key, _label in self.choices)


@dataclass(frozen=True)
class Flag(Param):
    """A yes/no option stored in ``field``."""

    field: str = ""
    default: bool = False


@dataclass(frozen=True)
class Text(Param):
    """Free text turned into the config value by ``parse`` (which raises :class:`ParameterError`)."""

    field: str = ""
    default: str = ""
    optional: bool = False
    parse: Callable[[str], Any] | None = None


@dataclass(frozen=True)
class RasterOut(Param):
    """A raster the method can write; ``key`` is what :meth:`IndexMethod.compute` returns for it."""

    key: str = ""
    optional: bool = False
    create_by_default: bool = True
    layer: str = ""  # the layer name when the desktop loads it (the label when empty)


@dataclass(frozen=True)
class Result:
    """A number every run returns: ``mapped_area_ha``, ``valid_area_ha`` or ``threshold``."""

    name: str
    label: str
    kind: str


CONFIG_PARAMS = (Number, Choice, Flag, Text)


def parse_number_list(text: str, count: int, what: str) -> tuple[float, ...]:
    """``count`` increasing numbers from comma/semicolon-separated ``text``, or :class:`ParameterError`."""
    try:
        values = tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError:
        values = ()
    if len(values) != count or any(b <= a for a, b in zip(values, values[1:])):
        raise ParameterError(f"{what} '{text}' are not valid: give {count} increasing numbers separated by commas.")
    return values


# -- the method base class ---------------------------------------------------------------------


class IndexMethod:
    """Base of every index method; subclasses are declarations plus a pixel rule.

    Class attributes a subclass sets: ``id`` (Processing id after ``changelens:``),
    ``title``, ``group`` (toolbox group), ``task`` and ``summary`` (panel), ``help_html``,
    ``measure_name`` (the driving measure, e.g. ``dNBR``), ``scheme`` (classes; background
    classes are not mapped), ``config_type`` (frozen dataclass with units in field names),
    ``params`` (ordered parameter declarations) and ``results``.

    Single-pass methods implement :meth:`compute` only. Methods with a whole-raster
    threshold also set ``sampled`` (measures sampled in a first pass), optionally ``stored``
    (measures kept on disk for the second pass), and implement :meth:`measures` and
    :meth:`fit`.
    """

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    group: ClassVar[str] = ""
    task: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    panel_label: ClassVar[str] = ""
    help_html: ClassVar[str] = ""
    measure_name: ClassVar[str] = ""
    purpose: ClassVar[str] = ""  # what the bands are for, in band-count errors ("burn severity (NIR and SWIR2)")
    scheme: ClassVar[ClassScheme]
    config_type: ClassVar[type]
    params: ClassVar[tuple[Param, ...]] = ()
    results: ClassVar[tuple[Result, ...]] = ()
    class_output: ClassVar[str] = "classes"  # the RasterOut key of the class raster
    measure_output: ClassVar[str] = ""  # the RasterOut key of the driving measure
    sampled: ClassVar[tuple[str, ...]] = ()
    stored: ClassVar[tuple[str, ...]] = ()
    # Measures of a pixel depend on that pixel alone (no neighbourhood, no block statistics): a first pass that
    # stores nothing then reads and computes only the sampled rows.
    pointwise_measures: ClassVar[bool] = False
    # Columns per streamed block (256 rows high): narrow blocks keep memory small with several threads.
    # A method whose results depend on the block (sums over a block) keeps the width it always had.
    block_width_px: ClassVar[int] = 2048
    radiometry_param: ClassVar[str] = ""  # the Choice that sets the reflectance conversion, if any
    min_area_param: ClassVar[str] = "MIN_AREA_M2"

    # -- declaration helpers -------------------------------------------------------------------

    @classmethod
    def param(cls, name: str) -> Param:
        """The declaration of parameter ``name``."""
        for p in cls.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @classmethod
    def images(cls) -> tuple[ImageInput, ...]:
        """Raster inputs in declaration order."""
        return tuple(p for p in cls.params if isinstance(p, ImageInput))

    @classmethod
    def band_choices(cls) -> tuple[BandChoice, ...]:
        """Band parameters in declaration order."""
        return tuple(p for p in cls.params if isinstance(p, BandChoice))

    @classmethod
    def raster_outputs(cls) -> tuple[RasterOut, ...]:
        """Raster outputs in declaration order."""
        return tuple(p for p in cls.params if isinstance(p, RasterOut))

    @classmethod
    def build_config(cls, values: Mapping[str, Any]) -> Any:
        """The config from typed parameter values (keys are parameter names; missing = default).

        Choices may be given as key or as position. Raises :class:`ParameterError` with one
        sentence when a value is out of range or cannot be parsed.
        """
        kwargs: dict[str, Any] = {}
        for p in cls.params:
            if not isinstance(p, CONFIG_PARAMS) or not p.field:
                continue
            value = values.get(p.name)
            if isinstance(p, Choice):
                value = _choice_key(p, value)
            elif isinstance(p, Number):
                value = _number(p, value)
            elif isinstance(p, Flag):
                value = p.default if value is None else bool(value)
            elif isinstance(p, Text):
                text = p.default if value is None else str(value)
                value = p.parse(text) if p.parse else text
            kwargs[p.field] = value
        return cls.config_type(**kwargs)

    @classmethod
    def parameter_values(cls, config: Any) -> list[tuple[str, str]]:
        """``(label, value)`` of every configured parameter, for the report."""
        out = []
        for p in cls.params:
            if isinstance(p, CONFIG_PARAMS) and p.field:
                value = getattr(config, p.field)
                if isinstance(p, Choice):
                    value = dict(p.choices).get(value, value)
                elif isinstance(value, tuple):
                    value = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
                elif isinstance(value, bool):
                    value = "yes" if value else "no"
                elif isinstance(value, float):
                    value = f"{value:g}"
                out.append((p.label, str(value)))
        return out

    # -- the run's hooks -----------------------------------------------------------------------

    def open(self, request: RunRequest, scratch: str, log: Log) -> Opened:
        """Open, validate and align the inputs (default: the declared band roles of each date).

        ``scratch`` is a folder that lives as long as the run (e.g. for the DEM's slope).
        Raises :class:`~changelens.core.errors.InputError` before any output is written.
        """
        return open_declared(self, request, scratch, log)

    def halo_px(self, config: Any) -> int:
        """Pixels of context each block of :meth:`compute` needs around it (neighbourhood filters)."""
        return 0

    def measures_halo_px(self, config: Any, opened: Opened) -> int:
        """Pixels of context each block of :meth:`measures` needs around it."""
        return 0

    def sample_keys(self, config: Any, opened: Opened) -> tuple[str, ...]:
        """Measures sampled over the whole raster in the first pass (none: a single-pass method)."""
        return self.sampled

    def store_keys(self, config: Any, opened: Opened) -> tuple[str, ...]:
        """Measures the first pass keeps on disk for the second (computed once, read back)."""
        return self.stored

    def measures(
        self, config: Any, opened: Opened, arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """First pass: the measures named in ``sampled``/``stored`` for one block (core window shape)."""
        raise NotImplementedError

    def fit(self, config: Any, opened: Opened, samples: Mapping[str, np.ndarray], log: Log) -> dict[str, Any]:
        """Between the passes: thresholds from whole-raster samples (1-D float arrays of valid values)."""
        return {}

    def pass2_readers(self, opened: Opened, stored: dict[str, BandReader]) -> dict[str, BandReader]:
        """Readers of the second pass: the bands, the DEM slope and the stored measures."""
        return {**opened.readers, **stored}

    def compute(
        self, config: Any, fitted: Mapping[str, Any], arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """The pixel rule: 2-D arrays read over ``window.read`` in, 2-D arrays over ``window.core`` out.

        ``arrays`` are float32 (NaN = no data) keyed ``<role>_<date>`` (plus ``slope`` in degrees and
        the stored first-pass measures). Must return the class raster under :attr:`class_output`
        (uint8, 0 = no data) and may return any raster output key; keys nobody asked for are not
        written. ``fitted`` holds what :meth:`fit` found and ``wanted``, the output keys being written.
        """
        raise NotImplementedError

    def output_specs(self, config: Any, opened: Opened, fitted: Mapping[str, Any]) -> dict[str, RasterOutput]:
        """Data type, no-data, description and style of each raster output (paths filled in later)."""
        raise NotImplementedError

    def product_title(self, config: Any, opened: Opened) -> str:
        """The title of maps and reports."""
        return self.title

    def product_measure_name(self, config: Any, opened: Opened) -> str:
        """The name of the driving measure in polygons, tables and the histogram."""
        return self.measure_name

    def threshold(self, config: Any, fitted: Mapping[str, Any]) -> float | None:
        """The decision value drawn on the report's histogram."""
        return fitted.get("threshold")

    def breaks(self, config: Any) -> tuple[float, ...]:
        """Class boundaries on the measure (colour the histogram by class)."""
        return ()

    def clean_up(self, config: Any, polygons: PolygonConfig) -> PolygonConfig:
        """The minimum mapping unit and polygon options of this run (a method may impose its own unit)."""
        return polygons

    def extra_parameters(self, config: Any, opened: Opened, fitted: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Report lines beyond the declared parameters (decisions made while running)."""
        return []


def with_path(spec: RasterOutput, path: str) -> RasterOutput:
    """``spec`` written at ``path``."""
    return dataclasses.replace(spec, path=path)


def _choice_key(p: Choice, value: Any) -> str:
    if value is None or value == "":
        return p.default
    if isinstance(value, str) and value in p.keys:
        return value
    try:
        return p.keys[int(value)]
    except (ValueError, TypeError, IndexError):
        raise ParameterError(
            f"'{value}' is not a valid choice for {p.label}: use one of {', '.join(p.keys)} (or 0-{len(p.keys) - 1})."
        ) from None


def _number(p: Number, value: Any) -> float | int | None:
    if value is None or value == "":
        if p.optional:
            return None
        value = p.default
    try:
        number = int(value) if p.integer else float(value)
    except (ValueError, TypeError):
        raise ParameterError(f"{p.label}: '{value}' is not a number.") from None
    low = p.minimum is not None and number < p.minimum
    high = p.maximum is not None and number > p.maximum
    if low or high:
        if p.minimum is not None and p.maximum is not None:
            span = f"between {p.minimum:g} and {p.maximum:g}"
        else:
            span = f"at least {p.minimum:g}" if p.minimum is not None else f"at most {p.maximum:g}"
        raise ParameterError(f"{p.label} must be {span}; got {number:g}.")
    return number
