"""Score exported models through the plugin's own inference (``core.models.inference.run_model``) next to
the index baseline on the same cases. Run with the test venv (GDAL + onnxruntime, no torch):

    /work/main/.venv/bin/python training/evaluate.py burned --models 'training/runs/burned_s2_loeo_{case}/model.onnx'
    /work/main/.venv/bin/python training/evaluate.py ombria --models models/flood_s1.onnx
    /work/main/.venv/bin/python training/evaluate.py water --models models/flood_s1_after.onnx
    /work/main/.venv/bin/python training/evaluate.py oscd --models 'training/runs/change_s2_{fold}/model.onnx'

``{case}`` in ``--models`` is replaced by the case id (leave-one-out folds); ``{fold}`` by the
fold that held the case out (``--folds`` JSON: fold -> cases).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

import numpy as np
from osgeo import gdal, osr

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import baselines as bl  # noqa: E402

from core.models.inference import InferenceConfig, InferenceOutputs, run_model  # noqa: E402

gdal.UseExceptions()
DATA = pathlib.Path(os.environ.get("CHANGELENS_DATA", HERE.parents[1] / "shared" / "data"))
CACHE = HERE / "cache"


def predict(model: str, images: list[str], ref: str, workdir: str, bands: tuple[int, ...] | None = None) -> np.ndarray:
    """Class raster of ``model`` on ``images`` (plugin inference) on the grid of ``ref`` (255 = none)."""
    out = str(pathlib.Path(workdir) / f"cls_{time.perf_counter_ns()}.tif")
    run_model(model, images, InferenceOutputs(classes=out), InferenceConfig(threads=1, band_numbers=bands))
    r = gdal.Open(ref)
    gt = r.GetGeoTransform()
    w, h = r.RasterXSize, r.RasterYSize
    ds = gdal.Warp(
        "",
        out,
        format="MEM",
        outputBounds=(gt[0], gt[3] + gt[5] * h, gt[0] + gt[1] * w, gt[3]),
        width=w,
        height=h,
        resampleAlg="near",
        dstNodata=255,
    )
    return ds.ReadAsArray()


def model_for(pattern: str, case: str, folds: dict[str, list[str]]) -> str:
    fold = next((f for f, cases in folds.items() if case in cases), "")
    return pattern.replace("{case}", case).replace("{fold}", fold)


def eval_burned(args: argparse.Namespace, work: str) -> dict:
    tot_m, tot_b, rows = np.zeros(3, np.int64), np.zeros(3, np.int64), {}
    for ev in sorted(p for p in (DATA / "burned" / "prepost").iterdir() if p.is_dir()):
        if args.cases and ev.name not in args.cases:
            continue
        z = np.load(CACHE / f"burned_prepost_{ev.name}.npz")
        pred = (
            predict(
                model_for(args.models, ev.name, args.folds),
                [str(ev / "pre.tif"), str(ev / "post.tif")],
                str(ev / "mask.tif"),
                work,
            )
            == 1
        )
        cm, cb = bl.counts(pred, z["label"]), bl.counts(bl.dnbr(z["pre"], z["post"]), z["label"])
        tot_m, tot_b = tot_m + cm, tot_b + cb
        rows[ev.name] = {"model_f1": round(bl.f1(cm), 4), "dnbr_f1": round(bl.f1(cb), 4)}
    return {
        "cases": rows,
        "model_f1": bl.f1(tot_m),
        "dnbr>0.1_f1": bl.f1(tot_b),
        "model_iou": bl.iou(tot_m),
        "dnbr_iou": bl.iou(tot_b),
    }


def eval_burned_post(args: argparse.Namespace, work: str) -> dict:
    """Post-image-only model on all 15 fires; baselines: post NBR below its Otsu threshold (one image)
    and, as a reference that needs a pre-fire image, dNBR > 0.1 (the source's own dNBR for postonly)."""
    tot_m, tot_b, tot_r, rows = np.zeros(3, np.int64), np.zeros(3, np.int64), np.zeros(3, np.int64), {}
    for kind in ("prepost", "postonly"):
        for ev in sorted(p for p in (DATA / "burned" / kind).iterdir() if p.is_dir()):
            z = np.load(CACHE / f"burned_{kind}_{ev.name}.npz")
            model = model_for(args.models, ev.name, args.folds)
            pred = predict(model, [str(ev / "post.tif")], str(ev / "mask.tif"), work) == 1
            post = z["post"]
            nbr = (post[0] - post[1]) / (post[0] + post[1] + 1e-9)
            base = nbr < bl.otsu(nbr)
            if kind == "prepost":
                ref = bl.dnbr(z["pre"], post)
            else:
                ref = gdal.Open(str(ev / "dnbr_source.tif")).ReadAsArray() > 0.1
            cm, cb, cr = bl.counts(pred, z["label"]), bl.counts(base, z["label"]), bl.counts(ref, z["label"])
            tot_m, tot_b, tot_r = tot_m + cm, tot_b + cb, tot_r + cr
            rows[ev.name] = {
                "model_f1": round(bl.f1(cm), 4),
                "post_nbr_otsu_f1": round(bl.f1(cb), 4),
                "dnbr_f1": round(bl.f1(cr), 4),
            }
    return {
        "cases": rows,
        "model_f1": bl.f1(tot_m),
        "post_nbr_otsu_f1": bl.f1(tot_b),
        "reference_dnbr>0.1_f1": bl.f1(tot_r),
        "model_iou": bl.iou(tot_m),
    }


def _geotiff(path: str, arr: np.ndarray) -> str:
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(path, arr.shape[1], arr.shape[0], 1, gdal.GDT_Float32)
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 4500000.0, 0.0, -10.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(arr.astype(np.float32))
    ds = None
    return path


def eval_ombria(args: argparse.Namespace, work: str) -> dict:
    """OMBRIA (evaluation only): 8-bit stretched scenes; two-date or after-only models."""
    z = np.load(CACHE / "ombria_eval.npz")
    tot_m, tot_new, tot_lr, tot_dark = (np.zeros(3, np.int64) for _ in range(4))
    for i, sid in enumerate(z["ids"]):
        if args.split != "all" and i % 2 != (args.split == "odd"):
            continue  # even scenes choose simulation settings, odd scenes report (training never sees either)
        b, a, lab = z["before"][i].astype(np.float32), z["after"][i].astype(np.float32), z["label"][i]
        pb, pa = _geotiff(f"{work}/b{sid}.tif", b), _geotiff(f"{work}/a{sid}.tif", a)
        images = [pb, pa] if args.two_dates else [pa]
        cls = predict(args.models, images, pa, work, (1,))
        # Water after the event: "water" (after-only model) or "permanent water" + "flooded" (flood_s1).
        tot_m += bl.counts((cls >= 1) & (cls != 255), lab)
        tot_new += bl.counts(cls == 2, lab)
        tot_lr += bl.counts(bl.log_ratio_otsu(b, a), lab)
        tot_dark += bl.counts(bl.dark_water_otsu(a), lab)
    return {
        "scenes": len(z["ids"]) if args.split == "all" else f"{args.split} half of {len(z['ids'])}",
        "model_f1": bl.f1(tot_m),
        "model_precision": float(tot_m[0] / max(1, tot_m[0] + tot_m[1])),
        "model_recall": float(tot_m[0] / max(1, tot_m[0] + tot_m[2])),
        "model_new_water_only_f1": bl.f1(tot_new),
        "log_ratio_otsu_f1": bl.f1(tot_lr),
        "after_otsu_f1": bl.f1(tot_dark),
        "model_iou": bl.iou(tot_m),
    }


def eval_water(args: argparse.Namespace, work: str) -> dict:
    """Sen1Floods11 hand-labelled chip: all water in one S1 image, VV and VH, scored on the held-out
    right half (columns 256-511; the left half may train flood_s1_after)."""
    out = {}
    for chip in sorted((DATA / "flood" / "sen1floods11").iterdir()):
        z = dict(np.load(CACHE / f"s1f11_{chip.name}.npz"))
        z["label"] = z["label"].copy()
        z["label"][:, :256] = 255
        for band, name in ((1, "VV"), (2, "VH")):
            pred = predict(args.models, [str(chip / "S1Hand.tif")], str(chip / "S1Hand.tif"), work, (band,)) == 1
            cm, cb = bl.counts(pred, z["label"]), bl.counts(bl.dark_water_otsu(z["s1"][band - 1]), z["label"])
            out[f"{chip.name}_{name}"] = {
                "model_iou": round(bl.iou(cm), 4),
                "model_f1": round(bl.f1(cm), 4),
                "otsu_iou": round(bl.iou(cb), 4),
                "otsu_f1": round(bl.f1(cb), 4),
            }
    return out


def eval_oscd(args: argparse.Namespace, work: str) -> dict:
    tot_m, tot_b, rows = np.zeros(3, np.int64), np.zeros(3, np.int64), {}
    for city in sorted(p for p in (DATA / "oscd").iterdir() if p.is_dir()):
        if args.cases and city.name not in args.cases:
            continue
        z = np.load(CACHE / f"oscd_{city.name}.npz")
        t1, t2 = np.nan_to_num(z["t1"]), np.nan_to_num(z["t2"])
        paths = []
        for name, arr in (("t1", t1), ("t2", t2)):
            p = f"{work}/{city.name}_{name}.tif"
            ref = gdal.Open(str(city / "change.tif"))
            ds = gdal.GetDriverByName("GTiff").Create(p, arr.shape[2], arr.shape[1], arr.shape[0], gdal.GDT_Float32)
            ds.SetGeoTransform(ref.GetGeoTransform())
            ds.SetProjection(ref.GetProjection())
            for k, b in enumerate(("B02", "B03", "B04", "B08", "B11", "B12")):
                ds.GetRasterBand(k + 1).WriteArray(arr[k] * 10000)
                ds.GetRasterBand(k + 1).SetDescription(b)
            ds = None
            paths.append(p)
        pred = predict(model_for(args.models, city.name, args.folds), paths, str(city / "change.tif"), work) == 1
        cm, cb = bl.counts(pred, z["label"]), bl.counts(bl.cva_otsu(t1, t2), z["label"])
        tot_m, tot_b = tot_m + cm, tot_b + cb
        rows[city.name] = {"model_f1": round(bl.f1(cm), 4), "cva_f1": round(bl.f1(cb), 4)}
    return {"cases": rows, "model_f1": bl.f1(tot_m), "cva_otsu_f1": bl.f1(tot_b)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("burned", "burned_post", "ombria", "water", "oscd"))
    ap.add_argument("--models", required=True)
    ap.add_argument("--folds", type=json.loads, default={})
    ap.add_argument("--cases", type=lambda s: s.split(","), default=[], help="only these cases")
    ap.add_argument("--after-only", dest="two_dates", action="store_false")
    ap.add_argument("--split", choices=("all", "even", "odd"), default="all", help="OMBRIA scenes by index parity")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as work:
        result = {
            "burned": eval_burned,
            "burned_post": eval_burned_post,
            "ombria": eval_ombria,
            "water": eval_water,
            "oscd": eval_oscd,
        }[args.what](args, work)
    result["seconds"] = round(time.time() - t0, 1)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
