#!/usr/bin/env bash
# The inference benchmark on the CUDA provider, with the CPU baseline on the same machine.
# Needs an NVIDIA GPU and onnxruntime-gpu (same version) installed instead of onnxruntime:
#   .venv/bin/pip install -c <(echo numpy==$(python3 -c 'import numpy; print(numpy.__version__)')) onnxruntime-gpu==1.32.0
# Usage: bash tools/bench_gpu.sh [OUT.json] [SIZE]   (writes keys inference_cpu and inference_cuda)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-build/bench_gpu.json}"
SIZE="${2:-4096}"
PY="${PY:-.venv/bin/python}"
"$PY" - <<'PYEOF'
import sys
import onnxruntime as ort
if "CUDAExecutionProvider" not in ort.get_available_providers():
    sys.exit(f"CUDA is not offered by onnxruntime {ort.__version__} ({ort.get_available_providers()}): install onnxruntime-gpu.")
PYEOF
"$PY" tools/bench_inference.py --device cpu --size "$SIZE" --key inference_cpu --out "$OUT"
"$PY" tools/bench_inference.py --device cuda --size "$SIZE" --key inference_cuda --out "$OUT"
"$PY" - "$OUT" <<'PYEOF'
import json, sys
data = json.load(open(sys.argv[1]))
cpu, gpu = data["inference_cpu"], data["inference_cuda"]
speedup = cpu["pipeline_s"] / gpu["pipeline_s"]
data["cuda_speedup"] = round(speedup, 2)
json.dump(data, open(sys.argv[1], "w"), indent=2)
print(f"CUDA speed-up, end-to-end streamed inference: {speedup:.1f}x "
      f"({cpu['pipeline_s']:.1f} s CPU -> {gpu['pipeline_s']:.1f} s CUDA; overhead on CUDA {gpu['overhead_pct']:.0f} %)")
PYEOF
