"""What a classified run produced: the hand-off to polygons, statistics and the report."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..classes import ClassScheme
from .stats import ClassStats
from .transaction import Transaction


@dataclass(frozen=True)
class MapProduct:
    """A classified raster plus what explains it (driving measure, threshold, inputs, parameters).

    Every classifying method returns one, so that shared output code can polygonise it,
    tabulate class areas and write the report the same way for every algorithm.
    ``measure_raster`` must be on the class raster's grid (it is warped on the fly if not);
    ``threshold`` is the decision value drawn on the histogram and ``breaks`` (optional) the
    class boundaries on the measure, used to colour the histogram bars by class.
    ``inputs`` are ``(label, raster path)`` pairs; the first two are previewed as before/after.
    ``reading`` are ``(label, text)`` pairs: how each input was read (sensor, bands per role,
    conversion and why, no-data rules), for the report's inputs section.
    ``roles`` are ``(input path, ((role, 1-based band), ...))``: the bands the run read from each
    input (the report previews true colour from them when the bands have no names).
    ``stats`` are refreshed in place when the minimum mapping unit sieves the class raster.
    """

    title: str
    class_raster: str
    scheme: ClassScheme
    stats: ClassStats
    measure_raster: str | None = None
    measure_name: str = ""
    threshold: float | None = None
    inputs: tuple[tuple[str, str], ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    breaks: tuple[float, ...] = ()
    reading: tuple[tuple[str, str], ...] = ()
    roles: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()

    def roles_by_path(self) -> dict[str, dict[str, int]]:
        """``{input path: {role: band}}``."""
        return {path: dict(pairs) for path, pairs in self.roles}


def with_final_paths(product: MapProduct, transaction: Transaction) -> MapProduct:
    """``product`` with its staged raster paths replaced by their destinations (after a commit)."""
    return dataclasses.replace(
        product,
        class_raster=transaction.final_of(product.class_raster) if product.class_raster else "",
        measure_raster=transaction.final_of(product.measure_raster) if product.measure_raster else None,
    )
