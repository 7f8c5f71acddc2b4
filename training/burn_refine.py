"""Train and export ``burned_s2_refine``: a small CNN that refines the offset-corrected dNBR map.

The recipe is the one ``burn_nested.py`` chose in every inner loop (``refine_residual``, 300 steps); the
bundled weights are fitted on all 15 fires (7 pre/post + 8 post-only, whose pre-fire NBR is the post NBR
plus the source's dNBR). Inside the ONNX graph the four reflectance bands (pre B08, pre B12, post B08,
post B12) become NBR of each date, dNBR, and dNBR minus the tile's dNBR offset (median over the tile's
valid pixels, clamped to +-0.1: the radiometric and phenological shift between the dates that the
unburned land shows), then the CNN adds its correction to 10 (dNBR' - 0.1).

  nice -n 15 .venv-train/bin/python training/burn_refine.py --threads 1 [--out models/burned_s2_refine.onnx]
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib
import sys
import time

import burn_nested as bn
import data
import numpy as np
import onnx
import torch
from export import onnx_export
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from core.models.meta import write_metadata  # noqa: E402

MODELS = pathlib.Path(__file__).resolve().parents[1] / "models"
STEPS = 300
SEED = 7
NAME = "burned_s2_refine"


class BurnRefineNet(nn.Module):
    """Reflectance [B, 4, H, W] (pre B08, pre B12, post B08, post B12) -> burned probability [B, 1, H, W]."""

    def __init__(self, refiner: bn.Refiner) -> None:
        super().__init__()
        self.refiner = refiner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = 1e-6
        pre_sum = x[:, 0:1] + x[:, 1:2]
        post_sum = x[:, 2:3] + x[:, 3:4]
        valid = (pre_sum > 0) & (post_sum > 0)
        nbr_pre = torch.where(valid, (x[:, 0:1] - x[:, 1:2]) / (pre_sum + eps), torch.zeros_like(pre_sum))
        nbr_post = torch.where(valid, (x[:, 2:3] - x[:, 3:4]) / (post_sum + eps), torch.zeros_like(post_sum))
        dnbr = nbr_pre - nbr_post
        # The tile's dNBR offset: median over valid pixels (invalid ones sorted to the end), clamped.
        flat = torch.where(valid, dnbr, torch.full_like(dnbr, 1e3)).flatten(1)
        ordered = torch.sort(flat, dim=1).values
        count = valid.flatten(1).sum(1, keepdim=True)
        index = torch.clamp((count - 1) // 2, min=0)
        median = torch.gather(ordered, 1, index)
        offset = torch.where(count > 0, median, torch.zeros_like(median)).clamp(-bn.OFFSET_LIMIT, bn.OFFSET_LIMIT)
        features = torch.cat([dnbr - offset[:, :, None, None], nbr_pre, nbr_post, dnbr], 1)
        features = torch.where(valid, features, torch.zeros_like(features))
        return torch.sigmoid(self.refiner(features))


def document(threshold: float) -> dict:
    return {
        "name": NAME,
        "task": "burned_area",
        "description": (
            "Burned area, Sentinel-2 pre/post (NIR + SWIR2): a small CNN that refines the dNBR map after "
            "removing the scene's dNBR offset (the shift unburned land shows between the dates). NIR is B08 "
            "(map B8A to it if that is what you have), SWIR2 is B12; 20 m."
        ),
        "classes": [
            {"name": "unburned", "color": "#d9d9d9", "background": True},
            {"name": "burned", "color": "#d7301f", "background": False},
        ],
        "layout": "concat",
        "bands": ["B08", "B12"],
        "values": "reflectance",
        "preprocessing": {"*": {"clip": [0.0, 1.5]}},
        "tile_size_px": 256,
        "tile_overlap_px": 32,
        "pixel_size_m": 20.0,
        "output": {"kind": "probabilities", "activation": "none"},
        "threshold": threshold,
        "version": "1.0.0",
        "license": "CC-BY-4.0",
        "training_data": (
            "burned/prepost (7) and burned/postonly (8) California fires: Copernicus Sentinel-2 L2A, CAL FIRE "
            "perimeters, the post-only fires' source dNBR; see models/burned_s2_refine.md"
        ),
        "url": f"models/{NAME}.md",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(MODELS / f"{NAME}.onnx"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    z = np.load(data.CACHE / "burn15_nbr.npz")
    names = list(data.BURN_EVENTS + data.POSTONLY_EVENTS)
    fires = {n: (z[n], z[n + "__label"]) for n in names}
    t0 = time.time()
    refiner = bn.fit(fires, names, residual=True, steps=STEPS, seed=SEED)
    print(f"trained on {len(names)} fires in {time.time() - t0:.0f} s", flush=True)
    net = BurnRefineNet(refiner).eval()
    dest = pathlib.Path(args.out)
    model = onnx_export(net, torch.rand(1, 4, 64, 64) * 0.4, dest)
    write_metadata(model, document(0.5))
    model.producer_name = "changelens-training"
    onnx.checker.check_model(model)
    onnx.save(model, str(dest))
    n_params = sum(p.numel() for p in refiner.parameters())
    digest = hashlib.sha256(dest.read_bytes()).hexdigest()
    print(f"{dest} {dest.stat().st_size} bytes, {n_params} parameters, sha256 {digest}")


if __name__ == "__main__":
    main()
