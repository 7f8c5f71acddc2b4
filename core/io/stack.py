"""A product as one date: a VRT stack of only the bands a run needs, built in the run's scratch folder.

Nothing is copied: the stack is a small VRT that reads the product's own files. Its grid is the finest
pixel size among the bands asked for (10 m for a Sentinel-2 mix of 10 and 20 m bands, 20 m for B8A and
B12 alone); 60 m bands are only in it when asked for. Bands on that grid are read as they are; coarser
ones (or bands of a list in another CRS) are resampled with the run's resampling — bilinear by default,
never nearest unless asked, because nearest-resampled 20 m bands leave 2 x 2 block edges in anything that
compares them with 10 m bands — through a warped VRT that keeps no-data pixels out of the kernel.
Cloud-mask layers (``SCL``, ``QA_PIXEL``, ``MSK_CLASSI_*``) are added with nearest. Each band is
described by its producer's name (``B8A``, ``SR_B5``) and carries the roles it plays; the stack records
the product's files, so the product metadata (MTD, MTL) still decide radiometry and validity.

A VRT the user built whose bands come from files of different pixel sizes (``gdalbuildvrt -separate`` of
a whole Sentinel-2 product makes a 26 m grid of 10, 20 and 60 m bands) is refused in one sentence.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Mapping, Sequence
from xml.sax.saxutils import escape

from osgeo import gdal, osr

from ..errors import BandNotFoundError, InputError
from ..progress import Log, no_log
from .bandfiles import BandFile, Product, find_product
from .bandpick import bands_by_name, bands_for_roles, product_profile
from .products import SOURCES_KEY, vrt_source
from .raster import BandSpec, find_band_by_name, open_raster
from .sensors import detect_sensor

STACK_KEY = "CHANGELENS_STACK"  # dataset metadata of a stack ChangeLens built: its product's path
ROLES_KEY = "CHANGELENS_ROLES"  # band metadata: the roles a band plays in this run
_GDAL_TYPES = {gdal.GDT_Byte: "Byte", gdal.GDT_UInt16: "UInt16", gdal.GDT_Int16: "Int16", gdal.GDT_UInt32: "UInt32"}
_FLOAT_TYPES = (gdal.GDT_Float32, gdal.GDT_Float64)


@dataclass(frozen=True)
class _Source:
    file: BandFile
    ds: gdal.Dataset
    srs: osr.SpatialReference | None
    gt: tuple[float, ...]


def _open(file: BandFile, label: str) -> _Source:
    try:
        ds = gdal.OpenEx(file.path, gdal.OF_RASTER | gdal.OF_READONLY)
    except RuntimeError as exc:
        raise InputError(f"The {label}'s band file '{file.path}' cannot be read ({exc}).") from exc
    if ds is None or ds.RasterCount < file.band:
        raise InputError(f"The {label}'s band file '{file.path}' cannot be read as a raster.")
    gt = ds.GetGeoTransform(can_return_null=True)
    if gt is None or gt[2] or gt[4]:
        raise InputError(f"The {label}'s band file '{file.path}' has no north-up georeferencing.")
    wkt = ds.GetProjection()
    srs = osr.SpatialReference(wkt=wkt) if wkt else None
    return _Source(file, ds, srs, tuple(gt))


def _nodata(source: _Source, product: Product) -> float | None:
    own = source.ds.GetRasterBand(source.file.band).GetNoDataValue()
    if own is not None:
        return own
    if product.info.sensor == "sentinel2" or product_profile(product).key == "sentinel2":
        return (product.info.nodata_dn or (0.0,))[0]  # Sentinel-2 NO_DATA (DN 0), also after the offset
    if product.info.sensor.startswith("landsat") or product_profile(product).key.startswith("landsat"):
        return 0.0  # Landsat Collection 2 fill
    return None


def _grid(data: Sequence[_Source]) -> tuple[osr.SpatialReference | None, float, float, float, float, int, int]:
    """CRS, origin, pixel size and size of the stack: the finest data band's grid over all data bands."""
    ref = min(data, key=lambda s: abs(s.gt[1]))
    px, py = abs(ref.gt[1]), abs(ref.gt[5])
    xs, ys = [], []
    for s in data:
        if s.srs is not None and ref.srs is not None and not s.srs.IsSame(ref.srs):
            continue  # warped onto the reference grid; its extent in other units does not count
        xs += [s.gt[0], s.gt[0] + s.gt[1] * s.ds.RasterXSize]
        ys += [s.gt[3], s.gt[3] + s.gt[5] * s.ds.RasterYSize]
    x0 = ref.gt[0] + math.floor((min(xs) - ref.gt[0]) / px + 1e-6) * px
    y0 = ref.gt[3] - math.floor((ref.gt[3] - max(ys)) / py + 1e-6) * py
    width = int(math.ceil((max(xs) - x0) / px - 1e-6))
    height = int(math.ceil((y0 - min(ys)) / py - 1e-6))
    return ref.srs, x0, y0, px, py, width, height


