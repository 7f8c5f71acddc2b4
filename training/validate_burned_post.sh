#!/usr/bin/env bash
# Three-fold leave-five-fires-out validation of burned_s2_post (15 fires: 7 prepost + 8 postonly
# post images), same recipe as the bundled model; score through the plugin with
#   /work/main/.venv/bin/python training/evaluate.py burned_post --models 'training/runs/burned_s2_post_{fold}/model.onnx' --folds "$(cat training/burned_post_folds.json)"
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv-train/bin/python
STEPS="${STEPS:-800}"
for fold in ${FOLDS:-foldA foldB foldC}; do
  fires=$("$PY" -c "import json; print(','.join(json.load(open('burned_post_folds.json'))['$fold']))")
  nice -n 10 "$PY" train.py --task burned_s2_post --holdout "$fires" --tag "$fold" --steps "$STEPS" --seed 1 --threads 1 | tail -n 1
  "$PY" export.py --task burned_s2_post --run "runs/burned_s2_post_$fold" --out "runs/burned_s2_post_$fold/model.onnx"
done
