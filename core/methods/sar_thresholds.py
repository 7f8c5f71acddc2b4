"""Water and change thresholds of the Sentinel-1 flood method (:mod:`.flood_sar`): automatic on the
whole-raster samples (held inside plausible open-water levels on calibrated dB data), or the user's.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..engine.threshold import automatic_threshold, method_label
from ..progress import Log

# Plausible automatic water thresholds on calibrated backscatter, dB (floor, ceiling) per polarisation. The
# ceilings are the permissive end of the documented open-water levels (VV < -15..-18 dB, VH < -22..-24 dB;
# domain notes); a floor keeps a split inside the water class (windy or shallow water) from dropping most of
# the water. An image without open water has no dark mode: Otsu or Kittler-Illingworth then split dry land
# and return a threshold far above these levels.
WATER_DB_BOUNDS = {"vv": (-20.0, -15.0), "vh": (-27.0, -22.0), "single": (-20.0, -15.0)}
# Calibrated backscatter (sigma0, gamma0, beta0) of a scene has a median well below 0 dB (land -5..-15 dB,
# domain notes); uncalibrated GRD digital numbers converted to dB sit at +20..+60 dB. Above this median the
# absolute water levels above do not apply and the automatic thresholds stay relative to the image.
CALIBRATED_MEDIAN_MAX_DB = 5.0


def plausible_water_threshold(value_db: float, polarisations: list[str]) -> tuple[float, str]:
    """An automatic water threshold (dB, the mean of ``polarisations``) held inside the plausible water levels.

    Returns the threshold to use and, when it was moved, one sentence saying why (else an empty string).
    """
    bounds = [WATER_DB_BOUNDS.get(p, WATER_DB_BOUNDS["single"]) for p in polarisations] or [WATER_DB_BOUNDS["single"]]
    floor = float(np.mean([b[0] for b in bounds]))
    ceiling = float(np.mean([b[1] for b in bounds]))
    if value_db > ceiling:
        return ceiling, (
            f"The automatic water threshold ({value_db:.2f} dB) is above any plausible open-water level "
            f"({ceiling:.1f} dB): the image has little or no open water, so {ceiling:.1f} dB is used."
        )
    if value_db < floor:
        return floor, (
            f"The automatic water threshold ({value_db:.2f} dB) is below the usual open-water levels "
            f"({floor:.1f} dB): it splits the water itself, so {floor:.1f} dB is used."
        )
    return value_db, ""


def water_thresholds(
    config: Any, samples: Mapping[str, np.ndarray], change: bool, unit: str, log: Log, pols: list[str]
) -> dict[str, float]:
    """Water and change thresholds: automatic on the whole-raster samples (1-D arrays ``after``, and ``before``
    and ``ratio`` with a change), or the user's; ``config`` is a :class:`~.flood_sar.SarFloodConfig`."""
    method = config.threshold_method
    after = samples["after"]
    if method == "user":
        out = {"water_after": config.water_threshold_db, "water_before": config.water_threshold_db}
        if change:
            out["change"] = config.change_threshold_db
    else:
        out = {"water_after": automatic_threshold(after, method)}
        if unit == "dB" and config.water_guard:
            median = float(np.median(after))
            if median > CALIBRATED_MEDIAN_MAX_DB:
                log(
                    f"The after image's median is {median:.1f} dB, so its values are not calibrated backscatter "
                    "(uncalibrated digital numbers): the thresholds stay relative to the image and the usual "
                    "open-water levels in dB are not applied. Calibrate to sigma0 for comparable thresholds."
                )
            else:
                out["water_after"], why = plausible_water_threshold(out["water_after"], pols)
                if why:
                    log(why)
        if change:
            # Calibrated data: water has the same backscatter on both dates, and the after image (with the
            # flood) holds the larger water class, so its threshold serves both. Display images are stretched
            # per image and need their own.
            out["water_before"] = automatic_threshold(samples["before"], method) if unit == "DN" else out["water_after"]
            drop = automatic_threshold(samples["ratio"], method)
            if drop > 0.0:
                log(f"The automatic change threshold ({drop:.2f} {unit}) is not a decrease; 0 is used.")
            out["change"] = min(drop, 0.0)
    if change:
        median = float(np.median(after))
        out["relaxed_water_after"] = out["water_after"] + 0.5 * max(median - out["water_after"], 0.0)
    label = method_label(method)
    log(f"Water threshold on the after image: {out['water_after']:.2f} {unit} ({label}).")
    if change:
        log(f"Water threshold on the before image: {out['water_before']:.2f} {unit} ({label}).")
        log(
            f"Change threshold on the log-ratio: {out['change']:.2f} {unit} ({label}); a drop below it counts as "
            f"flooding where the after value is also below {out['relaxed_water_after']:.2f} {unit}."
        )
    return out
