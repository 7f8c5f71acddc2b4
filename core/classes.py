"""Class schemes for classified outputs: values, names, colours, and which classes are mapped.

A *mapped* class is one a method exists to find (burned, flooded, change): its areas are
the headline results and it is polygonised. *Background* classes (unburned, not flooded,
permanent water, no change) are counted but neither reported as mapped nor polygonised by
default. Code reads class areas by value and role, never by name: names may be translated.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassInfo:
    """One class of a classified raster."""

    value: int
    name: str
    color: str  # "#rrggbb"
    background: bool = False

    @property
    def mapped(self) -> bool:
        """True for a class the method maps (its area is reported as mapped and it is polygonised)."""
        return not self.background

    def rgb(self) -> tuple[int, int, int]:
        """The colour as an (r, g, b) tuple of 0-255 integers."""
        text = self.color.lstrip("#")
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


@dataclass(frozen=True)
class ClassScheme:
    """An ordered set of classes plus the value that means no data."""

    classes: tuple[ClassInfo, ...]
    nodata: int = 0

    def __post_init__(self) -> None:
        values = [c.value for c in self.classes]
        if len(set(values)) != len(values):
            raise ValueError("class values must be unique")
        if self.nodata in values:
            raise ValueError("nodata must not be a class value")
        if not all(0 <= v <= 255 for v in values + [self.nodata]):
            raise ValueError("class values must fit in a byte")

    def by_value(self, value: int) -> ClassInfo:
        """The class with ``value``."""
        for info in self.classes:
            if info.value == value:
                return info
        raise KeyError(value)

    @property
    def values(self) -> tuple[int, ...]:
        """The class values in order."""
        return tuple(c.value for c in self.classes)

    @property
    def mapped_values(self) -> tuple[int, ...]:
        """The values of the mapped (non-background) classes."""
        return tuple(c.value for c in self.classes if c.mapped)
