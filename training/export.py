"""Export trained weights to ONNX with metadata and sigmoid output; print size and sha256.

.venv-train/bin/python training/export.py --task burned_s2 --run runs/burned_s2_final --threshold 0.5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib

import metadata
import onnx
import tasks
import torch
from nets import WithActivation
from train import build

MODELS = pathlib.Path(__file__).resolve().parents[1] / "models"


def onnx_export(module: torch.nn.Module, dummy: torch.Tensor, dest: pathlib.Path) -> onnx.ModelProto:
    """Export ``module`` (input ``(N, C, H, W)`` float32 -> ``probability``, any batch and tile size) to ``dest``
    with opset 17 and return the loaded model with its metadata cleared, ready for ChangeLens metadata."""
    torch.onnx.export(
        module,
        dummy,
        str(dest),
        input_names=["input"],
        output_names=["probability"],
        dynamic_axes={
            "input": {0: "batch", 2: "height", 3: "width"},
            "probability": {0: "batch", 2: "height", 3: "width"},
        },
        opset_version=17,
        dynamo=False,
    )
    model = onnx.load(str(dest))
    del model.metadata_props[:]
    return model


def export(task: tasks.Task, weights: pathlib.Path, threshold: float, version: str, dest: pathlib.Path) -> str:
    net = build(task)
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    # Per-tile standardisation was the training stand-in for the runtime's per-scene
    # normalisation (metadata "normalization": "per_scene"): the exported graph leaves it out.
    if hasattr(net, "norm"):
        net.norm.per_tile = False
    net.eval()
    channels = len(task.bands) * (2 if task.two_dates else 1) + len(task.terrain)
    dummy = torch.zeros(1, channels, 64, 64)
    dest.parent.mkdir(parents=True, exist_ok=True)
    model = onnx_export(WithActivation(net, task.classes), dummy, dest)
    metadata.apply(model, task, threshold, version)
    model.producer_name = "changelens-training"
    onnx.checker.check_model(model)
    onnx.save(model, str(dest))
    return hashlib.sha256(dest.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    task = tasks.TASKS[args.task]
    run = pathlib.Path(args.run)
    if not run.is_absolute():
        run = pathlib.Path(__file__).resolve().parent / run
    config = run / "config.json"
    if config.is_file():  # the run's own settings (train.py --widths / --sim-frac overrides)
        fields = json.loads(config.read_text())
        task = tasks.Task(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
    dest = pathlib.Path(args.out) if args.out else MODELS / f"{task.name}.onnx"
    digest = export(task, run / "weights.pt", args.threshold, args.version, dest)
    print(f"{dest} {dest.stat().st_size} bytes sha256 {digest}")


if __name__ == "__main__":
    main()
