"""Styles for class polygons that travel with the file: QML, SLD and a GeoPackage default style.

QGIS opens a GeoPackage layer with the style stored in the file's ``layer_styles``
table (``useAsDefault=1``), and a Shapefile/GeoJSON/... with the ``.qml`` next to it,
so the polygons look the same whether they were made on the desktop, in the modeler
or with ``qgis_process``.
"""

from __future__ import annotations

import os
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

from osgeo import ogr

from ..classes import ClassInfo

OUTLINE_WIDTH_MM = 0.3
STYLE_NAME = "ChangeLens classes"


def outline_color(info: ClassInfo, factor: float = 0.55) -> tuple[int, int, int]:
    """A darker shade of the class colour, so neighbouring polygons stay distinct."""
    return tuple(int(round(v * factor)) for v in info.rgb())  # type: ignore[return-value]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _fill_symbol(index: int, info: ClassInfo) -> str:
    props = {
        "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
        "color": "{},{},{},255".format(*info.rgb()),
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_map_unit_scale": "3x:0,0,0,0,0,0",
        "offset_unit": "MM",
        "outline_color": "{},{},{},255".format(*outline_color(info)),
        "outline_style": "solid",
        "outline_width": str(OUTLINE_WIDTH_MM),
        "outline_width_unit": "MM",
        "style": "solid",
    }
    lines = "\n".join(f'          <prop k="{k}" v={quoteattr(v)}/>' for k, v in props.items())
    return (
        f'      <symbol type="fill" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
        '        <layer class="SimpleFill" enabled="1" locked="0" pass="0">\n'
        f"{lines}\n"
        "        </layer>\n"
        "      </symbol>"
    )


def qml_categorized(classes: Sequence[ClassInfo], field: str = "class_id") -> str:
    """A categorized polygon style on ``field``: class colours, darker outlines, class names as labels."""
    categories = "\n".join(
        f'      <category symbol="{i}" value="{c.value}" label={quoteattr(c.name)} render="true"/>'
        for i, c in enumerate(classes)
    )
    symbols = "\n".join(_fill_symbol(i, c) for i, c in enumerate(classes))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology">\n'
        f'  <renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" '
        'enableorderby="0" forceraster="0">\n'
        "    <categories>\n"
        f"{categories}\n"
        "    </categories>\n"
        "    <symbols>\n"
        f"{symbols}\n"
        "    </symbols>\n"
        "  </renderer-v2>\n"
        "  <blendMode>0</blendMode>\n"
        "  <featureBlendMode>0</featureBlendMode>\n"
        "  <layerOpacity>1</layerOpacity>\n"
        "</qgis>\n"
    )


def sld_categorized(classes: Sequence[ClassInfo], layer_name: str, field: str = "class_id") -> str:
    """The same categories as an OGC SLD 1.1 document (for GeoServer, MapServer, ...)."""
    rules = "\n".join(
        f"""        <se:Rule>
          <se:Name>{escape(c.name)}</se:Name>
          <se:Description><se:Title>{escape(c.name)}</se:Title></se:Description>
          <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{escape(field)}</ogc:PropertyName>"""
        f"""<ogc:Literal>{c.value}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
          <se:PolygonSymbolizer>
            <se:Fill><se:SvgParameter name="fill">{c.color}</se:SvgParameter></se:Fill>
            <se:Stroke><se:SvgParameter name="stroke">{_hex(outline_color(c))}</se:SvgParameter>"""
        f"""<se:SvgParameter name="stroke-width">1</se:SvgParameter></se:Stroke>
          </se:PolygonSymbolizer>
        </se:Rule>"""
        for c in classes
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:se="http://www.opengis.net/se" xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0"
    xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <se:Name>{escape(layer_name)}</se:Name>
    <UserStyle>
      <se:Name>{escape(layer_name)}</se:Name>
      <se:FeatureTypeStyle>
{rules}
      </se:FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
"""


_STYLE_FIELDS = (
    ("f_table_catalog", ogr.OFTString, 256),
    ("f_table_schema", ogr.OFTString, 256),
    ("f_table_name", ogr.OFTString, 256),
    ("f_geometry_column", ogr.OFTString, 256),
    ("styleName", ogr.OFTString, 30),
    ("styleQML", ogr.OFTString, 0),
    ("styleSLD", ogr.OFTString, 0),
    ("useAsDefault", ogr.OFTInteger, 0),
    ("description", ogr.OFTString, 0),
    ("owner", ogr.OFTString, 30),
    ("ui", ogr.OFTString, 30),
)


def _styles_layer(ds: ogr.DataSource) -> ogr.Layer:
    """The ``layer_styles`` table with QGIS's schema (created when missing)."""
    layer = ds.GetLayerByName("layer_styles")
    if layer is not None:
        return layer
    layer = ds.CreateLayer("layer_styles", geom_type=ogr.wkbNone)
    for name, kind, width in _STYLE_FIELDS:
        field = ogr.FieldDefn(name, kind)
        if width:
            field.SetWidth(width)
        if name == "useAsDefault":
            field.SetSubType(ogr.OFSTBoolean)
        layer.CreateField(field)
    stamp = ogr.FieldDefn("update_time", ogr.OFTDateTime)
    stamp.SetDefault("CURRENT_TIMESTAMP")
    layer.CreateField(stamp)
    return layer


def write_gpkg_default_style(gpkg_path: str, layer_name: str, qml: str, sld: str, description: str) -> None:
    """Store ``qml``/``sld`` as the default style of ``layer_name`` in the GeoPackage (QGIS's schema)."""
    ds = ogr.Open(gpkg_path, update=1)
    try:
        data_layer = ds.GetLayerByName(layer_name)
        geometry_column = data_layer.GetGeometryColumn() if data_layer is not None else "geom"
        styles = _styles_layer(ds)
        styles.SetAttributeFilter(f"f_table_name = '{layer_name.replace(chr(39), chr(39) * 2)}'")
        for feature in list(styles):
            if feature.GetField("useAsDefault"):
                feature.SetField("useAsDefault", 0)
                styles.SetFeature(feature)
        styles.SetAttributeFilter(None)
        feature = ogr.Feature(styles.GetLayerDefn())
        values = {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layer_name,
            "f_geometry_column": geometry_column or "geom",
            "styleName": STYLE_NAME,
            "styleQML": qml,
            "styleSLD": sld,
            "useAsDefault": 1,
            "description": description,
            "owner": "",
            "ui": "",
        }
        for key, value in values.items():
            feature.SetField(key, value)
        styles.CreateFeature(feature)
    finally:
        ds = None


def vector_sidecar_path(vector_path: str) -> str:
    """Where QGIS looks for a file-based vector layer's default style."""
    return os.path.splitext(vector_path)[0] + ".qml"
