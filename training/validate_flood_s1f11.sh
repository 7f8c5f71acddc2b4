#!/usr/bin/env bash
# Leave-one-event-out validation of flood_s1_after_s1f11 (after-image water) on the 8 Sen1Floods11 chips
# of 6 flood events: one model per held-out event, trained on the other events' chips + simulation, scored
# torch-side on the held-out chips (VV and VH) in runs/flood_s1_after_s1f11_loeo_<event>/result.json.
# EVENTS="India Spain" runs a subset; JOBS=2 runs two folds side by side (one thread each).
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv-train/bin/python
STEPS="${STEPS:-500}"
EVENTS="${EVENTS:-Ghana India Mekong Pakistan Somalia Spain}"
run() {
  nice -n 15 "$PY" train.py --task flood_s1_after_s1f11 --holdout "$1" --tag "loeo_$1" --steps "$STEPS" --seed 0 \
    --threads 1 | tail -n 1 > "runs/flood_s1_after_s1f11_loeo_$1.log"
}
export -f run
export PY STEPS
printf '%s\n' $EVENTS | xargs -P "${JOBS:-1}" -I{} bash -c 'run {}'
