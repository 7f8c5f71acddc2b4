#!/usr/bin/env bash
# Leave-one-event-out validation of burned_s2: one model per held-out fire, same recipe as the
# bundled model (training/make_models.sh), exported to ONNX for scoring through the plugin:
#   /work/main/.venv/bin/python training/evaluate.py burned --models 'training/runs/burned_s2_loeo_{case}/model.onnx'
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv-train/bin/python
STEPS="${STEPS:-800}"
EVENTS="${EVENTS:-1-12_20200824 1-7_20200817 10TH_20240624 4-3_PUMA_20210624 4-8_20200817 CLEAR_20240626 DOVE_20241019}"
for ev in $EVENTS; do
  nice -n 10 "$PY" train.py --task burned_s2 --holdout "$ev" --tag "loeo_$ev" --steps "$STEPS" --seed 1 --threads 1 | tail -n 1
  "$PY" export.py --task burned_s2 --run "runs/burned_s2_loeo_$ev" --out "runs/burned_s2_loeo_$ev/model.onnx"
done
