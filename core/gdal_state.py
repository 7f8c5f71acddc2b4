"""GDAL's Python exception mode, switched on only for the duration of a ChangeLens call.

``gdal.UseExceptions()`` changes process-wide state that QGIS and every other plugin share.
ChangeLens code relies on exceptions (a failed open or warp raises ``RuntimeError`` instead of
returning ``None``), so each entry point into core runs inside :func:`gdal_exceptions`, which
turns exceptions on for GDAL, OGR and OSR and restores each module's previous mode afterwards,
whatever it was. Scopes nest.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Callable, Iterator, TypeVar

from osgeo import gdal, ogr, osr

F = TypeVar("F", bound=Callable)

_MODULES = (gdal, ogr, osr)


@contextlib.contextmanager
def gdal_exceptions() -> Iterator[None]:
    """Raise ``RuntimeError`` on GDAL/OGR/OSR errors inside the block; restore the caller's mode after it."""
    previous = [module.GetUseExceptions() for module in _MODULES]
    for module, was_on in zip(_MODULES, previous):
        if not was_on:
            module.UseExceptions()
    try:
        yield
    finally:  # GDAL keeps one stack of error handlers: pop them in the reverse order of pushing
        for module, was_on in reversed(list(zip(_MODULES, previous))):
            if not was_on and module.GetUseExceptions():
                module.DontUseExceptions()


def with_gdal_exceptions(function: F) -> F:
    """Decorate a core entry point so that it runs inside :func:`gdal_exceptions`."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        with gdal_exceptions():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def no_side_cars() -> Iterator[None]:
    """GDAL's side-car files (``.aux.xml``) off in this thread: a renderer that computes statistics when it
    opens a raster would otherwise make GDAL store them beside the user's file, even when read through a VRT."""
    before = gdal.GetThreadLocalConfigOption("GDAL_PAM_ENABLED", None)
    gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO")
    try:
        yield
    finally:
        gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", before)