def _aligned(s: _Source, srs: osr.SpatialReference | None, x0: float, y0: float, px: float, py: float) -> bool:
    same_crs = (s.srs is None) == (srs is None) and (s.srs is None or s.srs.IsSame(srs))
    col, row = (s.gt[0] - x0) / px, (y0 - s.gt[3]) / py
    return (
        same_crs
        and abs(abs(s.gt[1]) - px) <= 1e-6 * px
        and abs(abs(s.gt[5]) - py) <= 1e-6 * py
        and abs(col - round(col)) < 1e-4
        and abs(row - round(row)) < 1e-4
    )


def _band_xml(
    index: int, name: str, source_path: str, band: int, dtype: str, rect: tuple, nodata: float | None, meta: dict
) -> str:
    src_rect, dst_rect = rect
    nodata_xml = f"<NoDataValue>{_xml_number(nodata)}</NoDataValue>" if nodata is not None else ""
    source_nodata = f"<NODATA>{_xml_number(nodata)}</NODATA>" if nodata is not None else ""
    items = "".join(f'<MDI key="{escape(k)}">{escape(v)}</MDI>' for k, v in meta.items())
    kind = "ComplexSource" if nodata is not None else "SimpleSource"
    return (
        f'  <VRTRasterBand dataType="{dtype}" band="{index}">\n'
        f"    <Description>{escape(name)}</Description>{nodata_xml}<Metadata>{items}</Metadata>\n"
        f'    <{kind}><SourceFilename relativeToVRT="0">{escape(source_path)}</SourceFilename>'
        f"<SourceBand>{band}</SourceBand>"
        f'<SrcRect xOff="0" yOff="0" xSize="{src_rect[0]}" ySize="{src_rect[1]}"/>'
        f'<DstRect xOff="{dst_rect[0]:.10g}" yOff="{dst_rect[1]:.10g}" xSize="{dst_rect[2]:.10g}" '
        f'ySize="{dst_rect[3]:.10g}"/>{source_nodata}</{kind}>\n'
        "  </VRTRasterBand>\n"
    )


def _xml_number(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.17g}"


def _covers(rect: tuple, width: int, height: int) -> bool:
    """Whether a source placed at ``rect`` ((src size), (dst col, row, width, height)) fills the whole grid."""
    col, row, w, h = rect[1]
    return col <= 0 and row <= 0 and col + w >= width and row + h >= height


def _outside_value(dtype: int, nodata: float | None, covers: bool) -> tuple[str | None, float | None]:
    """The VRT data type (None: the source's) and no-data value of a band, so that pixels outside the band
    file's footprint read as no data, never as 0: its own no-data value when it has one; NaN for float bands;
    an integer band without one that does not cover the whole grid is read as Float32 (Float64 for 32-bit
    integers; its values unchanged) with NaN outside."""
    if nodata is not None:
        return None, nodata
    if dtype in _FLOAT_TYPES:
        return None, math.nan
    if covers:
        return None, None
    return ("Float64" if dtype in (gdal.GDT_Int32, gdal.GDT_UInt32) else "Float32"), math.nan


