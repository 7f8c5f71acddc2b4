"""ONNX models: runtime and devices, metadata, graph checks, tiling and streamed inference."""
