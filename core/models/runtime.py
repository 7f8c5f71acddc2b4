"""onnxruntime sessions: lazy import, execution providers (never a silent fallback), a session cache.

onnxruntime is imported only when a model runs, so the plugin and its other
algorithms load without it; when it is missing, :func:`import_onnxruntime` raises
one sentence that says how to install it for the Python running QGIS.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ModelFileError, ProviderError, RuntimeMissingError

# User-facing device names -> onnxruntime execution provider names.
DEVICES = (
    ("cpu", "CPU", "CPUExecutionProvider"),
    ("cuda", "NVIDIA GPU (CUDA)", "CUDAExecutionProvider"),
    ("directml", "GPU via DirectML (Windows)", "DmlExecutionProvider"),
    ("coreml", "Apple CoreML", "CoreMLExecutionProvider"),
    ("rocm", "AMD GPU (ROCm)", "ROCMExecutionProvider"),
)
_PROVIDER = {key: provider for key, _label, provider in DEVICES}
_LABEL = {key: label for key, label, _provider in DEVICES}


def python_executable(
    executable: str | None = None,
    prefix: str | None = None,
    platform: str | None = None,
    version: tuple[int, int] | None = None,
    exists: Callable[[str], bool] = os.path.isfile,
) -> str:
    """The Python interpreter running this code, found from its prefix (defaults: this process).

    Inside QGIS ``sys.executable`` is often not that interpreter: the QGIS program itself
    (``qgis-bin.exe``, ``QGIS.app/Contents/MacOS/QGIS``, ``/usr/bin/qgis``) or whatever ``python3``
    came first on the PATH (e.g. a pyenv shim of another Python). ``sys.exec_prefix`` is the running
    interpreter's own; ``sys.executable`` is only the last resort.
    """
    executable = sys.executable if executable is None else executable
    prefix = sys.exec_prefix if prefix is None else prefix
    platform = sys.platform if platform is None else platform
    major, minor = version or sys.version_info[:2]
    if platform.startswith("win"):
        candidates = [os.path.join(prefix, "python.exe"), os.path.join(prefix, "python3.exe")]
    else:
        candidates = [os.path.join(prefix, "bin", f"python{major}.{minor}"), os.path.join(prefix, "bin", "python3")]
        if platform == "darwin":  # QGIS.app keeps its python3 next to the QGIS program
            candidates.append(os.path.join(os.path.dirname(executable), "bin", "python3"))
    return next((c for c in candidates if exists(c)), executable or "python3")


def pip_command() -> str:
    """The pip command that installs onnxruntime for the Python running this code."""
    flags = ""
    if os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"], "EXTERNALLY-MANAGED")):
        flags = " --user --break-system-packages"  # Debian/Ubuntu system Python (PEP 668)
    return f'"{python_executable()}" -m pip install{flags} onnxruntime'


def import_onnxruntime() -> Any:
    """The onnxruntime module, or :class:`RuntimeMissingError` saying how to install it."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise RuntimeMissingError(
            "Running models needs the onnxruntime package, which is not installed for this QGIS: run "
            f"{pip_command()} (on Windows in the OSGeo4W Shell: python -m pip install onnxruntime) and restart QGIS."
        ) from exc
    return onnxruntime


def available_devices() -> list[str]:
    """Device keys whose execution provider the installed onnxruntime offers (``cpu`` first)."""
    try:
        ort = import_onnxruntime()
    except RuntimeMissingError:
        return ["cpu"]
    offered = set(ort.get_available_providers())
    return [key for key, _label, provider in DEVICES if provider in offered]


def device_label(key: str) -> str:
    """Human name of a device key."""
    return _LABEL.get(key, key)


@dataclass(frozen=True)
class SessionKey:
    """What makes two sessions interchangeable."""

    path: str
    mtime_ns: int
    size: int
    device: str
    threads: int


_CACHE: dict[SessionKey, Any] = {}
_LOCK = threading.Lock()
_CACHE_SIZE = 4


def session_key(path: str, device: str, threads: int) -> SessionKey:
    """The cache key of ``path`` as it is on disk now (an edited file gets a new session)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ModelFileError(f"The model file '{path}' cannot be read ({exc.strerror}).") from exc
    return SessionKey(os.path.abspath(path), info.st_mtime_ns, info.st_size, device, threads)


def _create(key: SessionKey) -> Any:
    ort = import_onnxruntime()
    provider = _PROVIDER.get(key.device)
    if provider is None:
        raise ProviderError(f"Unknown device '{key.device}'; use one of {', '.join(_PROVIDER)}.")
    offered = ort.get_available_providers()
    if provider not in offered:
        have = ", ".join(k for k, _l, p in DEVICES if p in offered) or "none"
        raise ProviderError(
            f"The device '{device_label(key.device)}' is not offered by the installed onnxruntime "
            f"{ort.__version__} (available: {have}); install the matching onnxruntime build "
            "(onnxruntime-gpu for CUDA, onnxruntime-directml on Windows) or choose CPU."
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(int(key.threads), 0)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    providers = [provider] if provider == "CPUExecutionProvider" else [provider, "CPUExecutionProvider"]
    try:
        session = ort.InferenceSession(key.path, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types (Fail, InvalidGraph, ...)
        text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        if provider != "CPUExecutionProvider" and "provider" in text.lower():
            raise ProviderError(f"The device '{device_label(key.device)}' could not start: {text}.") from exc
        raise ModelFileError(
            f"onnxruntime cannot load '{os.path.basename(key.path)}' ({text}); check that it is a valid ONNX "
            "model exported with an opset this onnxruntime supports."
        ) from exc
    active = session.get_providers()
    if not active or active[0] != provider:
        raise ProviderError(
            f"The device '{device_label(key.device)}' was requested but onnxruntime activated "
            f"{', '.join(active) or 'nothing'} instead (its libraries, e.g. CUDA/cuDNN, are probably missing); "
            "fix the GPU installation or choose CPU."
        )
    return session


def get_session(path: str, device: str = "cpu", threads: int = 0) -> tuple[Any, bool]:
    """A cached onnxruntime session for (model file + mtime, device, threads); returns (session, reused)."""
    key = session_key(path, device, threads)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached, True
    session = _create(key)
    with _LOCK:
        stale = [k for k in _CACHE if k.path == key.path and k.mtime_ns != key.mtime_ns]
        for old in stale:
            del _CACHE[old]
        while len(_CACHE) >= _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = session
    return session, False


def clear_sessions() -> None:
    """Drop every cached session (frees model memory)."""
    with _LOCK:
        _CACHE.clear()
