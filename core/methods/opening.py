"""The default way a declared method opens its inputs: band roles per date, then an optional DEM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from ..errors import ParameterError
from ..io.pair import DateInput, open_dates
from ..io.raster import Radiometry
from ..io.terrain import slope_reader
from ..progress import Log
from .request import Opened, RunRequest

if TYPE_CHECKING:
    from .declaration import IndexMethod


def declared_dates(
    method: IndexMethod,
    request: RunRequest,
    rename: Mapping[str, str] | None = None,
    optional_roles: Sequence[str] = (),
    drop: Sequence[str] = (),
) -> list[DateInput]:
    """One :class:`DateInput` per given date image, with the roles its band parameters declare.

    ``rename`` maps a declared role to the role looked up in the image (a method that picks
    its index at run time, e.g. ``other`` -> ``swir1``); roles in ``drop`` are not read. A
    required image left empty raises :class:`ParameterError`.
    """
    rename = rename or {}
    dates = []
    for image in method.images():
        if image.key == "dem":
            continue
        path = request.images.get(image.key)
        if not path:
            if not image.optional:
                raise ParameterError(f"The {image.display} is required.")
            continue
        declared = [b.role for b in method.band_choices() if b.parent == image.name and b.role not in drop]
        chosen = request.bands.get(image.key, {})
        roles = tuple(rename.get(role, role) for role in declared)
        bands = {rename.get(role, role): chosen.get(role) for role in declared}
        radiometry = getattr(request.config, f"radiometry_{image.key}", "same")
        aligned = getattr(request.config, "pixel_aligned", False)
        mask = getattr(request.config, "cloud_mask", "auto")
        dates.append(
            DateInput(path, image.display, bands, image.key, roles, tuple(optional_roles), radiometry, aligned, mask)
        )
    return dates


def open_declared(
    method: IndexMethod,
    request: RunRequest,
    scratch: str,
    log: Log,
    rename: Mapping[str, str] | None = None,
    optional_roles: Sequence[str] = (),
    drop: Sequence[str] = (),
) -> Opened:
    """Open the declared dates on one grid (the first given date's) and the DEM's slope if given."""
    config = request.config
    custom = Radiometry(getattr(config, "custom_scale", 1.0), getattr(config, "custom_offset", 0.0))
    dates = declared_dates(method, request, rename, optional_roles, drop)
    opened_dates = open_dates(
        dates,
        method.purpose,
        getattr(config, "radiometry", "auto"),
        custom,
        getattr(config, "resampling", "bilinear"),
        log,
        scratch,
    )
    opened = Opened(
        opened_dates.grid,
        opened_dates.readers,
        {k: v for k, v in request.images.items() if v},
        used=opened_dates.used,
        keep=opened_dates.datasets,
    )
    add_slope(method, opened, request, scratch, log)
    return opened


def add_slope(method: IndexMethod, opened: Opened, request: RunRequest, scratch: str, log: Log) -> None:
    """Add the DEM's slope (degrees, on the run's grid) as reader ``slope`` when a DEM is given."""
    dem = request.images.get("dem")
    if dem:
        opened.readers["slope"] = slope_reader(dem, opened.grid, scratch, log)
    elif any(i.key == "dem" and not i.optional for i in method.images()):
        raise ParameterError("A DEM is required: give an elevation raster in metres.")
