"""One subcommand per declared method: options from the declarations, one run through core.runner."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..core.cluster import connect
from ..core.methods.declaration import BandChoice, Choice, Flag, ImageInput, IndexMethod, Number, Param, Text
from ..core.methods.outputs import FileOut, LayerIn
from ..core.runner import run_declared
from ..core.tiled import TileConfig, TiledPass
from ..core.values import all_params, is_output, outputs_in_folder, request_from_values
from .help import param_help, plain
from .progress import TerminalProgress

GROUPS = (
    ("inputs", "images (before and after dates, DEM)"),
    ("bands", "bands (empty: found from the band descriptions)"),
    ("options", "method options"),
    ("outputs", "outputs (give a path for each, or --output-dir)"),
    ("advanced", "advanced options"),
)


class UsageError(Exception):
    """A command line that cannot run as given (exit code 2)."""


def option(name: str) -> str:
    """``OUTPUT_SEVERITY`` -> ``--output-severity``."""
    return "--" + name.lower().replace("_", "-")


def flag_value(text: str) -> bool:
    """``true``/``false``, ``yes``/``no``, ``1``/``0`` as qgis_process accepts them."""
    low = str(text).strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"'{text}' is not true or false")


def shown_params(method: IndexMethod) -> list[Param]:
    """The parameters the command line offers: all of Processing's except the PDF report (drawn by QGIS)."""
    return [p for p in all_params(method) if not getattr(p, "needs_qgis", False)]


def _group(param: Param) -> str:
    if isinstance(param, ImageInput):
        return "inputs"
    if is_output(param):
        return "outputs"
    if param.advanced:
        return "advanced"
    return "bands" if isinstance(param, BandChoice) else "options"


def _metavar(param: Param) -> str:
    if isinstance(param, (ImageInput, LayerIn)) or is_output(param):
        return "FILE"
    if isinstance(param, BandChoice):
        return "BAND"
    if isinstance(param, Choice):
        return "KEY"
    if isinstance(param, Number):
        return "N"
    return "TEXT" if isinstance(param, Text) else "VALUE"


