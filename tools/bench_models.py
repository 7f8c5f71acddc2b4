"""ONNX models and rasters for the inference benchmark, built with onnx.helper (no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from osgeo import gdal, osr

gdal.UseExceptions()
BANDS = ("B02", "B03", "B04", "B08")


class _Builder:
    """Accumulates nodes and seeded He-initialised weights."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self.params = 0
        self.count = 0

    def _name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def conv(self, x: str, cin: int, cout: int, k: int = 3, relu: bool = True) -> str:
        w = (self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
        b = np.zeros(cout, np.float32)
        wn, bn, y = self._name("w"), self._name("b"), self._name("conv")
        self.weights += [numpy_helper.from_array(w, wn), numpy_helper.from_array(b, bn)]
        self.params += w.size + b.size
        pad = k // 2
        self.nodes.append(helper.make_node("Conv", [x, wn, bn], [y], pads=[pad] * 4))
        if not relu:
            return y
        r = self._name("relu")
        self.nodes.append(helper.make_node("Relu", [y], [r]))
        return r

    def pool(self, x: str) -> str:
        y = self._name("pool")
        self.nodes.append(helper.make_node("MaxPool", [x], [y], kernel_shape=[2, 2], strides=[2, 2]))
        return y

    def up(self, x: str) -> str:
        scales = self._name("scales")
        self.weights.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), scales))
        y = self._name("up")
        self.nodes.append(helper.make_node("Resize", [x, "", scales], [y], mode="nearest"))
        return y

    def concat(self, a: str, b: str) -> str:
        y = self._name("cat")
        self.nodes.append(helper.make_node("Concat", [a, b], [y], axis=1))
        return y

    def save(self, path: Path, out: str, channels: int, name: str) -> int:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, channels, None, None])
        y = helper.make_tensor_value_info(out, TensorProto.FLOAT, [None, 2, None, None])
        graph = helper.make_graph(self.nodes, name, [x], [y], self.weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        return self.params


def unet(path: Path, in_channels: int = 8, widths: tuple[int, ...] = (16, 32, 64, 128), seed: int = 0) -> int:
    """A 4-level U-Net (two 3x3 convs per level, max-pool down, nearest up, skip concat); returns parameters."""
    b = _Builder(seed)
    x, cin, skips = "x", in_channels, []
    for i, width in enumerate(widths):
        x = b.conv(b.conv(x, cin, width), width, width)
        cin = width
        if i < len(widths) - 1:
            skips.append((x, width))
            x = b.pool(x)
    for skip, width in reversed(skips):
        x = b.concat(b.up(x), skip)
        x = b.conv(b.conv(x, cin + width, width), width, width)
        cin = width
    return b.save(path, b.conv(x, cin, 2, k=1, relu=False), in_channels, "unet")


def light(path: Path, in_channels: int = 8, seed: int = 0) -> int:
    """A cheap 3x3 + 1x1 convolution model: the I/O-bound case for memory measurements."""
    b = _Builder(seed)
    return b.save(path, b.conv(b.conv("x", in_channels, 8), 8, 2, k=1, relu=False), in_channels, "light")


def write_image(path: Path, size: int, seed: int) -> str:
    """A tiled, DEFLATE-compressed UInt16 4-band Sentinel-2-like image (DN = reflectance x 10000), written in strips."""
    driver = gdal.GetDriverByName("GTiff")
    options = ["TILED=YES", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=2", "BIGTIFF=IF_SAFER"]
    ds = driver.Create(str(path), size, size, len(BANDS), gdal.GDT_UInt16, options=options)
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    rng = np.random.default_rng(seed)
    cols = np.arange(size, dtype=np.float32)
    for row in range(0, size, 512):
        rows = np.arange(row, min(row + 512, size), dtype=np.float32)[:, None]
        field = np.sin(cols / 97.0 + seed) * np.cos(rows / 131.0)
        for i, name in enumerate(BANDS, start=1):
            noise = rng.integers(0, 200, (len(rows), size))
            values = (1500 + 1000 * i * (0.5 + 0.5 * field) + noise).astype(np.uint16)
            band = ds.GetRasterBand(i)
            band.WriteArray(values, 0, row)
            band.SetDescription(name)
    ds = None
    return str(path)
