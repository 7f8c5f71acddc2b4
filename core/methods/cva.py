"""Change vector analysis: per-band differences of two dates, magnitude, direction and a threshold.

Bands are normalised per band (z-score with date 1's median and spread, or with
each date's own), optionally after relative radiometric normalisation of date 2
onto date 1 (mean and spread matched per band over pseudo-invariant pixels:
the lowest change magnitudes). Statistics and the automatic threshold come from a
regular sample of the whole raster (Malila 1980; Bovolo & Bruzzone 2007 for the
polar representation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from ..classes import ClassInfo, ClassScheme
from ..engine.filters import core_of, median_filter, pad_to_halo
from ..engine.threshold import automatic_threshold, method_label
from ..errors import EmptyDataError, ParameterError
from ..io.grid import centre_pixel_area_m2
from ..io.windows import HaloWindow
from ..outputs.styles import qml_pseudocolor
from ..outputs.writer import RasterOutput
from ..progress import Log
from . import common
from .change_vector import BandModel, change_vector_bands
from .cva_inputs import open_compared
from .declaration import Choice, Flag, ImageInput, IndexMethod, Number, Opened, RasterOut, Result, RunRequest, Text

CHANGE = ClassScheme(
    (ClassInfo(1, "No change", "#d9d9d9", background=True), ClassInfo(2, "Change", "#e31a1c")),
    nodata=0,
)
NORMALISATIONS = (
    ("date", "Z-score per band, each date with its own median and spread (MAD): removes gain between dates"),
    ("reference", "Z-score per band with date 1's median and spread (MAD), the same scale for both dates"),
    ("none", "None (raw differences)"),
)
PIF_QUANTILE = 0.3
# Pixels this fine (metres) are very-high-resolution imagery (aerial, Google Earth, Pleiades ...): changes are
# objects many pixels wide, shadows and roofs make the magnitude heavy-tailed, and Kittler-Illingworth's
# minimum-error split lands in that tail. Images without a CRS (photos, PNG chips) are treated as VHR.
VHR_MAX_PIXEL_M = 5.0


@dataclass(frozen=True)
class CvaConfig:
    """Bands (names or 1-based indices; empty = all shared bands), normalisation and threshold."""

    bands: tuple[str, ...] = ()
    normalisation: str = "reference"
    radiometric_normalisation: bool = False
    threshold_method: str = "ki"
    user_threshold: float = 2.0
    smooth_px: int = 3
    resampling: str = "bilinear"
    pixel_aligned: bool = False  # dates without georeferencing on one pixel grid (areas unknown)
    pixel_size_defaults: bool = True  # VHR images (vhr_defaults) get their own threshold and smoothing defaults
    cloud_mask: str = "auto"  # the product's mask ("auto"), "none", or ukis-csmask's where none ("csmask")

    def __post_init__(self) -> None:
        if self.normalisation not in dict(NORMALISATIONS):
            raise ParameterError(f"Unknown normalisation '{self.normalisation}'.")
        common.check_threshold_method(self.threshold_method)
        if self.smooth_px < 1 or self.smooth_px % 2 == 0:
            raise ParameterError("The smoothing window must be an odd number of pixels (1 = none).")


def vhr_defaults(pixel_size_m: float | None) -> dict[str, object]:
    """Settings that replace the standard defaults for a pixel size (None = unknown, no CRS); {} = standard.

    Chosen on the 11 labelled LEVIR pairs (0.5 m RGB): Otsu instead of Kittler-Illingworth lifts pooled F1
    from 0.194 to 0.231, and a 7 px median of the magnitude (the middle of the 5-11 px plateau) to 0.235;
    checked on a constructed pair that played no part in the choice (tools/eval/vhr_check_pair.py).
    """
    if pixel_size_m is not None and pixel_size_m > VHR_MAX_PIXEL_M:
        return {}
    return {"threshold_method": "otsu", "smooth_px": 7}


def resolve_config(config: CvaConfig, pixel_size_m: float | None) -> tuple[CvaConfig, str]:
    """The config to run: the VHR settings replace the standard defaults (never a user's other choice)."""
    if not config.pixel_size_defaults:
        return config, ""
    standard = CvaConfig()
    changes = {k: v for k, v in vhr_defaults(pixel_size_m).items() if getattr(config, k) == getattr(standard, k) != v}
    if not changes:
        return config, ""
    size = "no CRS" if pixel_size_m is None else f"{pixel_size_m:.2g} m pixels"
    how = ", ".join(f"{k} = {v}" for k, v in changes.items())
    return replace(config, **changes), f"Very-high-resolution image ({size}): {how} instead of the standard defaults."


def robust_location_spread(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-band median and normal-consistent MAD (1.4826 x median absolute deviation) of
    ``samples`` (bands x pixels); two 1-D arrays of length bands. Changed pixels, a minority,
    barely move them; a zero MAD falls back to the standard deviation.
    """
    median, mad, fallback = (np.empty(samples.shape[0]) for _ in range(3))
    for b, band in enumerate(samples):  # band by band: temporaries of one band, not of the whole stack
        median[b] = np.median(band)
        mad[b] = 1.4826 * np.median(np.abs(band - median[b]))
        fallback[b] = band.std()
    return median, np.where(mad > 0, mad, fallback)


def fit_model(s1: np.ndarray, s2: np.ndarray, config: CvaConfig) -> BandModel:
    """Normalisation (and optional radiometric normalisation) from paired samples (bands x pixels)."""
    n = s1.shape[0]
    notes = []
    gain2, offset2 = np.ones(n), np.zeros(n)
    if config.radiometric_normalisation:
        # Pseudo-invariant pixels: the lowest change magnitudes once each date is put on its own robust
        # scale (so a gain or offset between the dates does not hide them); then date 2 is matched to
        # date 1 band by band on their mean and spread (no regression dilution from noise in date 2).
        (m1, d1), (m2, d2) = robust_location_spread(s1), robust_location_spread(s2)
        z1 = (s1 - m1[:, None]) / d1[:, None]
        z2 = (s2 - m2[:, None]) / d2[:, None]
        mag = np.sqrt(((z2 - z1) ** 2).sum(axis=0))
        pif = mag <= np.quantile(mag, PIF_QUANTILE)
        for b in range(n):
            x, y = s2[b, pif], s1[b, pif]
            spread = x.std()
            gain2[b] = y.std() / spread if spread > 0 else 1.0
            offset2[b] = y.mean() - gain2[b] * x.mean()
        notes.append(
            f"Relative radiometric normalisation of date 2 onto date 1 over {int(pif.sum())} pseudo-invariant "
            f"sample pixels: gains {', '.join(f'{g:.3f}' for g in gain2)}."
        )
    if config.normalisation == "none":
        return BandModel(np.ones(n), np.zeros(n), gain2, offset2, notes)
    mu1, sd1 = robust_location_spread(s1)
    if config.normalisation == "reference":
        mu2, sd2 = mu1, sd1
    else:
        mu2, sd2 = robust_location_spread(s2 * gain2[:, None] + offset2[:, None])
    sd1 = np.where(sd1 > 0, sd1, 1.0)
    sd2 = np.where(sd2 > 0, sd2, 1.0)
    return BandModel(1.0 / sd1, -mu1 / sd1, gain2 / sd2, (offset2 - mu2) / sd2, notes)


def change_classes(magnitude: np.ndarray, threshold: float) -> np.ndarray:
    """Class per pixel (uint8, shape of ``magnitude``): 1 no change, 2 change (magnitude > threshold), 0 no data."""
    classes = np.ones(magnitude.shape, np.uint8)
    with np.errstate(invalid="ignore"):
        np.copyto(classes, np.uint8(2), where=magnitude > threshold)
    np.copyto(classes, np.uint8(CHANGE.nodata), where=~np.isfinite(magnitude))
    return classes


def _band_list(text: str) -> tuple[str, ...]:
    return tuple(b.strip() for b in text.replace(";", ",").split(",") if b.strip())


DEFAULTS = CvaConfig()


class ChangeVectors(IndexMethod):
    """Change magnitude (and direction) from any number of bands of two dates."""

    id = "cva"
    title = "Change detection (change vector analysis)"
    group = "change"
    task = "change"
    panel_label = "Change vector analysis"
    summary = (
        "Index method: per-band normalised difference vector between the dates; its magnitude is "
        "thresholded automatically (Kittler-Illingworth minimum error). Uses every band both images share."
    )
    measure_name = "change magnitude"
    scheme = CHANGE
    config_type = CvaConfig
    measure_output = "magnitude"
    pointwise_measures = True
    params = (
        ImageInput(
            "DATE1",
            "Date 1 image",
            "First image (any number of bands); its grid is the output grid.",
            key="before",
            title="date 1 image",
        ),
        ImageInput(
            "DATE2",
            "Date 2 image",
            "Second image with the same bands, any grid overlapping the first.",
            key="after",
            title="date 2 image",
        ),
        Text(
            "BANDS",
            "Bands to compare (names or numbers; empty: all shared)",
            "Comma-separated band names or numbers compared on both dates.",
            field="bands",
            optional=True,
            parse=_band_list,
        ),
        common.threshold_method(
            DEFAULTS.threshold_method,
            help="How the threshold on the change magnitude is found (on a sample of the whole image).",
        ),
        Number(
            "THRESHOLD_VALUE",
            "User threshold on the magnitude",
            "Used only with the user threshold: magnitudes above this are change.",
            True,
            field="user_threshold",
            default=DEFAULTS.user_threshold,
            minimum=0.0,
        ),
        Choice(
            "NORMALISATION",
            "Per-band normalisation",
            "How each band is scaled before the change vector is computed.",
            True,
            field="normalisation",
            choices=NORMALISATIONS,
            default=DEFAULTS.normalisation,
        ),
        Flag(
            "RADIOMETRIC",
            "Relative radiometric normalisation of date 2 (pseudo-invariant pixels)",
            "Matches date 2 to date 1 over pixels that change least (pseudo-invariant features).",
            True,
            field="radiometric_normalisation",
        ),
        Number(
            "SMOOTH",
            "Median smoothing window of the magnitude (odd, 1 = none)",
            "Focal median of the magnitude that removes isolated pixels.",
            True,
            field="smooth_px",
            default=DEFAULTS.smooth_px,
            minimum=1,
            maximum=15,
            integer=True,
        ),
        Flag(
            "PIXEL_SIZE_DEFAULTS",
            "Defaults by pixel size (VHR: Otsu, 7 px median)",
            "On very-high-resolution images (pixels of 5 m or finer, or no CRS) the threshold and smoothing left "
            "at their standard defaults (Kittler-Illingworth, 3 px) become Otsu and a 7 px median.",
            True,
            field="pixel_size_defaults",
            default=True,
        ),
        common.resampling("Resampling of date 2 onto the date 1 grid"),
        common.pixel_aligned(),
        RasterOut("OUTPUT", "Change", "Classes 1 = no change, 2 = change (0 = no data).", key="classes"),
        RasterOut(
            "OUTPUT_MAGNITUDE",
            "Change magnitude",
            "Length of the change vector, in the units of the (normalised) bands.",
            key="magnitude",
            optional=True,
        ),
        RasterOut(
            "OUTPUT_DIRECTION",
            "Change direction (2 bands only)",
            "Angle of the change vector in degrees (two bands only).",
            key="direction",
            optional=True,
            create_by_default=False,
            layer="Change direction",
        ),
        common.cloud_mask(),
    )
    results = (
        Result("CHANGED_AREA_HA", "Changed area (ha)", "mapped_area_ha"),
        Result("THRESHOLD", "Threshold used", "threshold"),
    )
    help_html = (
        "Maps change between two images of any sensor with the same bands.<br><br>"
        "Each band is normalised (by default with date 1's median and spread, the same scale for both "
        "dates; or each date with its own, which also removes overall brightness and contrast "
        "differences), the per-band differences form a change vector, and its "
        "length (magnitude) is thresholded: Kittler-Illingworth (default) or Otsu on a sample of the whole "
        "image, or your value (in standard deviations). With two bands the direction (degrees, 0 = band 1 "
        "increases) tells change types apart.<br>"
        "<b>Bands</b>: a comma-separated list of band names or numbers (e.g. B2,B3,B4,B8); empty = every "
        "band both images share by name (or all bands when unnamed).<br>"
        "<b>Radiometric normalisation</b> (optional): date 2 is first fitted to date 1 band by band "
        "(mean and spread matched over pseudo-invariant pixels, the 30 % with the least change).<br>"
        "<b>Smoothing</b>: a focal median of the magnitude (odd window, 1 = none) removes isolated pixels."
    )

    def open(self, request: RunRequest, scratch: str, log: Log) -> Opened:
        """Both dates on date 1's grid, with the bands to compare found by name or number."""
        config: CvaConfig = request.config
        paths = [request.images["before"], request.images["after"]]
        compared = open_compared(paths, config, scratch, log)  # type: ignore[arg-type]
        grid, bands, used = compared.grid, compared.bands, compared.used
        config, why = resolve_config(config, centre_pixel_area_m2(grid) ** 0.5 if grid.crs_wkt else None)
        if why:
            log(why)
        names = ", ".join(n for _a, _b, n in bands)
        log(f"Bands compared: {names} ({len(bands)}).")
        if request.outputs.get("direction") and len(bands) != 2:
            log("The direction output needs exactly 2 bands; it was not written.")
        inputs = {k: v for k, v in request.images.items() if v}
        used.append(("both dates", f"bands {names}"))
        details = {"bands": bands, "n": len(bands)}
        return Opened(grid, compared.readers, inputs, used, details, keep=compared.keep, config=config)

    def sample_keys(self, config: CvaConfig, opened: Opened) -> tuple[str, ...]:
        """Every band of both dates, sampled on the same pixels (valid on every band)."""
        n = opened.details["n"]
        return tuple(f"d1_{k}" for k in range(n)) + tuple(f"d2_{k}" for k in range(n))

    def measures(
        self, config: CvaConfig, opened: Opened, arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """The bands of one block (float32, core-window shape), NaN wherever any band of either date
        has no data, so that the samples of all bands stay paired pixel by pixel.
        """
        keys = self.sample_keys(config, opened)
        ok = np.all(np.isfinite(np.stack([arrays[k] for k in keys])), axis=0)
        return {k: np.where(ok, arrays[k], np.nan) for k in keys}

    def fit(self, config: CvaConfig, opened: Opened, samples: Mapping[str, np.ndarray], log: Log) -> dict[str, Any]:
        """Band normalisation, the magnitude threshold and the magnitude's 99th percentile.

        ``samples`` hold one 1-D array per band key, all the same pixels. Raises
        :class:`EmptyDataError` with fewer than 10 common valid pixels.
        """
        n = opened.details["n"]
        keys = self.sample_keys(config, opened)
        stack = np.empty((len(keys), samples[keys[0]].size), np.float64)
        for row, key in zip(stack, keys):
            row[:] = samples[key]
        if stack.shape[1] < 10:
            raise EmptyDataError("The two images have (almost) no valid pixel in common: check no data and extents.")
        model = fit_model(stack[:n], stack[n:], config)
        for note in model.notes:
            log(note)
        log(f"Per-band normalisation: {dict(NORMALISATIONS)[config.normalisation]}.")
        magnitude, _ = change_vector_bands(model, list(stack[:n, :, None]), list(stack[n:, :, None]), False)
        if config.threshold_method == "user":
            threshold = config.user_threshold
        else:
            threshold = automatic_threshold(magnitude.ravel(), config.threshold_method)
        log(f"Change threshold on the magnitude: {threshold:.3f} ({method_label(config.threshold_method)}).")
        return {"model": model, "threshold": threshold, "n": n, "high": float(np.nanpercentile(magnitude, 99)) or 1.0}

    def halo_px(self, config: CvaConfig) -> int:
        """Half the smoothing window."""
        return config.smooth_px // 2

    def compute(
        self, config: CvaConfig, fitted: Mapping[str, Any], arrays: Mapping[str, np.ndarray], window: HaloWindow
    ) -> dict[str, np.ndarray]:
        """Smoothed magnitude (float32), change classes (uint8) and, for two bands, direction of one
        block; arrays are read with a ``smooth_px // 2`` halo, outputs have the core window's shape.
        """
        n, halo = fitted["n"], config.smooth_px // 2
        magnitude, direction = change_vector_bands(
            fitted["model"],
            [arrays[f"d1_{k}"] for k in range(n)],
            [arrays[f"d2_{k}"] for k in range(n)],
            "direction" in fitted.get("wanted", ("direction",)),  # not computed when nobody asked for it
        )
        if halo:
            missing = ~np.isfinite(core_of(magnitude, window))
            magnitude = median_filter(pad_to_halo(magnitude, window, halo), config.smooth_px)
            magnitude[missing] = np.nan
        out = {"magnitude": magnitude, "classes": change_classes(magnitude, fitted["threshold"])}
        if direction is not None:
            out["direction"] = core_of(direction, window)
        return out

    def product_title(self, config: CvaConfig, opened: Opened) -> str:
        """Change (change vector analysis)."""
        return "Change (change vector analysis)"

    def output_specs(self, config: CvaConfig, opened: Opened, fitted: Mapping[str, Any]) -> dict[str, RasterOutput]:
        """Paletted change classes, the magnitude styled around the threshold, and the direction (2 bands)."""
        threshold, high = fitted["threshold"], fitted["high"]
        stops = ((0.0, "#ffffff", "0"), (threshold, "#fdae61", f"{threshold:.2f}"), (high, "#d7191c", f"{high:.2f}"))
        return {
            "classes": RasterOutput("", "Byte", CHANGE.nodata, "Change (CVA)", CHANGE),
            "magnitude": RasterOutput("", description="Change vector magnitude", qml=qml_pseudocolor(stops, 0.0, high)),
            "direction": RasterOutput("", description="Change vector direction (degrees)")
            if fitted["n"] == 2
            else None,
        }

    def extra_parameters(self, config: CvaConfig, opened: Opened, fitted: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The bands compared and the threshold used."""
        return [
            ("Bands compared", ", ".join(n for _a, _b, n in opened.details["bands"])),
            ("Threshold used", f"{fitted['threshold']:.3f}"),
        ]
