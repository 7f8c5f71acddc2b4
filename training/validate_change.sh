#!/usr/bin/env bash
# Leave-cities-out validation of change_s2 on OSCD: two folds of five held-out cities each, same
# recipe as the bundled model; score through the plugin with
#   /work/main/.venv/bin/python training/evaluate.py oscd --models 'training/runs/change_s2_{fold}/model.onnx' --folds "$(cat training/oscd_folds.json)"
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv-train/bin/python
STEPS="${STEPS:-1000}"
for fold in foldA foldB; do
  cities=$("$PY" -c "import json; print(','.join(json.load(open('oscd_folds.json'))['$fold']))")
  nice -n 10 "$PY" train.py --task change_s2 --holdout "$cities" --tag "$fold" --steps "$STEPS" --seed 1 --threads 1 | tail -n 1
  "$PY" export.py --task change_s2 --run "runs/change_s2_$fold" --out "runs/change_s2_$fold/model.onnx"
done
