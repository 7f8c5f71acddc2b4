"""A run described by parameter values keyed by the Processing names, turned into a core request.

The command line and the cluster workers describe a run the way ``qgis_process`` and job files do
(``{"PRE": "pre.tif", "MIN_AREA_M2": 500, "OUTPUT_SEVERITY": "severity.tif"}``); this module
turns such values into the :class:`RunRequest` and :class:`MapDestinations` of
:func:`~changelens.core.runner.run_declared`, and names outputs inside a folder as
"Run on many scene pairs" does (``OUTPUT_SEVERITY`` -> ``severity.tif``).
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from .errors import ParameterError
from .methods.declaration import CONFIG_PARAMS, BandChoice, ImageInput, IndexMethod, Param, RasterOut, RunRequest
from .methods.outputs import FileOut, VectorOut, map_output_params, polygon_config
from .names import safe_name
from .runner import MapDestinations

OUTPUT_KINDS = (RasterOut, VectorOut, FileOut)


def all_params(method: IndexMethod) -> tuple[Param, ...]:
    """The method's own parameters followed by the shared outputs, as every algorithm lists them."""
    return tuple(method.params) + map_output_params(method.measure_name)


def is_output(param: Param) -> bool:
    """Whether ``param`` is a file the run writes."""
    return isinstance(param, OUTPUT_KINDS)


def output_file_name(param: Param) -> str:
    """``OUTPUT_SEVERITY`` -> ``severity.tif``, ``OUTPUT_POLYGONS`` -> ``polygons.gpkg`` (batch naming)."""
    name = param.name
    if name.upper().startswith("OUTPUT_") and len(name) > 7:
        name = name[7:]
    stem = safe_name(name, fallback="output").replace(" ", "_").lower()
    extension = "tif" if isinstance(param, RasterOut) else getattr(param, "extension", "")
    return f"{stem}.{extension}" if extension else stem


def created_by_default(param: Param) -> bool:
    """Whether Processing writes this output when it is not given (optional outputs may be off by default)."""
    return not getattr(param, "optional", False) or bool(getattr(param, "create_by_default", True))


def outputs_in_folder(method: IndexMethod, folder: str, named: Mapping[str, Any]) -> dict[str, str | None]:
    """Output paths inside ``folder``: the outputs created by default under their batch names, plus those in
    ``named``; an output named there as ``None``/``False``/``""`` is skipped, one given a file name keeps it."""
    paths: dict[str, str | None] = {}
    for param in all_params(method):
        if not is_output(param) or getattr(param, "needs_qgis", False):
            continue
        if param.name in named:
            value = named[param.name]
            if value in (None, "", False):
                paths[param.name] = None
                continue
            file_name = os.path.basename(str(value)) if isinstance(value, str) else output_file_name(param)
            if file_name == "TEMPORARY_OUTPUT":
                file_name = output_file_name(param)
        elif created_by_default(param):
            file_name = output_file_name(param)
        else:
            continue
        paths[param.name] = os.path.join(folder, file_name)
    return paths


def band_spec(value: Any) -> int | str | None:
    """A band given by number (``4``, ``"4"``) or by name (``"B8A"``); empty or 0 = detect by name."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, bool):
        raise ParameterError(f"'{value}' is not a band: give its number (1 = first band) or its name.")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def check_names(method: IndexMethod, values: Mapping[str, Any]) -> None:
    """Refuse a parameter name the method does not have (one sentence listing the names it has)."""
    known = {p.name for p in all_params(method)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ParameterError(
            f"changelens:{method.id} has no parameter {', '.join(unknown)}; its parameters are: "
            f"{', '.join(p.name for p in all_params(method))}."
        )


def request_from_values(method: IndexMethod, values: Mapping[str, Any]) -> tuple[RunRequest, MapDestinations]:
    """The core request and shared destinations of a run given by parameter values (missing = default).

    Raises :class:`~changelens.core.errors.ParameterError` (one sentence) for an unknown name, a
    missing image or a value out of range.
    """
    check_names(method, values)
    config = method.build_config({p.name: values.get(p.name) for p in method.params if isinstance(p, CONFIG_PARAMS)})
    images: dict[str, str | None] = {}
    for image in method.images():
        path = values.get(image.name)
        if path in (None, ""):
            if not image.optional:
                raise ParameterError(f"The {image.display} ({image.name}) is required: give the path of a raster file.")
            path = None
        images[image.key] = str(path) if path is not None else None
    keys = {image.name: image.key for image in method.images()}
    bands: dict[str, dict[str, Any]] = {}
    for band in (p for p in method.params if isinstance(p, BandChoice)):
        bands.setdefault(keys[band.parent], {})[band.role] = band_spec(values.get(band.name))
    outputs = {out.key: _path(values.get(out.name)) for out in method.raster_outputs()}
    destinations = MapDestinations(
        polygon_config({p.name: values.get(p.name) for p in map_output_params("")}),
        _path(values.get("OUTPUT_POLYGONS")),
        _path(values.get("OUTPUT_STATS")),
        _path(values.get("OUTPUT_REPORT")),
        _path(values.get("OUTPUT_REPORT_PDF")),
        str(values.get("EVENT_TITLE") or "").strip(),
        _basemap(values.get("BASEMAP")),
    )
    return RunRequest(images, config, outputs, bands), destinations


def _basemap(value: Any) -> str | None:
    """The basemap raster file (the command line draws a raster file; QGIS takes any layer)."""
    if value in (None, "", False):
        return None
    path = str(value)
    if not os.path.isfile(path):
        raise ParameterError(
            f"The basemap '{path}' is not a file: on the command line give a raster file GDAL reads "
            "(layers of a QGIS project, web maps and vector layers work in QGIS)."
        )
    return os.path.abspath(path)


def _path(value: Any) -> str | None:
    if value in (None, "", False):
        return None
    return os.path.abspath(str(value))


def image_names(method: IndexMethod) -> tuple[str, str]:
    """The parameters that receive a pair's before and after images (``PRE``/``POST``, ``BEFORE``/``AFTER`` ...)."""
    images = {image.key: image.name for image in method.images() if isinstance(image, ImageInput)}
    return images.get("before", ""), images["after"]
