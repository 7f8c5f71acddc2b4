"""The Sentinel-2 reflectance conversion chosen for every date against what the dates say (acquisition dates
on both sides of the baseline-04.00 day, product names and metadata, values that rule the offset out), and a
Landsat Level-1 file without its MTL."""

from __future__ import annotations

import numpy as np
import pytest
from input_cases import (
    BURN_ROWS,
    burn_truth,
    s2_dn,
    write,
)
from input_runs import (
    BURN,
    HIGH,
    RAD,
    S2_GT,
    UNBURNED,
    RunFailed,
    assert_burn_map,
    burn_outputs,
    landsat_stacks,
    run,
)
from rasters import read


def _straddle(tmp_path, pre_name: str, post_name: str, names: list[str]) -> tuple[str, str]:  # noqa: ANN001
    """A burn pair whose post date carries the baseline-04.00 offset (+1000 DN) and the pre date does not."""
    nir, swir, post_nir, post_swir = burn_truth()
    pre = write(tmp_path / pre_name, [s2_dn(nir), s2_dn(swir)], S2_GT, names=names)
    post = write(tmp_path / post_name, [s2_dn(post_nir, 1000), s2_dn(post_swir, 1000)], S2_GT, names=names)
    return pre, post


@pytest.mark.parametrize(
    ("pre_name", "post_name", "names", "extra", "message"),
    [  # dates with separators; a generic (STAC-named) stack; one date's own choice beside the fixed one
        ("pre_2021-12-28.tif", "post_2022_02_07.tif", ["B8A", "B12"], {}, "both sides of the Sentinel-2"),
        ("pre_20211228.tif", "post_20220207.tif", ["nir08", "swir22"], {}, "both sides of the Sentinel-2"),
        ("pre_20211228.tif", "post_20220207.tif", ["B8A", "B12"], {"PRE_RADIOMETRY": 2}, "both sides of the"),
        (  # product names state each date's offset: the fixed choice contradicts the post date's
            "S2A_MSIL2A_20211228T183921_N0301_R070_T10SEG_20211228T230000_pre.tif",
            "S2B_MSIL2A_20220207T183919_N0400_R070_T10SEG_20220207T225954_post.tif",
            ["B8A", "B12"],
            {},
            "product name says its values carry the \\+1000 DN offset",
        ),
    ],
)
def test_one_fixed_sentinel2_conversion_against_what_the_dates_say_asks(
    pre_name,
    post_name,
    names,
    extra,
    message,
    request,
    tmp_path,  # noqa: ANN001
) -> None:
    """RADIOMETRY=1 for dates on both sides of 25 January 2022 (any date spelling, any band naming, also when
    only the other date has its own choice), or against a product's stated offset, stops before any output."""
    pre, post = _straddle(tmp_path, pre_name, post_name, names)
    params = {"PRE": pre, "POST": post, "RADIOMETRY": RAD["s2_dn"], **extra, **burn_outputs(tmp_path)}
    with pytest.raises(RunFailed, match=message):
        run("processing", request, BURN, params)
    assert not (tmp_path / "dnbr.tif").exists()


def test_each_date_chosen_on_its_own_is_always_accepted(request, tmp_path) -> None:
    """Harmonised exports (offset removed on both dates): s2_dn given per date runs across the baseline day."""
    nir, swir, post_nir, post_swir = burn_truth()
    names = ["B8A", "B12"]
    pre = write(tmp_path / "pre_20211228.tif", [s2_dn(nir), s2_dn(swir)], S2_GT, names=names)
    post = write(tmp_path / "post_20220207.tif", [s2_dn(post_nir), s2_dn(post_swir)], S2_GT, names=names)
    per_date = {"PRE_RADIOMETRY": 2, "POST_RADIOMETRY": 2}  # option 0 is "as RADIOMETRY": 2 is s2_dn
    out = run("processing", request, BURN, {"PRE": pre, "POST": post, **per_date, **burn_outputs(tmp_path)})
    assert_burn_map(out, nodata_cols=0, pixel_m2=400)


def test_landsat_level1_without_its_mtl_says_so(request, tmp_path) -> None:  # noqa: ANN001
    """A Level-1 product id in the name but no MTL beside the file: the sentence names the level and the MTL file."""
    pre, post = landsat_stacks(tmp_path, "LC08_L1TP_044033_20230701_20230703_02_T1", ["B5", "B7"], nodata_cols=0)
    with pytest.raises(RunFailed, match=r"Landsat Level-1 product \(L1TP in its name\).*keep the MTL file beside it"):
        run("processing", request, BURN, {"PRE": pre, "POST": post, **burn_outputs(tmp_path)})


@pytest.mark.parametrize("stem", ["{}.tif", "S2B_MSIL2A_{}T183919_N0400_R070_T10SEG_{}T225954.tif"])
def test_values_without_the_offset_settle_a_fixed_choice(stem, request, tmp_path) -> None:  # noqa: ANN001
    """SWIR2 at 0.03 (300 DN) rules the offset out: RADIOMETRY=1 across the baseline day, or against an N0400
    name, runs and maps the burn right."""
    nir, swir, post_nir, post_swir = burn_truth()
    swir = np.full_like(swir, 0.03)
    post_swir[:] = np.where(post_swir == 0.10, 0.03, post_swir)
    names = ["B8A", "B12"]
    pre = write(tmp_path / stem.format("20220110", "20220110"), [s2_dn(nir), s2_dn(swir)], S2_GT, names=names)
    post = write(
        tmp_path / stem.format("20220210", "20220210"), [s2_dn(post_nir), s2_dn(post_swir)], S2_GT, names=names
    )
    params = {"PRE": pre, "POST": post, "RADIOMETRY": RAD["s2_dn"], **burn_outputs(tmp_path)}
    severity = read(run("processing", request, BURN, params)["OUTPUT_SEVERITY"])
    assert (severity[BURN_ROWS, BURN_ROWS] == HIGH).all() and severity[0, 0] == UNBURNED
