"""ChangeLens leaves process-wide state as it found it, and reads class areas by role, never by name.

GDAL's Python exception mode is shared by QGIS and every plugin: each algorithm turns it on for
its own run only, in either state of the caller, on success and on failure.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from qgis.core import QgsProcessingException
from scenes import BARE, VEGETATION, WATER, burn_scene, s2_image, sar_pair, slope_dem

SCAR = ((slice(5, 15), slice(32, 38)), BARE)


def _inputs(tmp_path) -> dict[str, dict]:  # noqa: ANN001
    pre, post = burn_scene(tmp_path)
    s1b, s1a = sar_pair(tmp_path)
    veg = s2_image(tmp_path, "veg.tif", VEGETATION)
    temporary = {"OUTPUT": "TEMPORARY_OUTPUT"}
    return {
        "burnseverity": {
            "PRE": pre,
            "POST": post,
            "OUTPUT_DNBR": "TEMPORARY_OUTPUT",
            "OUTPUT_SEVERITY": "TEMPORARY_OUTPUT",
        },
        "sarflood": {"BEFORE": s1b, "AFTER": s1a, "FILTER": 3, **temporary},
        "opticalflood": {
            "BEFORE": veg,
            "AFTER": s2_image(tmp_path, "wet.tif", VEGETATION, [((slice(20, 40), slice(0, 40)), WATER)]),
            **temporary,
        },
        "landslide": {
            "BEFORE": veg,
            "AFTER": s2_image(tmp_path, "scar.tif", VEGETATION, [SCAR]),
            "DEM": slope_dem(tmp_path),
            **temporary,
        },
        "cva": {"DATE1": veg, "DATE2": s2_image(tmp_path, "scar2.tif", VEGETATION, [SCAR]), "SMOOTH": 1, **temporary},
    }


def _modes() -> tuple[int, int, int]:
    return gdal.GetUseExceptions(), ogr.GetUseExceptions(), osr.GetUseExceptions()


def _set_modes(on: bool) -> None:
    if on:
        for module in (gdal, ogr, osr):
            module.UseExceptions()
    else:
        for module in (osr, ogr, gdal):
            if module.GetUseExceptions():
                module.DontUseExceptions()


@pytest.mark.parametrize("exceptions_on", [False, True])
def test_gdal_exception_mode_is_the_callers_after_every_run(provider, tmp_path, exceptions_on) -> None:  # noqa: ANN001
    import processing

    inputs = _inputs(tmp_path)
    before = _modes()
    try:
        _set_modes(exceptions_on)
        expected = _modes()
        for alg, params in inputs.items():
            processing.run(f"changelens:{alg}", {**params, "OUTPUT_REPORT": None, "OUTPUT_POLYGONS": None})
            assert _modes() == expected, alg
            bad = {**params, next(iter(params)): str(tmp_path / "missing.tif")}
            with pytest.raises(QgsProcessingException):
                processing.run(f"changelens:{alg}", bad)
            assert _modes() == expected, f"{alg} (failed run)"
    finally:
        _set_modes(bool(before[0]))


def _renamed(scheme):  # noqa: ANN001, ANN202
    """The same classes under other names (a translation): values and roles unchanged."""
    classes = tuple(dataclasses.replace(c, name=f"Classe {c.value} traduzida") for c in scheme.classes)
    return dataclasses.replace(scheme, classes=classes)


@pytest.mark.parametrize("alg", ["burnseverity", "sarflood", "opticalflood", "landslide", "cva"])
def test_renaming_classes_does_not_change_reported_areas(provider, tmp_path, monkeypatch, alg) -> None:  # noqa: ANN001
    from changelens.core.methods import method_by_id

    import processing

    params = _inputs(tmp_path)[alg]
    numbers = ("AREA_HA", "MAPPED_AREA_HA", "POLYGON_COUNT")
    first = processing.run(f"changelens:{alg}", {**params, "OUTPUT_REPORT": None})
    method = method_by_id(alg)
    monkeypatch.setattr(type(method), "scheme", _renamed(method.scheme))
    second = processing.run(f"changelens:{alg}", {**params, "OUTPUT_REPORT": None})
    compared = [k for k in first if isinstance(first[k], (int, float)) and k.endswith(numbers)]
    assert compared, first
    for key in compared:
        assert second[key] == pytest.approx(first[key]), key
    assert any(first[k] > 0 for k in compared if k.endswith("AREA_HA") and k != "VALID_AREA_HA"), first
    assert np.isfinite([first[k] for k in compared]).all()
