"""Train one model (optionally with held-out groups), log progress, save weights and metrics.

nice -n 10 .venv-train/bin/python training/train.py --task burned_s2 --holdout DOVE_20241019 --steps 400
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import time

import numpy as np
import tasks
import torch
import torch.nn.functional as F
from nets import BurnUNet, LandslideNet, SiamUNet, UNet, n_params

RUNS = pathlib.Path(__file__).resolve().parent / "runs"


def build(task: tasks.Task) -> torch.nn.Module:
    if task.name == "burned_s2":
        return BurnUNet(task.widths)
    if task.name == "landslide_s2":
        return LandslideNet(task.widths, list(task.mean), list(task.std))
    if task.two_dates:
        return SiamUNet(
            len(task.bands), task.widths, list(task.mean), list(task.std), task.per_tile, task.ratio, task.classes
        )
    return UNet(len(task.bands), task.widths, list(task.mean), list(task.std), task.per_tile, task.ratio)


def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if logits.shape[1] > 1:
        ce = F.cross_entropy(logits, y[:, 0].long(), ignore_index=255)
        valid = (y != 255).float()
        p = torch.softmax(logits, 1)[:, 1:].sum(1, keepdim=True) * valid
        t = ((y >= 1) & (y != 255)).float()
        return ce + 0.5 * (1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1))
    valid = (y != 255).float()
    t = (y == 1).float()
    bce = (F.binary_cross_entropy_with_logits(logits, t, reduction="none") * valid).sum() / valid.sum().clamp(min=1)
    p = torch.sigmoid(logits) * valid
    dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + (t * valid).sum() + 1)
    return bce + 0.5 * dice


@torch.no_grad()
def predict(net: torch.nn.Module, x: np.ndarray, dev: torch.device | None = None) -> np.ndarray:
    """Whole-image probability (pads to a multiple of 8 by reflection)."""
    net.eval()
    c, h, w = x.shape
    ph, pw = (-h) % 8, (-w) % 8
    xp = np.pad(np.nan_to_num(x), ((0, 0), (0, ph), (0, pw)), mode="reflect")
    logits = net(torch.from_numpy(xp[None].astype(np.float32)).to(dev or "cpu")).cpu()
    if logits.shape[1] > 1:
        # Multi-class: probability of "anything but class 0" (water of any kind for flood_s1).
        return (1 - torch.softmax(logits, 1)[0, 0]).numpy()[:h, :w]
    return torch.sigmoid(logits).numpy()[0, 0][:h, :w]


def score(net: torch.nn.Module, cases: list, dev: torch.device) -> dict[str, object]:
    """Per-case F1 at 0.5 and pooled F1/IoU at a few thresholds, plus the raw counts for pooling across runs."""
    probs = [(cid, predict(net, x, dev), lab) for cid, x, lab in cases]
    out: dict[str, object] = {}
    if len(probs) <= 12:
        out["per_case_f1@0.5"] = {cid: round(f1(*counts(p > 0.5, lab)), 4) for cid, p, lab in probs}
    for thr in (0.3, 0.4, 0.5, 0.6, 0.7):
        tot = np.zeros(3, int)
        for _, p, lab in probs:
            tot += counts(p > thr, lab)
        out[f"pooled_f1@{thr}"] = round(f1(*tot), 4)
        out[f"pooled_iou@{thr}"] = round(tot[0] / max(1, tot.sum()), 4)
        out[f"counts@{thr}"] = [int(v) for v in tot]
    return out


def counts(pred: np.ndarray, label: np.ndarray) -> tuple[int, int, int]:
    v = label != 255
    t = label == 1
    return int((pred & t & v).sum()), int((pred & ~t & v).sum()), int((~pred & t & v).sum())


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / max(1, 2 * tp + fp + fn)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True, choices=sorted(tasks.TASKS))
    ap.add_argument("--holdout", default="", help="comma-separated groups never trained on")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tag", default="")
    ap.add_argument("--no-eval", action="store_true", help="skip the torch-side held-out scoring")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (validation sweeps on a GPU machine)")
    ap.add_argument("--widths", default="", help="encoder widths, e.g. 16,32,64,128 (default: the task's)")
    ap.add_argument("--sim-frac", type=float, default=None, help="share of simulated samples (default: the task's)")
    ap.add_argument("--sim-kw", default=None, help='simulator settings as JSON, e.g. {"low_contrast_p": 0.7}')
    ap.add_argument("--eval-every", type=int, default=0, help="also score the held-out groups every N steps")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    task = tasks.TASKS[args.task]
    if args.widths:
        task = dataclasses.replace(task, widths=tuple(int(w) for w in args.widths.split(",")))
    if args.sim_frac is not None:
        task = dataclasses.replace(task, sim_frac=args.sim_frac)
    if args.sim_kw is not None:
        task = dataclasses.replace(task, sim_kw=args.sim_kw)
    dev = torch.device(args.device)
    holdout = [h for h in args.holdout.split(",") if h]
    sample = tasks.sampler(task, holdout)
    net = build(task).to(dev, memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    out = RUNS / f"{task.name}{'_' + args.tag if args.tag else ''}"
    out.mkdir(parents=True, exist_ok=True)
    # export.py rebuilds the network from this file, so a run with overridden widths exports as trained.
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(task)))
    cases = [] if args.no_eval else tasks.eval_cases(task, holdout)
    history = []
    print(f"{task.name}: {n_params(net)} parameters, holdout={holdout}", flush=True)
    t0 = time.time()
    run_loss = 0.0
    for step in range(1, args.steps + 1):
        batch = [sample(rng) for _ in range(task.batch)]
        x = torch.from_numpy(np.stack([b[0] for b in batch]).astype(np.float32))
        x = x.to(dev, memory_format=torch.channels_last)
        y = torch.from_numpy(np.stack([b[1] for b in batch]))[:, None].to(dev)
        net.train()
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run_loss = 0.95 * run_loss + 0.05 * loss.item() if step > 1 else loss.item()
        if step % 25 == 0:
            print(f"step {step} loss {run_loss:.4f} {time.time() - t0:.0f}s", flush=True)
        if cases and args.eval_every and step % args.eval_every == 0 and step < args.steps:
            history.append({"step": step, **score(net, cases, dev)})
            print(json.dumps(history[-1]), flush=True)
    train_s = time.time() - t0
    result = {
        "task": task.name,
        "holdout": holdout,
        "steps": args.steps,
        "seed": args.seed,
        "train_s": round(train_s, 1),
        "params": n_params(net),
    }
    torch.save({k: v.cpu() for k, v in net.state_dict().items()}, out / "weights.pt")
    if cases:
        result.update(score(net, cases, dev))
        result["history"] = history
    (out / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
