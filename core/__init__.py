"""QGIS-free engine of ChangeLens: raster I/O, alignment, tiling, methods and writers.

Nothing under ``core`` may import QGIS: it depends on GDAL, numpy and (for models)
onnxruntime only, so it can be tested and reused outside QGIS.
"""
