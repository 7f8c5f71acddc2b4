#!/usr/bin/env bash
# Leave-one-city-out validation of change_s2 on OSCD: ten models, each trained on nine cities
# + simulation with the recipe of make_models.sh, scored on the city it never saw. On 2 CPU
# cores this takes ~10 x 30 min; the recorded run used a GPU machine with
#   python training/sweep.py --jobs training/sweep_jobs.json --device cuda --parallel 14
# (same steps, batch, patch and seed). Then export each run and score it through the plugin:
#   make eval ONLY=oscd   (row model:change_s2:fold reads training/runs/change_s2_<city>/model.onnx)
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv-train/bin/python
STEPS="${STEPS:-6000}"
for city in $("$PY" -c "import json; print(' '.join(json.load(open('oscd_folds.json'))))"); do
  nice -n 10 "$PY" train.py --task change_s2 --holdout "$city" --tag "$city" --steps "$STEPS" --seed 1 \
    --threads "${THREADS:-2}" | tail -n 1
  "$PY" export.py --task change_s2 --run "runs/change_s2_$city" --out "runs/change_s2_$city/model.onnx"
done
