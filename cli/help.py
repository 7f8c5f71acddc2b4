"""Command-line help from the method declarations: the same explanations as in QGIS, facts from the values."""

from __future__ import annotations

import html
import re
import textwrap

from ..core.methods.declaration import BandChoice, Choice, Flag, ImageInput, Number, Param, RasterOut, Text
from ..core.methods.outputs import FileOut, LayerIn, VectorOut


def plain(text_html: str, width: int = 100) -> str:
    """Help written in Qt's rich text (``<br>``, ``<b>``, entities) as wrapped plain paragraphs."""
    text = re.sub(r"<br\s*/?>", "\n", text_html, flags=re.I)
    text = re.sub(r"<sub>(.*?)</sub>", r"_\1", text, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    paragraphs = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(textwrap.fill(p, width) if p else "" for p in paragraphs).strip()


def facts(param: Param, output_dir_default: bool) -> str:
    """What the value looks like: choices with their numbers, default, range, what empty means."""
    if isinstance(param, Choice):
        values = "; ".join(f"{i} = {key} ({label})" for i, (key, label) in enumerate(param.choices))
        return f"By key or number: {values}. Default: {param.default}."
    if isinstance(param, Flag):
        return f"Default: {'yes' if param.default else 'no'}."
    if isinstance(param, Number):
        parts = [f"Default: {param.default:g}" if param.default is not None else "Default: empty (not set)"]
        if param.minimum is not None and param.maximum is not None:
            parts.append(f"from {param.minimum:g} to {param.maximum:g}")
        elif param.minimum is not None:
            parts.append(f"at least {param.minimum:g}")
        elif param.maximum is not None:
            parts.append(f"at most {param.maximum:g}")
        return ", ".join(parts) + "."
    if isinstance(param, BandChoice):
        return "Band number (1 = first band) or band name; empty (default): found from the band descriptions."
    if isinstance(param, Text):
        return f'Default: "{param.default}".' if param.default else "Default: empty."
    if isinstance(param, LayerIn):
        return "Here a raster file GDAL reads (8-bit bands shown as they are, others stretched); optional."
    if isinstance(param, ImageInput):
        return "A raster file GDAL reads (GeoTIFF, JP2, VRT ...)." + (" Optional." if param.optional else "")
    if isinstance(param, (RasterOut, VectorOut, FileOut)):
        if isinstance(param, RasterOut):
            kind = "GeoTIFF with its style (.qml; class rasters also carry colours and class names)"
        elif isinstance(param, VectorOut):
            kind = "Vector or table file, any OGR format by extension"
        else:
            kind = "File"
        optional = getattr(param, "optional", False)
        if optional and not param.create_by_default:
            return f"{kind}. Written only when you give a path."
        return f"{kind}. " + ("Written into --output-dir unless given." if output_dir_default else "")
    return ""


def param_help(param: Param) -> str:
    """The declaration's explanation followed by its facts (``%`` escaped for argparse)."""
    text = " ".join(part for part in (param.help.strip(), facts(param, True).strip()) if part)
    return text.replace("%", "%%")
