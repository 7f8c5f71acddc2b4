"""What the benchmarks share: an isolated QGIS profile with a given checkout as the plugin, and a
whole process timed from outside with ``/usr/bin/time -v``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from qgis_process_runner import enable_plugin, environment  # noqa: E402


def plugin_env(work: Path, name: str, root: Path = ROOT, onnxruntime: bool = False) -> dict[str, str]:
    """Environment of ``qgis_process.bin`` with its own profile in ``work`` and the checkout ``root`` as the
    enabled ChangeLens plugin. ``onnxruntime``: give QGIS's Python this interpreter's onnxruntime (as a
    user's ``pip install --user onnxruntime`` would)."""
    plugins = work / f"plugins_{name}"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "changelens"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path(root).resolve(), target_is_directory=True)
    env = environment(work / f"profile_{name}", plugins)
    if onnxruntime:
        import onnxruntime as ort

        site = str(Path(ort.__file__).parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
    enable_plugin(env)
    return env


def timed(cmd: list[str], env: dict[str, str] | None) -> dict:
    """Run ``cmd`` as its own process under /usr/bin/time -v: wall and CPU seconds, peak RSS (MB), the
    1-minute load before it and its output. Raises ``RuntimeError`` when it fails."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    field = lambda name: float(re.search(rf"{name}: ([\d.]+)", proc.stderr).group(1))  # noqa: E731
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(field(r"User time \(seconds\)") + field(r"System time \(seconds\)"), 2),
        "peak_rss_mb": round(field(r"Maximum resident set size \(kbytes\)") / 1024, 1),
        "load_1min_before": round(load, 2),
        "output": proc.stdout + proc.stderr,
    }
