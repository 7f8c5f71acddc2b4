"""Band roles from plain descriptions (what the panel shows) agree with dataset-based detection."""

from __future__ import annotations

import numpy as np
import pytest
from changelens.core.io.raster import open_raster
from changelens.core.io.sensors import (
    GENERIC,
    LANDSAT89,
    LANDSAT_UNKNOWN,
    SENTINEL1,
    SENTINEL2,
    detect_sensor,
    find_band_by_name,
    roles_from_descriptions,
    sensor_from_names,
)
from rasters import write_raster

S2_L2A = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12", "SCL"]
LANDSAT = ["SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"]
S1 = ["VH", "VV"]

CASES = [
    (S2_L2A, SENTINEL2, {"nir": 7, "nir_narrow": 8, "swir2": 10, "red": 3, "scl": 11}),
    (["B8A", "B12"], SENTINEL2, {"nir": 1, "swir2": 2, "red": None}),
    (["B4, red", "B8, NIR 842 nm", "B12, SWIR 2190 nm"], SENTINEL2, {"red": 1, "nir": 2, "swir2": 3}),
    (LANDSAT, LANDSAT89, {"nir": 5, "swir1": 6, "swir2": 7, "blue": 2}),
    (S1, SENTINEL1, {"vv": 2, "vh": 1}),
    (["Sigma0_VV"], SENTINEL1, {"vv": 1, "vh": None}),
    (["", "", ""], GENERIC, {"nir": None}),
    (["red", "green", "blue", "nir"], GENERIC, {"red": 1, "blue": 3, "nir": 4, "swir2": None}),
]


@pytest.mark.parametrize(("descriptions", "profile", "expected"), CASES)
def test_roles_from_descriptions(descriptions, profile, expected) -> None:  # noqa: ANN001
    found_profile, roles = roles_from_descriptions(descriptions)
    assert found_profile is profile
    for role, index in expected.items():
        assert roles.get(role) == index, role


@pytest.mark.parametrize(("descriptions", "profile", "expected"), CASES)
def test_same_answer_as_dataset_detection(tmp_path, descriptions, profile, expected) -> None:  # noqa: ANN001
    data = np.zeros((len(descriptions), 2, 2), np.uint16)
    ds = open_raster(write_raster(tmp_path / "r.tif", data, descriptions=descriptions))
    assert detect_sensor(ds) is profile
    _, roles = roles_from_descriptions(descriptions)
    for role, index in roles.items():
        assert index == find_band_by_name(ds, *profile.candidates(role)), role


def test_profile_override_and_role_subset() -> None:
    profile, roles = roles_from_descriptions(["B2", "B3", "B4", "B5", "B6", "B7"], LANDSAT89, ["nir", "swir2"])
    assert profile is LANDSAT89 and roles == {"nir": 4, "swir2": 6}
    assert sensor_from_names(["B2", "B3", "B4", "B5", "B6", "B7"]) is LANDSAT_UNKNOWN  # OLI or TM/ETM+?
    assert sensor_from_names(["B2", "B3", "B4", "B5", "B6", "B7", "B10", "B11"]) is LANDSAT89  # TIRS: OLI
    assert sensor_from_names(["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11"]) is LANDSAT89
    assert sensor_from_names(["B2", "B3", "B4", "B8", "B11"]) is SENTINEL2