def _mask_source(mask: _Source, srs: osr.SpatialReference | None, grid: tuple, stem: str, label: str) -> tuple:
    """Where a cloud-mask layer is read from on the stack grid ``grid`` (x0, y0, px, py, width, height): the
    file itself placed by its coordinates in the stack's CRS, else a nearest-neighbour warp onto the grid
    (class codes and bits are never interpolated). Returns (path, band, rect)."""
    x0, y0, px, py, width, height = grid
    if (mask.srs is None) != (srs is None):
        raise InputError(
            f"The {label}'s mask file '{mask.file.path}' {'has no' if mask.srs is None else 'has a'} coordinate "
            f"reference system and its bands {'have one' if mask.srs is None else 'have none'}: the mask cannot be "
            "placed on the bands. Give a mask file in the bands' CRS, or choose no cloud mask."
        )
    if mask.srs is None or mask.srs.IsSame(srs):
        rect = (
            (mask.ds.RasterXSize, mask.ds.RasterYSize),
            ((mask.gt[0] - x0) / px, (y0 - mask.gt[3]) / py, mask.ds.RasterXSize * abs(mask.gt[1]) / px,
             mask.ds.RasterYSize * abs(mask.gt[5]) / py),
        )  # fmt: skip
        return mask.file.path, mask.file.band, rect
    path = _warped_band(mask, f"{stem}_{mask.file.name}_mask", grid, srs.ExportToWkt(), resampleAlg="near")
    return path, 1, ((width, height), (0, 0, width, height))


def _warped_band(
    source: _Source, stem: str, grid: tuple[float, float, float, float, int, int], wkt: str, **options: object
) -> str:
    """A warped VRT ``<stem>.vrt`` of ``source``'s band on the stack grid (x0, y0, px, py, width, height) in
    ``wkt`` (none: the source's); ``options`` are further ``gdal.WarpOptions``. Returns its path."""
    x0, y0, px, py, width, height = grid
    single = source.ds
    if source.ds.RasterCount > 1:  # GDAL before 3.7 warps every band: warp a VRT of the one band
        single = gdal.Translate(f"{stem}_band.vrt", source.ds, format="VRT", bandList=[source.file.band])
    bounds = (x0, y0 - py * height, x0 + px * width, y0)
    warp = gdal.WarpOptions(
        format="VRT", outputBounds=bounds, width=width, height=height, dstSRS=wkt or None, multithread=False, **options
    )
    gdal.Warp(f"{stem}.vrt", single, options=warp)
    return f"{stem}.vrt"


def _pixel_m(px: float, srs: osr.SpatialReference | None) -> str:
    if srs is None:
        return f"{px:g} pixel units"
    if srs.IsGeographic():
        return f"{px * 111320:.3g} m ({px:.3g} degrees)"
    return f"{px * (srs.GetLinearUnits() or 1.0):.3g} m"


