"""Processing algorithm: run one ChangeLens algorithm or workflow on many before/after scene pairs."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
    QgsProcessingUtils,
)

from ..core.batch import ScenePair, discover_pairs, read_pair_list, renamed_note, unique_names
from ..core.batch_job import remove_new_files
from ..core.batch_summary import SUMMARY_FIELDS, summary_rows, write_summary_csv
from . import compat
from .base import ChangeLensAlgorithm, Params, advanced, run_core
from .batch_child import (
    PairFeedback,
    class_rows,
    failure_message,
    input_names,
    resolve_algorithm,
    run_pair,
    run_parameters,
    summary_sink,
)
from .batch_cluster import SCHEDULER, SCHEDULER_HELP, run_on_cluster, scheduler_parameter


class ManyPairsAlgorithm(ChangeLensAlgorithm):
    """Runs a chosen algorithm or workflow on every before/after pair of a folder or a list."""

    ALGORITHM_NAME = "manypairs"
    DISPLAY_NAME = "Run on many scene pairs"
    GROUP_ID = "workflows"

    JOB = "JOB"
    INPUT_FOLDER = "INPUT_FOLDER"
    PAIR_LIST = "PAIR_LIST"
    ALGORITHM = "ALGORITHM"
    PARAMETERS = "PARAMETERS"
    BEFORE_PARAMETER = "BEFORE_PARAMETER"
    AFTER_PARAMETER = "AFTER_PARAMETER"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    OUTPUT_SUMMARY = "OUTPUT_SUMMARY"
    SUMMARY_CSV = "SUMMARY_CSV"
    PAIR_COUNT = "PAIR_COUNT"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    _PATHS = (INPUT_FOLDER, PAIR_LIST, OUTPUT_FOLDER, OUTPUT_SUMMARY)
    PARAMETER_HELP = {
        SCHEDULER: SCHEDULER_HELP,
        JOB: 'Fills the other parameters from a JSON file {"inputs": {...}}; a value you set directly wins. '
        "Relative paths are relative to the job file. QGIS 3.22's qgis_process cannot read JSON from stdin, so "
        "this runs the same file: qgis_process run changelens:manypairs -- JOB=job.json",
        INPUT_FOLDER: "Sub-folders holding pre/before/t1/date1 and post/after/t2/date2 rasters, or sibling "
        "<name>_pre / <name>_post files.",
        PAIR_LIST: "One before,after[,name] line per pair; relative paths are relative to the list file. "
        "Used together with the folder when both are given.",
        ALGORITHM: "An algorithm or workflow id (the 'changelens:' prefix may be left out) or a .model3 file.",
        PARAMETERS: 'Parameters of the chosen algorithm by name, e.g. {"MIN_AREA_M2": 500}; an output set to '
        "null is skipped, an output given a file name keeps it.",
        BEFORE_PARAMETER: "Name of the chosen algorithm's parameter for the before image.",
        AFTER_PARAMETER: "Name of the chosen algorithm's parameter for the after image.",
        OUTPUT_FOLDER: "Each pair's outputs go to <folder>/<pair>/; summary.csv is written here too.",
        OUTPUT_SUMMARY: "One row per pair and class: pair, status, class_id, class, pixels, area_ha, percent, "
        "seconds, folder, error, before, after (the pair's source files).",
    }

    def shortHelpString(self) -> str:  # noqa: N802 - Qt API
        return (
            "Runs one ChangeLens algorithm or workflow (or any Processing algorithm or model with a before "
            "and an after raster input) on every scene pair of a folder or a list, and writes one summary "
            "table of class areas.<br><br>"
            "<b>Pairs from a folder</b>: each sub-folder <code>&lt;name&gt;/</code> holding <code>pre.tif</code> "
            "or <code>before.tif</code> (also <code>t1</code>, <code>date1</code>) and <code>post.tif</code> or "
            "<code>after.tif</code> (also <code>t2</code>, <code>date2</code>); and sibling files "
            "<code>&lt;name&gt;_pre.tif</code> + <code>&lt;name&gt;_post.tif</code> (or <code>_before</code>/"
            "<code>_after</code>); a folder holding the two files directly is one pair. TIF, VRT, JP2 and IMG "
            "files are recognised; a half pair is reported as failed.<br>"
            "<b>Pairs from a list</b>: a CSV or text file with one <code>before,after[,name]</code> line per pair "
            "(comma, semicolon or tab; relative paths are relative to the list file).<br><br>"
            "<b>Algorithm</b>: an id such as <code>changelens:burnseverity</code> (the <code>changelens:</code> "
            "prefix may be left out), a workflow id, or the path of a <code>.model3</code> file. The pair's "
            "images go to the raster inputs named before/pre/date1 and after/post/date2 (else the first two "
            "raster inputs) unless you name them.<br>"
            "<b>Extra parameters</b>: a JSON object applied to every run, e.g. "
            '<code>{"MIN_AREA_M2": 500, "RADIOMETRY": 2}</code>. Outputs go to '
            "<code>&lt;output folder&gt;/&lt;pair&gt;/</code> with the output's name (e.g. "
            "<code>severity.tif</code>); an output named in the JSON keeps that file name, and an output set to "
            "<code>null</code> or <code>false</code> is skipped.<br><br>"
            "A pair that fails is reported as one line and in the table (status <code>failed</code> and the "
            "reason); the other pairs still run. The summary table has one row per pair and class: pair, "
            "status, class_id, class, pixels, area_ha (hectares, ellipsoidal for geographic CRSs), percent, "
            "seconds, folder, error, before, after (the pair's source files); it is also written as "
            "<code>summary.csv</code> (UTF-8) in the output folder.<br>"
            "<b>Pair names</b> keep their letters in every script (Unicode NFC); only characters unsafe in "
            'paths (<code>/ \\ : * ? " &lt; &gt; |</code>, control characters, trailing dots and spaces, '
            "device names such as CON) are replaced by <code>_</code>, and names that then repeat get "
            "<code>_2</code>, <code>_3</code> …; the log lists every name that changed."
        )

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802 - Qt API
        job = QgsProcessingParameterFile(
            self.JOB,
            'Job file (JSON, as for qgis_process: {"inputs": {...}})',
            compat.FILE_BEHAVIOR_FILE,
            optional=True,
            fileFilter="Job files (*.json)",
        )
        advanced(self, [job])
        folder = QgsProcessingParameterFile(
            self.INPUT_FOLDER, "Folder of scene pairs", compat.FILE_BEHAVIOR_FOLDER, optional=True
        )
        self.addParameter(folder)
        pair_list = QgsProcessingParameterFile(
            self.PAIR_LIST,
            "List of pairs (CSV or text: before,after[,name] per line)",
            compat.FILE_BEHAVIOR_FILE,
            optional=True,
            fileFilter="Pair lists (*.csv *.txt);;All files (*.*)",
        )
        self.addParameter(pair_list)
        algorithm = QgsProcessingParameterString(
            self.ALGORITHM, "Algorithm or workflow to run (id or .model3 path)", "changelens:burnseverity"
        )
        self.addParameter(algorithm)
        extra = QgsProcessingParameterString(
            self.PARAMETERS, "Extra parameters for every run (JSON object)", "{}", multiLine=True, optional=True
        )
        self.addParameter(extra)
        for name, label in (
            (
                self.BEFORE_PARAMETER,
                "Parameter that receives the before image (empty: the before/pre/date1 raster input)",
            ),
            (
                self.AFTER_PARAMETER,
                "Parameter that receives the after image (empty: the after/post/date2 raster input)",
            ),
        ):
            advanced(self, [QgsProcessingParameterString(name, label, optional=True)])
        # Optional so that qgis_process accepts them from a job file (it checks mandatory values itself).
        self.addParameter(
            QgsProcessingParameterFolderDestination(
                self.OUTPUT_FOLDER, "Output folder (empty: a temporary folder)", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT_SUMMARY,
                "Summary table (pair, class, area_ha, status)",
                compat.SOURCE_VECTOR,
                optional=True,
                createByDefault=True,
            )
        )
        self.addParameter(scheduler_parameter())  # after the pinned parameters (tests/test_algorithm_contract.py)
        self.addOutput(QgsProcessingOutputString(self.SUMMARY_CSV, "Summary table as CSV (path)"))
        self.addOutput(QgsProcessingOutputNumber(self.PAIR_COUNT, "Number of pairs found"))
        self.addOutput(QgsProcessingOutputNumber(self.SUCCEEDED, "Number of pairs that succeeded"))
        self.addOutput(QgsProcessingOutputNumber(self.FAILED, "Number of pairs that failed or were cancelled"))

    def check(self, parameters: Params, context: QgsProcessingContext) -> tuple[bool, str]:
        try:
            params = self._with_job(parameters)
            if not params.get(self.INPUT_FOLDER) and not params.get(self.PAIR_LIST):
                return False, "Give a folder of scene pairs or a list of pairs (before,after[,name] per line)."
            self._setup(params, context)
        except QgsProcessingException as exc:
            return False, str(exc)
        return super().check(params, context)

    # -- set-up ---------------------------------------------------------------------------------

    def _with_job(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """``parameters`` completed from the job file: a value given directly (not left at its default) wins."""
        path = parameters.get(self.JOB)
        if not path:
            return parameters
        try:
            with open(str(path), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise QgsProcessingException(f"The job file '{path}' cannot be read as JSON ({exc}).") from exc
        inputs = data.get("inputs", data) if isinstance(data, dict) else None
        if not isinstance(inputs, dict):
            raise QgsProcessingException(
                f'The job file \'{path}\' must hold {{"inputs": {{"PARAMETER": value, ...}}}}.'
            )
        names = {d.name() for d in self.parameterDefinitions()} - {self.JOB}
        unknown = sorted(set(inputs) - names)
        if unknown:
            raise QgsProcessingException(
                f"The job file names unknown parameter(s) {', '.join(unknown)}; use: {', '.join(sorted(names))}."
            )
        base = os.path.dirname(os.path.abspath(str(path)))
        merged = dict(parameters)
        for key, value in inputs.items():
            current = merged.get(key)
            if isinstance(current, QgsProcessingOutputLayerDefinition):
                current = current.sink.staticValue()
            if current not in (None, "", QgsProcessing.TEMPORARY_OUTPUT, self.parameterDefinition(key).defaultValue()):
                continue
            if key in self._PATHS and isinstance(value, str) and value and not os.path.isabs(value):
                value = os.path.normpath(os.path.join(base, value))
            merged[key] = value
        return merged

    def _setup(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[QgsProcessingAlgorithm, dict[str, Any], str, str]:
        """The algorithm to run, its extra parameters and the names of its before/after inputs, checked."""
        alg = resolve_algorithm(self.parameterAsString(parameters, self.ALGORITHM, context), self.id())
        extra = self._extra(parameters, context)
        before, after = input_names(
            alg,
            self.parameterAsString(parameters, self.BEFORE_PARAMETER, context).strip(),
            self.parameterAsString(parameters, self.AFTER_PARAMETER, context).strip(),
        )
        known = {d.name() for d in alg.parameterDefinitions()}
        unknown = sorted(set(extra) - known)
        if unknown:
            raise QgsProcessingException(
                f"'{alg.id()}' has no parameter {', '.join(unknown)}; its parameters are: {', '.join(sorted(known))}."
            )
        for name, value in extra.items():
            definition = alg.parameterDefinition(name)
            optional = bool(definition.flags() & compat.FLAG_OPTIONAL)
            if definition.isDestination():
                if value in (None, "", False) and not optional:
                    raise QgsProcessingException(f"{name} ({definition.description()}) cannot be skipped.")
            elif not definition.checkValueIsAcceptable(value):
                raise QgsProcessingException(
                    f"{value!r} is not a valid value for {name} ({definition.description()}) of '{alg.id()}'."
                )
        return alg, extra, before, after

    def _extra(self, parameters: dict[str, Any], context: QgsProcessingContext) -> dict[str, Any]:
        raw = parameters.get(self.PARAMETERS)
        if isinstance(raw, dict):
            return dict(raw)
        text = self.parameterAsString(parameters, self.PARAMETERS, context).strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QgsProcessingException(
                f"The extra parameters are not valid JSON ({exc.msg} at character {exc.pos}): "
                'write an object such as {"MIN_AREA_M2": 500}.'
            ) from exc
        if not isinstance(value, dict):
            raise QgsProcessingException('The extra parameters must be a JSON object such as {"MIN_AREA_M2": 500}.')
        return value

    def _pairs(self, parameters: dict[str, Any], context: QgsProcessingContext) -> list[ScenePair]:
        folder = self.parameterAsFile(parameters, self.INPUT_FOLDER, context)
        list_path = self.parameterAsFile(parameters, self.PAIR_LIST, context)
        pairs: list[ScenePair] = []
        if folder:
            pairs += run_core(lambda: discover_pairs(folder))
        if list_path:
            pairs += run_core(lambda: read_pair_list(list_path))
        if not pairs:
            raise QgsProcessingException(
                f"No scene pairs found in '{folder or list_path}': use sub-folders with pre.tif and post.tif, "
                "<name>_pre.tif / <name>_post.tif files, or a list of before,after lines."
            )
        return unique_names(pairs)

    # -- run ------------------------------------------------------------------------------------

    def process(self, parameters: Params, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Params:
        parameters = self._with_job(parameters)
        alg, extra, before, after = self._setup(parameters, context)
        for name in (before, after):
            if name in extra:
                feedback.pushWarning(f"{name} is set per pair from the pair's images; the JSON value is ignored.")
        pairs = self._pairs(parameters, context)
        out_folder = self.parameterAsFileOutput(parameters, self.OUTPUT_FOLDER, context)
        if not out_folder:
            out_folder = os.path.join(QgsProcessingUtils.tempFolder(), f"manypairs_{uuid.uuid4().hex[:8]}")
        os.makedirs(out_folder, exist_ok=True)
        sink, sink_dest, fields = summary_sink(self, parameters, self.OUTPUT_SUMMARY, context)
        feedback.pushInfo(f"{len(pairs)} pair(s) to run with {alg.id()}; outputs under {out_folder}.")
        if note := renamed_note(pairs):
            feedback.pushInfo(note)

        scheduler = self.parameterAsString(parameters, SCHEDULER, context).strip()
        cluster = (
            run_on_cluster(alg, extra, (before, after), pairs, out_folder, scheduler, feedback) if scheduler else None
        )
        multi = QgsProcessingMultiStepFeedback(len(pairs), feedback)
        rows, succeeded, failed = cluster or ([], 0, 0)  # on a cluster, every pair ran there
        for index, pair in enumerate([] if cluster else pairs):
            multi.setCurrentStep(index)
            folder = os.path.join(out_folder, pair.name)
            if feedback.isCanceled():
                rows += summary_rows(pair, "cancelled", [], 0.0, "", "the run was cancelled before this pair")
                failed += 1
                continue
            feedback.pushInfo(f"Pair {index + 1}/{len(pairs)} '{pair.name}': {pair.before} -> {pair.after}")
            started = time.perf_counter()
            child = PairFeedback(multi)
            existing = set(os.listdir(folder)) if os.path.isdir(folder) else set()
            try:
                if pair.problem:
                    raise QgsProcessingException(pair.problem)
                os.makedirs(folder, exist_ok=True)
                params = run_parameters(alg, extra, before, after, pair, folder)
                results = run_pair(alg, params, context, child)
                classes = class_rows(alg, results)
            except Exception as exc:  # noqa: BLE001 - one pair's failure, whatever it is, must not stop the others
                message = failure_message(exc, child.errors)
                status = "cancelled" if feedback.isCanceled() else "failed"
                feedback.reportError(f"Pair '{pair.name}' {status}: {message}", fatalError=False)
                remove_new_files(folder, existing)
                rows += summary_rows(pair, status, [], time.perf_counter() - started, "", message)
                failed += 1
                continue
            finally:
                child.close()
            for error in child.errors:
                feedback.pushWarning(f"Pair '{pair.name}': {error}")
            seconds = time.perf_counter() - started
            areas = ", ".join(f"{r.get('class_name')} {float(r.get('area_ha') or 0):.2f} ha" for r in classes)
            feedback.pushInfo(f"Pair '{pair.name}' done in {seconds:.1f} s. {areas}")
            rows += summary_rows(pair, "ok", classes, seconds, folder)
            succeeded += 1
        multi.setCurrentStep(len(pairs))

        csv_path = os.path.join(out_folder, "summary.csv")
        run_core(lambda: write_summary_csv(csv_path, rows))
        for row in rows if sink is not None else ():
            feature = QgsFeature(fields)
            feature.setAttributes([row.get(key) for key in SUMMARY_FIELDS])
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        del sink  # close the table now, not whenever this frame is collected
        feedback.pushInfo(f"{succeeded} pair(s) succeeded, {failed} failed. Summary: {csv_path}")
        if succeeded == 0:
            raise QgsProcessingException(
                f"None of the {len(pairs)} pair(s) succeeded; the reasons are in the log and in {csv_path}."
            )
        return {
            self.OUTPUT_FOLDER: out_folder,
            self.OUTPUT_SUMMARY: sink_dest,
            self.SUMMARY_CSV: csv_path,
            self.PAIR_COUNT: len(pairs),
            self.SUCCEEDED: succeeded,
            self.FAILED: failed,
        }
