"""Pooled confusion counts of a classified output against a label raster on the output's grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from osgeo import gdal

gdal.UseExceptions()


@dataclass
class Counts:
    """Pooled pixel counts (no data of either raster excluded)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> None:
        """Accumulate boolean maps over ``valid`` pixels."""
        p, t = predicted[valid], truth[valid]
        self.tp += int(np.count_nonzero(p & t))
        self.fp += int(np.count_nonzero(p & ~t))
        self.fn += int(np.count_nonzero(~p & t))
        self.tn += int(np.count_nonzero(~p & ~t))

    def metrics(self) -> dict[str, float | None]:
        """Precision, recall, F1 and IoU of the positive class (None when undefined)."""

        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "precision": ratio(self.tp, self.tp + self.fp),
            "recall": ratio(self.tp, self.tp + self.fn),
            "f1": ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn),
            "iou": ratio(self.tp, self.tp + self.fp + self.fn),
        }


def label_on_grid(label_path: str, reference_path: str) -> tuple[np.ndarray, float | None]:
    """The label's first band on the reference raster's grid (nearest neighbour), and its nodata value."""
    ref = gdal.Open(reference_path)
    lab = gdal.Open(label_path)
    nodata = lab.GetRasterBand(1).GetNoDataValue()
    same_size = (lab.RasterXSize, lab.RasterYSize) == (ref.RasterXSize, ref.RasterYSize)
    georef = bool(ref.GetProjection()) and bool(lab.GetProjection())
    if same_size and (not georef or np.allclose(lab.GetGeoTransform(), ref.GetGeoTransform())):
        return lab.GetRasterBand(1).ReadAsArray(), nodata
    if not georef:
        raise ValueError(f"{label_path} and {reference_path} differ in size and are not georeferenced")
    gt = ref.GetGeoTransform()
    bounds = (gt[0], gt[3] + gt[5] * ref.RasterYSize, gt[0] + gt[1] * ref.RasterXSize, gt[3])
    first = gdal.Translate("", lab, format="VRT", bandList=[1]) if lab.RasterCount > 1 else lab
    warped = gdal.Warp(
        "",
        first,
        format="MEM",
        outputBounds=bounds,
        width=ref.RasterXSize,
        height=ref.RasterYSize,
        dstSRS=ref.GetProjection(),
        resampleAlg="near",
        dstNodata=nodata if nodata is not None else 255,
    )
    return warped.GetRasterBand(1).ReadAsArray(), nodata if nodata is not None else 255


def score_case(
    prediction_path: str,
    label_path: str,
    positive_classes: tuple[int, ...],
    label_positive: tuple[int, ...],
    label_ignore: tuple[int, ...],
    counts: Counts,
) -> None:
    """Add one case: prediction no data (0) and label no data / ignore values are left out."""
    pred_ds = gdal.Open(prediction_path)
    pred = pred_ds.GetRasterBand(1).ReadAsArray()
    pred_nodata = pred_ds.GetRasterBand(1).GetNoDataValue()
    label, label_nodata = label_on_grid(label_path, prediction_path)
    valid = np.ones(pred.shape, bool)
    if pred_nodata is not None:
        valid &= pred != pred_nodata
    if label_nodata is not None:
        valid &= label != label_nodata
    for value in label_ignore:
        valid &= label != value
    counts.add(np.isin(pred, positive_classes), np.isin(label, label_positive), valid)