def build_stack(
    product: Product,
    data: Sequence[BandFile],
    roles: Mapping[str, Sequence[str]],
    with_masks: bool,
    path: str,
    resampling: str,
    label: str,
    extra: Sequence[BandFile] = (),
) -> str:
    """Write the stack VRT of ``data`` and ``extra`` (then the product's mask layers when ``with_masks``) at
    ``path``, on the finest grid of ``data`` (``extra`` bands, e.g. for a cloud mask model, follow it).

    ``roles`` maps a band name to the roles it plays. Coarser bands or bands in another CRS go through a
    warped VRT beside ``path`` (``resampling``; no-data kept out of the kernel). Returns one log sentence.
    """
    data = list(dict.fromkeys(data))
    sources = [_open(f, label) for f in data]
    srs, x0, y0, px, py, width, height = _grid(sources)
    sources += [_open(f, label) for f in dict.fromkeys(extra) if f not in data]
    wkt = srs.ExportToWkt() if srs is not None else ""
    bands, resampled = [], []
    stem = os.path.splitext(path)[0]
    for index, s in enumerate(sources, start=1):
        src_band = s.ds.GetRasterBand(s.file.band)
        dtype = _GDAL_TYPES.get(src_band.DataType, gdal.GetDataTypeName(src_band.DataType))
        nodata = _nodata(s, product)
        meta = {ROLES_KEY: ",".join(roles.get(s.file.name, ())), "NATIVE_PIXEL_SIZE": f"{abs(s.gt[1]):.10g}"}
        source_path, band = s.file.path, s.file.band
        if _aligned(s, srs, x0, y0, px, py):
            col, row = round((s.gt[0] - x0) / px), round((y0 - s.gt[3]) / py)
            rect = ((s.ds.RasterXSize, s.ds.RasterYSize), (col, row, s.ds.RasterXSize, s.ds.RasterYSize))
            as_type, outside = _outside_value(src_band.DataType, nodata, _covers(rect, width, height))
        else:
            as_type, outside = _outside_value(src_band.DataType, nodata, False)
            source_path, band = (
                _warped_band(
                    s,
                    f"{stem}_{s.file.name}",
                    (x0, y0, px, py, width, height),
                    wkt,
                    resampleAlg=resampling,
                    outputType=gdal.GetDataTypeByName(as_type) if as_type else gdal.GDT_Unknown,
                    srcNodata=nodata,
                    dstNodata=outside,
                ),
                1,
            )
            rect = ((width, height), (0, 0, width, height))
            resampled.append(f"{s.file.name} ({_pixel_m(abs(s.gt[1]), s.srs)})")
        bands.append(_band_xml(index, s.file.name, source_path, band, as_type or dtype, rect, outside, meta))
    masks = list(product.masks.values()) if with_masks else []
    for index, mask in enumerate(masks, start=len(bands) + 1):
        m = _open(mask, label)
        mask_path, mask_band, rect = _mask_source(m, srs, (x0, y0, px, py, width, height), stem, label)
        dtype = _GDAL_TYPES.get(m.ds.GetRasterBand(mask.band).DataType, "UInt16")
        bands.append(_band_xml(index, mask.name, mask_path, mask_band, dtype, rect, None, {ROLES_KEY: "mask"}))
    files = [f.path for f in data] + [m.path for m in masks]
    header = (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">\n'
        f"  <SRS>{escape(wkt)}</SRS>\n"
        f"  <GeoTransform>{x0:.17g}, {px:.17g}, 0, {y0:.17g}, 0, {-py:.17g}</GeoTransform>\n"
        f'  <Metadata><MDI key="{STACK_KEY}">{escape(product.path)}</MDI>'
        f'<MDI key="{SOURCES_KEY}">{escape(json.dumps(files))}</MDI></Metadata>\n'
    )
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(header + "".join(bands) + "</VRTDataset>\n")
    names = ", ".join(f.name for f in data)
    added = [s.file.name for s in sources[len(data) :]]
    names += f" (and {', '.join(added)} for the cloud mask)" if added else ""
    how = f"; {', '.join(resampled)} resampled to it ({resampling})" if resampled else ""
    mask_text = f"; cloud-mask layers {', '.join(m.name for m in masks)} (nearest)" if masks else ""
    return (
        f"The {label} is the {product.title} ({product.kind}): a stack of {names} at {_pixel_m(px, srs)}{how}"
        f"{mask_text}; nothing copied ({os.path.basename(path)} in the run's scratch folder)."
    )


def stack_path(scratch: str | None, key: str) -> str:
    """Where the stack of date ``key`` goes: the run's scratch folder (a temporary one when none is given)."""
    if scratch is None:
        import tempfile

        scratch = tempfile.mkdtemp(prefix="changelens-stack-")
    return os.path.join(scratch, f"{key or 'date'}_stack.vrt")


def stack_for_roles(
    path: str,
    roles: Sequence[str],
    optional: Sequence[str],
    choices: Mapping[str, BandSpec | None],
    extra_roles: Sequence[str],
    with_masks: bool,
    scratch: str | None,
    key: str,
    label: str,
    resampling: str = "bilinear",
    log: Log = no_log,
) -> tuple[str, dict[str, str]] | None:
    """The stack of a product date for ``roles`` (plus the bands of ``extra_roles`` when the product carries
    no cloud mask: what ukis-csmask needs) and the band name chosen per role; None when ``path`` is not a
    product. Logs what was built."""
    product = find_product(path)
    if product is None:
        return None
    chosen = bands_for_roles(product, roles, optional, choices, label)
    played: dict[str, list[str]] = {}
    for role, file in chosen.items():
        played.setdefault(file.name, []).append(role)
    data = [f for r, f in chosen.items() if r not in ("scl", "qa")]
    if not data:
        raise BandNotFoundError(f"The {label} ({product.title}) has none of the bands the run needs.")
    extra = _extra(product, extra_roles, label)
    out = stack_path(scratch, key)
    log(build_stack(product, data, played, with_masks, out, resampling, label, extra))
    return out, {role: file.name for role, file in chosen.items()}


