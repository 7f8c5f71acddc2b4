"""Streamed inference on three threads, so that onnxruntime is never kept waiting.

- a **reader** thread reads the tiles in raster order, prepares them as the metadata says and
  stacks them into batches, a few batches ahead (it alone touches the input datasets);
- the **calling** thread only feeds the batches to ``session.run`` (which releases the GIL),
  reports progress and honours cancel;
- a **writer** thread turns each output into probabilities, blends them into the row
  accumulator, and classifies and writes the rows as soon as they are final (it alone touches
  the output datasets until it has finished).

Batches go through every step in raster order, so the outputs are exactly those of one thread.
Queues are bounded (memory stays a few batches); each thread runs GDAL inside
:func:`~changelens.core.gdal_state.gdal_exceptions`. An error on any thread, or a cancel,
stops the other two before it propagates, so the caller's transaction removes every staged file.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable

import numpy as np

from ..errors import ModelError
from ..gdal_state import gdal_exceptions
from ..io.grid import Grid, pixel_area_rows_m2
from ..io.windows import Window
from ..outputs.stats import ClassStats
from ..outputs.writer import OutputSet
from .graph import GraphIO, feed, probabilities
from .inputs import PreparedInputs, read_tile
from .meta import ModelMeta
from .tiling import RowAccumulator, tile_starts, tile_weights

Item = tuple[Any, ...]


class _Stopped(Exception):
    """A helper thread was asked to stop."""


class _Stage(threading.Thread):
    """A helper thread with a bounded output queue; its error is handed to whoever reads the queue."""

    def __init__(self, name: str, depth: int) -> None:
        super().__init__(name=name, daemon=True)
        self.items: queue.Queue[Item] = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def put(self, item: Item) -> None:
        """Queue ``item``, waiting while the queue is full; raises :class:`_Stopped` once stopped, and the
        thread's own error once it has failed (so a producer never waits on a dead consumer)."""
        while True:
            if self.stopped.is_set():
                raise _Stopped
            if self.error is not None:
                raise self.error
            try:
                self.items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def get(self) -> Item:
        """The next item; re-raises this thread's error."""
        while True:
            try:
                item = self.items.get(timeout=0.1)
            except queue.Empty:
                if self.error is not None:
                    raise self.error from None
                if not self.is_alive():
                    raise ModelError("An inference helper thread ended early.") from None
                continue
            if item[0] == "error":
                raise item[1]
            return item

    def close(self) -> None:
        """Stop and wait for the thread."""
        self.stopped.set()
        if self.is_alive():
            self.join()


class BatchReader(_Stage):
    """Reads, prepares and stacks tiles: items ``("batch", row, windows, values, terrain, valid)`` (values
    ``[n, dates, bands, tile, tile]``), ``("row", row)`` after each tile row, ``("done", run, skipped)``."""

    def __init__(self, meta: ModelMeta, inputs: PreparedInputs, batch_size: int) -> None:
        super().__init__("changelens-tile-reader", depth=2)
        self.meta, self.inputs, self.batch_size = meta, inputs, batch_size
        grid, tile, overlap = inputs.grid, meta.tile_size_px, meta.tile_overlap_px
        self.rows = tile_starts(grid.height_px, tile, overlap)
        self.cols = tile_starts(grid.width_px, tile, overlap)

    def run(self) -> None:
        try:
            with gdal_exceptions():
                self._read()
        except _Stopped:
            return
        except BaseException as exc:  # handed to the calling thread, which raises it
            try:
                self.put(("error", exc))
            except _Stopped:
                pass
            self.error = exc

    def _read(self) -> None:
        grid, tile = self.inputs.grid, self.meta.tile_size_px
        run = skipped = 0
        for k, row in enumerate(self.rows):
            batch: list[tuple[Window, np.ndarray, np.ndarray, np.ndarray]] = []
            for col in self.cols:
                window = Window(col, row, min(tile, grid.width_px - col), min(tile, grid.height_px - row))
                values, terrain, valid = read_tile(self.meta, self.inputs, window, tile)
                if not valid.any():
                    skipped += 1  # nothing to blend: its pixels stay without data
                    continue
                batch.append((window, values, terrain, valid))
                if len(batch) == self.batch_size:
                    self.put(self._stacked(k, batch))
                    run, batch = run + len(batch), []
            if batch:
                self.put(self._stacked(k, batch))
                run += len(batch)
            self.put(("row", k))
        self.put(("done", run, skipped))

    def _stacked(self, k: int, batch: list[tuple[Window, np.ndarray, np.ndarray, np.ndarray]]) -> Item:
        windows = [w for w, _v, _t, _m in batch]
        terrain = np.stack([t for _w, _v, t, _m in batch]) if self.meta.terrain else None
        return ("batch", k, windows, np.stack([v for _w, v, _t, _m in batch]), terrain, [m for *_r, m in batch])


