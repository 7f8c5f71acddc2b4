"""One exception root for the engine, with precise subclasses.

The Processing layer turns each of these into a single, actionable sentence.
"""

from __future__ import annotations


class ChangeLensError(Exception):
    """Root of every error raised on purpose by ChangeLens core."""


class InputError(ChangeLensError):
    """The user's input cannot be used as given (file, band, parameter)."""


class NotARasterError(InputError):
    """A path does not open as a raster with GDAL."""


class BandNotFoundError(InputError):
    """A requested band (by index or by name) is not in the raster."""


class BandCountError(InputError):
    """A raster has fewer bands than the method needs."""


class NoOverlapError(InputError):
    """Two rasters do not overlap on the ground."""


class EmptyDataError(InputError):
    """A raster holds no valid pixel where it is needed."""


class ParameterError(InputError):
    """A numeric or choice parameter is out of its valid range."""


class OutputError(ChangeLensError):
    """An output cannot be written (folder missing, not writable, bad format)."""


class CancelledError(ChangeLensError):
    """The user cancelled the run; partial outputs have been removed."""


class ModelError(ChangeLensError):
    """A model cannot be used: missing runtime, unreadable file, bad metadata or device."""


class ModelFileError(ModelError):
    """A file is not a readable ONNX model (missing, truncated or corrupt)."""


class ModelMetadataError(ModelError):
    """A model's metadata is missing, malformed or disagrees with its graph."""


class RuntimeMissingError(ModelError):
    """onnxruntime is not installed for the Python that runs ChangeLens."""


class ProviderError(ModelError):
    """The requested execution provider (CPU, CUDA, ...) is not available or did not activate."""
