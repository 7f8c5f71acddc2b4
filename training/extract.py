"""Extract the shared GeoTIFF/PNG data into numpy caches for training (run with /usr/bin/python3).

The training venv has torch but no GDAL; QGIS's Python has GDAL but no torch. This script is the
only place that reads the rasters: it aligns every pair onto one grid and writes ``cache/*.npz``
(float32 reflectance 0..1, dB for SAR, masks as uint8 with 255 = no data).
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

OSCD_BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")


def _warp_to(path: pathlib.Path | str, ref: gdal.Dataset, resampling: str = "bilinear") -> np.ndarray:
    """Warp ``path`` onto the grid of ``ref``; NaN outside the source."""
    gt = ref.GetGeoTransform()
    w, h = ref.RasterXSize, ref.RasterYSize
    bounds = (gt[0], gt[3] + gt[5] * h, gt[0] + gt[1] * w, gt[3])
    ds = gdal.Warp(
        "",
        str(path),
        format="MEM",
        outputBounds=bounds,
        width=w,
        height=h,
        dstSRS=ref.GetProjection(),
        resampleAlg=resampling,
        outputType=gdal.GDT_Float32,
        dstNodata=float("nan"),
    )
    return ds.ReadAsArray().astype(np.float32)


def _descriptions(ds: gdal.Dataset) -> list[str]:
    return [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]


def oscd_date(city: pathlib.Path, date: str) -> np.ndarray:
    """One OSCD date's ``OSCD_BANDS`` as reflectance on the 10 m label grid (NaN outside the image)."""
    ref = gdal.Open(str(city / "change.tif"))
    return np.stack([_warp_to(city / date / f"{b}.tif", ref) / 10000.0 for b in OSCD_BANDS]).astype(np.float32)


def extract_oscd(root: pathlib.Path, out: pathlib.Path) -> None:
    for city in sorted(p for p in (root / "oscd").iterdir() if p.is_dir()):
        label = gdal.Open(str(city / "change.tif")).ReadAsArray().astype(np.uint8)
        dates = [oscd_date(city, t) for t in ("t1", "t2")]
        valid = np.isfinite(dates[0]).all(0) & np.isfinite(dates[1]).all(0)
        label[~valid] = 255
        np.savez_compressed(out / f"oscd_{city.name}.npz", t1=dates[0], t2=dates[1], label=label)
        print("oscd", city.name, label.shape, float((label == 1).mean()))


def _burn_bands(arr: np.ndarray, names: list[str]) -> np.ndarray:
    """Return [B8, B12] reflectance (0..1) from a pre/post stack."""
    return np.stack([arr[names.index("B8")], arr[names.index("B12")]]) / 10000.0


def extract_burned(root: pathlib.Path, out: pathlib.Path) -> None:
    for kind in ("prepost", "postonly"):
        for ev in sorted(p for p in (root / "burned" / kind).iterdir() if p.is_dir()):
            ref = gdal.Open(str(ev / "mask.tif"))
            mask = ref.ReadAsArray()
            post_ds = gdal.Open(str(ev / "post.tif"))
            post = _burn_bands(_warp_to(ev / "post.tif", ref, "near"), _descriptions(post_ds))
            arrays = {"post": post.astype(np.float32)}
            valid = np.isfinite(post).all(0)
            if kind == "prepost":
                pre_ds = gdal.Open(str(ev / "pre.tif"))
                pre = _burn_bands(_warp_to(ev / "pre.tif", ref, "near"), _descriptions(pre_ds))
                arrays["pre"] = pre.astype(np.float32)
                valid &= np.isfinite(pre).all(0)
            label = (mask > 0).astype(np.uint8)
            label[~valid | ~np.isfinite(mask)] = 255
            np.savez_compressed(out / f"burned_{kind}_{ev.name}.npz", label=label, **arrays)
            print("burned", kind, ev.name, label.shape, float((label == 1).mean()))


def _nbr(x: np.ndarray) -> np.ndarray:
    return (x[0] - x[1]) / (x[0] + x[1] + 1e-9)


def extract_burn_nbr(root: pathlib.Path, out: pathlib.Path) -> None:
    """NBR pre, NBR post and dNBR of all 15 fires (``burn_nested.py``, ``burn_refine.py``): the post-only
    fires' pre-fire NBR is their post NBR plus the data source's own dNBR (same grid as the mask)."""
    arrays = {}
    for kind in ("prepost", "postonly"):
        for ev in sorted(p for p in (root / "burned" / kind).iterdir() if p.is_dir()):
            z = np.load(out / f"burned_{kind}_{ev.name}.npz")
            post = _nbr(z["post"])
            if kind == "prepost":
                pre = _nbr(z["pre"])
            else:
                pre = post + gdal.Open(str(ev / "dnbr_source.tif")).ReadAsArray().astype(np.float32)
            arrays[ev.name] = np.stack([pre, post, pre - post]).astype(np.float32)
            arrays[ev.name + "__label"] = z["label"]
    np.savez_compressed(out / "burn15_nbr.npz", **arrays)
    print("burn15_nbr", len(arrays) // 2)


def extract_flood(root: pathlib.Path, out: pathlib.Path) -> None:
    for chip in sorted((root / "flood" / "sen1floods11").iterdir()):
        s1 = gdal.Open(str(chip / "S1Hand.tif")).ReadAsArray().astype(np.float32)
        lab = gdal.Open(str(chip / "LabelHand.tif")).ReadAsArray()
        label = np.where(lab < 0, 255, lab).astype(np.uint8)
        label[~np.isfinite(s1).all(0)] = 255
        np.savez_compressed(out / f"s1f11_{chip.name}.npz", s1=s1, label=label)
        print("sen1floods11", chip.name, float((label == 1).mean()))
    om = root / "flood" / "ombria_s1" / "train"
    befores, afters, masks, ids = [], [], [], []
    for p in sorted((om / "AFTER").glob("S1_after_*.png")):
        sid = p.stem.split("_")[-1]
        befores.append(gdal.Open(str(om / "BEFORE" / f"S1_before_{sid}.png")).ReadAsArray())
        afters.append(gdal.Open(str(p)).ReadAsArray())
        masks.append(gdal.Open(str(om / "MASK" / f"S1_mask_{sid}.png")).ReadAsArray())
        ids.append(sid)
    np.savez_compressed(
        out / "ombria_eval.npz",
        before=np.stack(befores).astype(np.uint8),
        after=np.stack(afters).astype(np.uint8),
        label=(np.stack(masks) > 127).astype(np.uint8),
        ids=np.array(ids),
    )
    print("ombria", len(ids))


def extract_eolearn(root: pathlib.Path, out: pathlib.Path) -> None:
    d = root / "s2_background" / "eolearn_slovenia"
    scenes = np.load(d / "REFERENCE_SCENES.npy").astype(np.float32)  # (5, H, W, 13), L1C order
    order = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
    idx = [order.index(b) for b in OSCD_BANDS]
    s = np.transpose(scenes[..., idx], (0, 3, 1, 2))
    dem = np.load(d / "DEM.npy")[..., 0].astype(np.float32)
    np.savez_compressed(out / "eolearn.npz", scenes=s, dem=dem)
    print("eolearn", s.shape)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "cache"))
    args = ap.parse_args()
    root, out = pathlib.Path(args.data), pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    extract_oscd(root, out)
    extract_burned(root, out)
    extract_burn_nbr(root, out)
    extract_flood(root, out)
    extract_eolearn(root, out)


if __name__ == "__main__":
    main()