def add_method_command(subparsers: Any, method: IndexMethod) -> None:
    """The subcommand ``method.id`` with one option per parameter (``--pre``; ``--PRE`` works too)."""
    parser = subparsers.add_parser(
        method.id,
        help=method.title,
        description=f"{method.title} (changelens:{method.id} in QGIS).\n\n{plain(method.help_html)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = {key: parser.add_argument_group(title) for key, title in GROUPS}
    for param in shown_params(method):
        group = groups[_group(param)]
        label = param.label.replace("%", "%%")
        text = f"{label}. {param_help(param)}"
        if isinstance(param, Flag):
            group.add_argument(
                option(param.name), dest=param.name, action=argparse.BooleanOptionalAction, default=None, help=text
            )
            parser.add_argument(f"--{param.name}", dest=param.name, type=flag_value, help=argparse.SUPPRESS)
            continue
        required = isinstance(param, ImageInput) and not param.optional
        group.add_argument(
            option(param.name), dest=param.name, metavar=_metavar(param), required=required, default=None, help=text
        )
        parser.add_argument(f"--{param.name}", dest=param.name, help=argparse.SUPPRESS)
    common = parser.add_argument_group("run")
    common.add_argument(
        "--output-dir",
        metavar="DIR",
        help="Write every output QGIS writes by default into DIR under its batch name (severity.tif, "
        "polygons.gpkg, stats.csv, report.html ...); an output you give keeps its path.",
    )
    common.add_argument("--json", action="store_true", help="Print the results as JSON (as qgis_process --json).")
    common.add_argument("--quiet", "-q", action="store_true", help="No progress bar and no log lines.")
    tiles = parser.add_argument_group("one large pair on a Dask cluster (see docs/cli.md)")
    tiles.add_argument(
        "--tile-px",
        metavar="N",
        type=int,
        help="Split the classification into tiles of N x N pixels, each one task on a Dask cluster (give "
        "--workers or --scheduler); the outputs are the same as without tiles.",
    )
    tiles.add_argument(
        "--workers", metavar="N", type=int, help="With --tile-px: a local cluster of N worker processes."
    )
    tiles.add_argument(
        "--scheduler", metavar="ADDRESS", help="With --tile-px: the Dask scheduler at ADDRESS (tcp://host:8786)."
    )
    parser.set_defaults(command=lambda args: run_method_command(method, args))


def method_values(method: IndexMethod, args: argparse.Namespace) -> dict[str, Any]:
    """Parameter values by name from the parsed command line (outputs placed in --output-dir)."""
    values = {p.name: getattr(args, p.name) for p in shown_params(method) if getattr(args, p.name, None) is not None}
    if args.output_dir:
        folder = os.path.abspath(args.output_dir)
        if not os.path.isdir(folder):
            raise UsageError(f"The output folder '{args.output_dir}' does not exist: create it first.")
        for name, path in outputs_in_folder(method, folder, {}).items():
            values.setdefault(name, path)  # an output given on the command line keeps its path
    for param in shown_params(method):
        if is_output(param) and str(values.get(param.name, "")).lower() in ("none", "skip"):
            values[param.name] = None
    if not any(values.get(p.name) for p in shown_params(method) if is_output(p)):
        first = next(p for p in method.raster_outputs())
        raise UsageError(
            f"Nothing to write: give --output-dir DIR or at least one output ({option(first.name)} FILE ...)."
        )
    return values


def method_param(method: IndexMethod, name: str) -> Param:
    """The declaration named ``name`` among the method's and the shared parameters."""
    return next(p for p in all_params(method) if p.name == name)


def tile_config(args: argparse.Namespace) -> TileConfig | None:
    """The tiling asked for with ``--tile-px`` (None: the single run); raises :class:`UsageError` when
    ``--tile-px`` and ``--workers``/``--scheduler`` do not come together."""
    cluster = bool(args.workers or args.scheduler)
    if args.tile_px is None:
        if cluster:
            raise UsageError("--workers and --scheduler go with --tile-px (many pairs: 'changelens batch').")
        return None
    if not cluster:
        raise UsageError("--tile-px needs a cluster: give --workers N (a local one) or --scheduler tcp://HOST:8786.")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1.")
    return TileConfig(tile_px=args.tile_px)


def run_method_command(method: IndexMethod, args: argparse.Namespace) -> int:
    """Run one method from the parsed command line; print what was written and the class areas."""
    values = method_values(method, args)
    request, destinations = request_from_values(method, values)
    tiles = tile_config(args)
    terminal = TerminalProgress(method.title, quiet=args.quiet)
    client = cluster = None
    try:
        second_pass = None
        if tiles is not None:
            client, cluster = connect(args.scheduler or "", args.workers or 0, terminal.log)
            second_pass = TiledPass(client, tiles, terminal.log)
        outcome = run_declared(method, request, destinations, terminal.progress, terminal.log, second_pass=second_pass)
    finally:
        terminal.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    results = {k: v for k, v in outcome.results.items() if not (isinstance(v, str) and not v)}
    for param in shown_params(method):
        path = results.get(param.name)
        if is_output(param) and isinstance(path, str) and not os.path.exists(path):
            results[param.name] = None  # asked for, but this run had nothing to write there
    if args.json:
        print(json.dumps({"algorithm": f"changelens:{method.id}", "results": results}, indent=1))
        return 0
    for param in shown_params(method):
        if is_output(param) and results.get(param.name) and not isinstance(param, FileOut):
            print(f"{param.label}: {results[param.name]}")
    if results.get("OUTPUT_REPORT"):
        print(f"Report: {results['OUTPUT_REPORT']}")
    product = outcome.product
    if product.threshold is not None:
        print(f"Threshold used on the {product.measure_name}: {product.threshold:.4g}.")
    for row in outcome.result.rows():
        print(f"{row['class_name']}: {row['area_ha']:.2f} ha ({row['pixels']} pixels, {row['percent']:.1f} %)")
    return 0