def _extra(product: Product, roles: Sequence[str], label: str) -> list[BandFile]:
    """The bands of ``roles`` a product has, only when it carries no cloud mask (they feed ukis-csmask)."""
    if not roles or product.masks:
        return []
    return list(bands_for_roles(product, roles, roles, {}, label).values())


def stack_for_names(
    product: Product,
    names: Sequence[str],
    extra_roles: Sequence[str],
    with_masks: bool,
    scratch: str | None,
    key: str,
    label: str,
    resampling: str = "bilinear",
    log: Log = no_log,
) -> tuple[str, list[str]]:
    """The stack of a product date holding the bands ``names`` (names or the producer's band numbers; all
    bands up to 20 m when empty), then the bands of ``extra_roles`` it has; returns its path and the names
    of the ``names`` bands in the stack."""
    data = bands_by_name(product, names, label)
    out = stack_path(scratch, key)
    log(build_stack(product, data, {}, with_masks, out, resampling, label, _extra(product, extra_roles, label)))
    return out, [b.name for b in data]


def stack_sources(ds: gdal.Dataset) -> list[str]:
    """The product files a stack ChangeLens built reads ([] for any other raster)."""
    text = ds.GetMetadataItem(SOURCES_KEY) or ""
    try:
        files = json.loads(text) if text else []
    except ValueError:
        return []
    return [str(f) for f in files]


def refuse_mixed_vrt(ds: gdal.Dataset, label: str) -> None:
    """Raise :class:`InputError` for a VRT (not built by ChangeLens) whose bands come from files of
    different pixel sizes: GDAL resampled them all onto one grid, often a coarse one."""
    if ds.GetDriver().ShortName != "VRT" or ds.GetMetadataItem(STACK_KEY) or ds.RasterCount < 2:
        return
    sizes = {}
    for index in range(1, ds.RasterCount + 1):
        source = vrt_source(ds, index)
        if not source:
            continue
        try:
            src = gdal.OpenEx(source, gdal.OF_RASTER | gdal.OF_READONLY)
        except RuntimeError:
            continue
        gt = src.GetGeoTransform(can_return_null=True) if src is not None else None
        if gt is not None:
            sizes[index] = abs(gt[1])
    if sizes and max(sizes.values()) > 1.01 * min(sizes.values()):
        listed = sorted({f"{v:.4g}" for v in sizes.values()}, key=float)
        grid = ds.GetGeoTransform()
        raise InputError(
            f"The {label} is a VRT whose bands come from files of different pixel sizes ({', '.join(listed)}), "
            f"all resampled by GDAL onto one {abs(grid[1]):.4g} grid: give the product or the folder of band files "
            "instead (ChangeLens then stacks only the bands it needs at the finest pixel size), or build the VRT "
            "from bands of one pixel size."
        )


def date_has_role(path: str, role: str) -> bool:
    """Whether the date at ``path`` (a raster or a product) has a band for ``role`` by its sensor's names."""
    product = find_product(path)
    if product is not None:
        return any(product.band(c) is not None for c in product_profile(product).candidates(role))
    ds = open_raster(path)
    return find_band_by_name(ds, *detect_sensor(ds).candidates(role)) is not None


def open_date_raster(path: str, label: str) -> gdal.Dataset:
    """``path`` opened read-only, refused when it is a VRT that mixes pixel sizes (:func:`refuse_mixed_vrt`)."""
    ds = open_raster(path)
    refuse_mixed_vrt(ds, label)
    return ds
