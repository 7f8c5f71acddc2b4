"""Is onnxruntime usable in this Python, which providers does it offer, and which versions run here.

Imported lazily: the index methods never need onnxruntime, and a missing or broken
install must be reported, not crash the plugin.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass

from ..io.cloudmask import csmask_version

PROVIDER_LABELS = {
    "CPUExecutionProvider": "CPU",
    "CUDAExecutionProvider": "NVIDIA GPU (CUDA)",
    "TensorrtExecutionProvider": "NVIDIA GPU (TensorRT)",
    "DmlExecutionProvider": "GPU (DirectML)",
    "CoreMLExecutionProvider": "Apple Neural Engine / GPU (CoreML)",
    "ROCMExecutionProvider": "AMD GPU (ROCm)",
    "MIGraphXExecutionProvider": "AMD GPU (MIGraphX)",
    "OpenVINOExecutionProvider": "Intel CPU/GPU (OpenVINO)",
}
# Providers that do not run a local model on this machine.
NOT_LOCAL = ("AzureExecutionProvider",)


@dataclass(frozen=True)
class RuntimeStatus:
    """onnxruntime as this Python sees it: ``state`` is ``ok``, ``missing`` or ``broken``."""

    state: str
    version: str | None = None
    providers: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when models can run."""
        return self.state == "ok"

    def devices(self) -> list[tuple[str, str]]:
        """(provider, label) for each provider that runs models locally, CPU first."""
        local = [p for p in self.providers if p not in NOT_LOCAL]
        local.sort(key=lambda p: p != "CPUExecutionProvider")
        return [(p, PROVIDER_LABELS.get(p, p.replace("ExecutionProvider", ""))) for p in local]


def onnxruntime_status() -> RuntimeStatus:
    """Import onnxruntime and list its providers, reporting what went wrong if it cannot."""
    try:
        import onnxruntime
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] != "onnxruntime":
            return RuntimeStatus("broken", error=f"onnxruntime needs the missing module '{exc.name}'")
        return RuntimeStatus("missing", error="onnxruntime is not installed for this Python")
    except Exception as exc:  # noqa: BLE001 - any import failure (DLL, numpy ABI) means "broken"
        return RuntimeStatus("broken", error=f"{type(exc).__name__}: {exc}")
    try:
        providers = tuple(onnxruntime.get_available_providers())
        version = str(onnxruntime.__version__)
    except Exception as exc:  # noqa: BLE001
        return RuntimeStatus("broken", error=f"{type(exc).__name__}: {exc}")
    if "CPUExecutionProvider" not in providers:
        return RuntimeStatus("broken", version, providers, "onnxruntime offers no CPU execution provider")
    return RuntimeStatus("ok", version, providers)


def library_versions() -> dict[str, str]:
    """Versions of Python, GDAL, numpy, onnxruntime and ukis-csmask in this interpreter (or why one is unusable)."""
    out = {"Python": f"{sys.version.split()[0]} ({sys.executable})", "Platform": platform.platform()}
    try:
        from osgeo import gdal

        out["GDAL"] = gdal.__version__
    except Exception as exc:  # noqa: BLE001
        out["GDAL"] = f"unavailable ({exc})"
    try:
        import numpy

        out["numpy"] = numpy.__version__
    except Exception as exc:  # noqa: BLE001
        out["numpy"] = f"unavailable ({exc})"
    status = onnxruntime_status()
    out["onnxruntime"] = status.version if status.ok else f"{status.state}: {status.error}"
    out["onnxruntime providers"] = ", ".join(status.providers) or "none"
    found = csmask_version()
    out["ukis-csmask"] = found or "not installed (optional: cloud masks for dates that carry none)"
    return out
