"""QGIS style files (``.qml``) written as plain XML, so styles travel with outputs.

QGIS loads ``<name>.qml`` next to a raster as its default style, whichever way
the file is opened (desktop run, modeler, ``qgis_process``, or later by hand).
"""

from __future__ import annotations

import os
from typing import Sequence
from xml.sax.saxutils import quoteattr

from ..classes import ClassScheme

_HEADER = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.0\" styleCategories=\"AllStyleCategories\">\n"
_FOOTER = """    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" grayscaleMode="0" colorizeOn="0" colorizeRed="255" colorizeGreen="128" colorizeBlue="128" colorizeStrength="100"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


def qml_paletted(scheme: ClassScheme) -> str:
    """A paletted (unique values) raster style with the scheme's names and colours."""
    entries = "\n".join(
        f'        <paletteEntry value="{c.value}" color="{c.color}" alpha="255" label={quoteattr(c.name)}/>'
        for c in scheme.classes
    )
    return (
        _HEADER
        + "  <pipe>\n"
        + '    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">\n'
        + "      <rasterTransparency/>\n"
        + "      <colorPalette>\n"
        + entries
        + "\n      </colorPalette>\n"
        + "    </rasterrenderer>\n"
        + _FOOTER
    )


def qml_pseudocolor(stops: Sequence[tuple[float, str, str]], minimum: float, maximum: float) -> str:
    """A single-band pseudocolour style interpolating between ``(value, colour, label)`` stops."""
    items = "\n".join(
        f'          <item value="{v!r}" color="{c}" alpha="255" label={quoteattr(label)}/>' for v, c, label in stops
    )
    return (
        _HEADER
        + "  <pipe>\n"
        + f'    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" classificationMin="{minimum!r}" classificationMax="{maximum!r}" nodataColor="">\n'
        + "      <rasterTransparency/>\n"
        + "      <minMaxOrigin><limits>None</limits><extent>WholeRaster</extent><statAccuracy>Estimated</statAccuracy>"
        + "<cumulativeCutLower>0.02</cumulativeCutLower><cumulativeCutUpper>0.98</cumulativeCutUpper>"
        + "<stdDevFactor>2</stdDevFactor></minMaxOrigin>\n"
        + "      <rastershader>\n"
        + f'        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" minimumValue="{minimum!r}" maximumValue="{maximum!r}">\n'
        + items
        + "\n        </colorrampshader>\n"
        + "      </rastershader>\n"
        + "    </rasterrenderer>\n"
        + _FOOTER
    )


def sidecar_path(raster_path: str) -> str:
    """Where QGIS looks for a raster's default style."""
    return os.path.splitext(raster_path)[0] + ".qml"


DIVERGING_STOPS = ("#1a9641", "#a6d96a", "#ffffbf", "#fdae61", "#d7191c")


def diverging_stops(minimum: float, maximum: float, low_label: str, high_label: str) -> list[tuple[float, str, str]]:
    """Green-to-red stops for a signed measure (e.g. dNBR or a log-ratio)."""
    n = len(DIVERGING_STOPS) - 1
    stops = []
    for i, colour in enumerate(DIVERGING_STOPS):
        value = minimum + (maximum - minimum) * i / n
        label = low_label if i == 0 else high_label if i == n else f"{value:.2f}"
        stops.append((round(value, 6), colour, label))
    return stops