class BatchWriter(_Stage):
    """Blends model outputs into the row accumulator and writes finished rows; fed ``("batch", windows,
    raw, valid)`` and ``("row", k)`` items in raster order, then ``("done",)``."""

    def __init__(self, meta: ModelMeta, out: OutputSet, stats: ClassStats, grid: Grid, rows: list[int], label: str):
        super().__init__("changelens-tile-writer", depth=2)
        self.meta, self.out, self.stats, self.grid, self.rows, self.label = meta, out, stats, grid, rows, label
        self.acc = RowAccumulator(meta.class_count, meta.tile_size_px, grid.width_px)

    def run(self) -> None:
        try:
            with gdal_exceptions():
                while True:
                    item = self._next()
                    if item[0] == "done":
                        return
                    if item[0] == "batch":
                        self._blend(*item[1:])
                    else:
                        self._finish_row(item[1])
        except _Stopped:
            return
        except BaseException as exc:  # the calling thread raises it
            self.error = exc

    def _next(self) -> Item:
        while True:
            if self.stopped.is_set():
                raise _Stopped
            try:
                return self.items.get(timeout=0.1)
            except queue.Empty:
                continue

    def _blend(self, windows: list[Window], raw: np.ndarray, valid: list[np.ndarray]) -> None:
        meta, grid = self.meta, self.grid
        probs = probabilities(meta, raw[: len(windows)], self.label, meta.tile_size_px)
        for p, window, mask in zip(probs, windows, valid):
            self.acc.mark_valid(mask, window)
            weights = tile_weights(
                meta.tile_size_px, meta.tile_overlap_px, window.row_off, window.col_off, grid.height_px, grid.width_px
            )
            self.acc.add(p, weights, window)

    def _finish_row(self, k: int) -> None:
        acc, grid = self.acc, self.grid
        end = self.rows[k + 1] if k + 1 < len(self.rows) else grid.height_px
        row0, count = acc.row0, end - acc.row0
        for col, probs, has in acc.finished(count):
            write_piece(self.meta, self.out, self.stats, grid, probs, has, Window(col, row0, probs.shape[2], count))
        acc.advance(count)


def stream_tiles(
    meta: ModelMeta,
    io: GraphIO,
    session: Any,
    inputs: PreparedInputs,
    out: OutputSet,
    stats: ClassStats,
    batch_size: int,
    label: str,
    report_fraction: Callable[[float], None],
) -> tuple[int, int]:
    """Every tile through ``session`` and into ``out``; returns (tiles run, tiles skipped).

    ``report_fraction`` gets the fraction done after each batch and may raise to cancel.
    """
    reader = BatchReader(meta, inputs, batch_size)
    writer = BatchWriter(meta, out, stats, inputs.grid, reader.rows, label)
    reader.start()
    writer.start()
    try:
        while True:
            item = reader.get()
            if item[0] == "done":
                break
            if item[0] == "batch":
                _kind, k, windows, values, terrain, valid = item
                writer.put(("batch", windows, _run(meta, io, session, values, terrain, label), valid))
                report_fraction((k + windows[-1].col_end / inputs.grid.width_px) / len(reader.rows))
            else:
                writer.put(item)
                report_fraction((item[1] + 1) / len(reader.rows))
            if writer.error is not None:
                raise writer.error
        writer.put(("done",))
        writer.join()
        if writer.error is not None:
            raise writer.error
        return item[1], item[2]
    finally:
        reader.close()
        writer.close()


def _run(
    meta: ModelMeta, io: GraphIO, session: Any, values: np.ndarray, terrain: np.ndarray | None, label: str
) -> np.ndarray:
    try:
        return session.run([io.output], feed(meta, io, values, terrain))[0]
    except Exception as exc:  # onnxruntime's own exception types
        text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise ModelError(
            f"onnxruntime failed on a tile of model '{label}' ({text}); check the model's metadata."
        ) from exc


def classify(meta: ModelMeta, probs: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Class per pixel (uint8, shape of ``has``) from blended probabilities ``[classes, rows, cols]``;
    the scheme's no-data value where ``has`` is False."""
    if meta.threshold is not None:
        classes = (probs[1] >= np.float32(meta.threshold)).astype(np.uint8)
    elif meta.class_count == 2:  # argmax of two, without argmax's int64 temporary (ties go to class 0)
        classes = (probs[1] > probs[0]).astype(np.uint8)
    else:
        classes = np.argmax(probs, axis=0).astype(np.uint8)
    classes[~has] = meta.scheme.nodata
    return classes


def measure(meta: ModelMeta, probs: np.ndarray, has: np.ndarray) -> np.ndarray:
    """The probability raster's values (float32, shape of ``has``; NaN where ``has`` is False) from
    ``[classes, rows, cols]`` probabilities: class 1's for two classes, else the winning class's."""
    value = probs[1].copy() if meta.class_count == 2 else probs.max(axis=0)
    value[~has] = np.nan
    return value


def write_piece(
    meta: ModelMeta, out: OutputSet, stats: ClassStats, grid: Grid, probs: np.ndarray, has: np.ndarray, window: Window
) -> None:
    """Classify and write one finished piece (``probs`` ``[classes, rows, cols]`` at ``window``) and count it."""
    if window.size == 0:
        return
    classes = classify(meta, probs, has)
    out.write("classes", window, classes)
    if "probability" in out:
        out.write("probability", window, measure(meta, probs, has))
    stats.add(classes, pixel_area_rows_m2(grid, window.row_off, window.height))
