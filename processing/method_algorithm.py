"""One Processing algorithm class for every declared index method.

The parameters, help, groups and results come from the core declaration
(:class:`changelens.core.methods.declaration.IndexMethod`); ``processAlgorithm`` reads the
request, opens one transaction for the whole run (rasters, polygons, table, reports), calls
:func:`changelens.core.pipeline.run_method` once and returns the outputs and the areas read
by class role.
"""

from __future__ import annotations

import math
import os
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
)

from ..core.io.bandfiles import PRODUCT_HELP
from ..core.methods.declaration import ImageInput, IndexMethod
from ..core.outputs.products import MapProduct
from ..core.outputs.transaction import Transaction
from ..core.outputs.vectorize import MapOutputs
from ..core.pipeline import result_values, run_and_map
from .base import ChangeLensAlgorithm, Params, feedback_log, feedback_progress, run_core, style_outputs
from .declared import definition, read_request
from .outputs import add_map_outputs, finish_map_outputs, log_written, map_outputs_help, plan_map_outputs

MAP_STAGES = ((0.6, "Polygons and area statistics"),)  # where run_and_map starts the shared outputs


def log_areas(feedback: QgsProcessingFeedback, product: MapProduct) -> None:
    """Log the threshold and the area of each class."""
    if product.threshold is not None:
        feedback.pushInfo(f"Threshold used on the {product.measure_name}: {product.threshold:.4g}.")
    for row in product.stats.rows():
        area = row["area_ha"]
        known = area is not None and math.isfinite(area)
        size = f"{area:.2f} ha" if known else "area unknown (no georeferencing)"
        feedback.pushInfo(f"{row['class_name']}: {size} ({row['pixels']} pixels, {row['percent']:.1f} %)")


class MethodAlgorithm(ChangeLensAlgorithm):
    """The Processing face of one declared index method."""

    def __init__(self, method: IndexMethod) -> None:
        super().__init__()
        self.method = method
        self.ALGORITHM_NAME = method.id
        self.DISPLAY_NAME = method.title
        self.GROUP_ID = method.group
        self.PARAMETER_HELP = {
            p.name: p.help + (PRODUCT_HELP if isinstance(p, ImageInput) and p.key != "dem" else "")
            for p in method.params
            if p.help
        }

    def createInstance(self) -> QgsProcessingAlgorithm:  # noqa: N802 - Qt API
        return MethodAlgorithm(self.method)

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return self.method.help_html + map_outputs_help(self.method.measure_name)

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        for param in self.method.params:
            self.addParameter(definition(param))
        add_map_outputs(self, self.method.measure_name)
        for result in self.method.results:
            self.addOutput(QgsProcessingOutputNumber(result.name, result.label))

    def process(self, parameters: Params, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Params:
        method = self.method
        request = read_request(self, method, parameters, context)
        with Transaction() as transaction:
            plan = plan_map_outputs(self, parameters, context, transaction)
            product, result = run_core(
                lambda: run_and_map(
                    method,
                    request,
                    plan.config,
                    MapOutputs(plan.polygons, plan.table),
                    transaction,
                    feedback_progress(feedback, MAP_STAGES if plan.wanted else ()),
                    feedback_log(feedback),
                )
            )
            entries = run_core(lambda: finish_map_outputs(plan, context, feedback, product, result, transaction))
            run_core(transaction.commit)
        log_written(feedback, entries)
        log_areas(feedback, product)
        outputs = {out.name: request.outputs.get(out.key) for out in method.raster_outputs()}
        style_outputs(
            context, {out.name: (outputs[out.name], out.layer or out.label) for out in method.raster_outputs()}
        )
        for name, path in outputs.items():
            if path and not os.path.exists(path):
                outputs[name] = None  # asked for, but this run had nothing to write there
        return {**entries, **outputs, **result_values(method, product)}
