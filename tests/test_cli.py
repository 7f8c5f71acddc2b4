"""The ``changelens`` command line: the Processing parameters and defaults, help, bad input, progress."""

from __future__ import annotations

import io
import json

import pytest
from changelens.cli import build_parser, main
from changelens.cli.methods import option, shown_params
from changelens.cli.progress import TerminalProgress
from changelens.core.methods import METHODS
from changelens.core.methods.declaration import Choice, Flag, Number
from outputs_compare import run_cli
from scenes import burn_scene


def test_every_processing_parameter_is_an_option_with_its_default(provider) -> None:  # noqa: ANN001
    from qgis.core import QgsApplication

    for method in METHODS:
        alg = QgsApplication.processingRegistry().algorithmById(f"changelens:{method.id}")
        qgis = {d.name(): d for d in alg.parameterDefinitions()}
        cli = {p.name: p for p in shown_params(method)}
        assert set(qgis) - set(cli) == {"OUTPUT_REPORT_PDF"}, method.id  # the PDF is drawn by QGIS
        assert set(cli) <= set(qgis)
        for name, param in cli.items():
            default = qgis[name].defaultValue()
            if isinstance(param, Choice):
                assert param.keys[default] == param.default, (method.id, name)
            elif isinstance(param, (Number, Flag)) and param.default is not None:
                assert default == param.default, (method.id, name)
        parser = build_parser()
        sub = parser._subparsers._group_actions[0].choices[method.id]  # noqa: SLF001 - argparse internals
        options = {o for action in sub._actions for o in action.option_strings}  # noqa: SLF001
        for name in cli:
            assert option(name) in options and f"--{name}" in options, (method.id, name)


def test_help_comes_from_the_declarations(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as ended:
        main(["burnseverity", "--help"])
    assert ended.value.code == 0
    text = capsys.readouterr().out
    assert "NBR = (NIR - SWIR2) / (NIR + SWIR2)" in text  # the algorithm's help, as plain text
    assert "--output-severity FILE" in text and "--min-area-m2 N" in text
    assert "1 = s2_dn" in text and "Default: auto." in text  # enum values by key or number


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--pre", "missing.tif", "--post", "{post}", "--output-dir", "{out}"], "'missing.tif' is not a raster"),
        (["--pre", "{pre}", "--post", "{post}", "--output-dir", "{out}", "--radiometry", "9"], "not a valid choice"),
        (["--pre", "{pre}", "--post", "{post}", "--output-dir", "{out}", "--min-area-m2", "-5"], "at least 0"),
        (["--pre", "{pre}", "--post", "{post}", "--output-dir", "{out}", "--scale", "x"], "is not a number"),
        (["--pre", "{pre}", "--post", "{post}"], "Nothing to write"),
        (["--pre", "{pre}", "--post", "{post}", "--output-dir", "{out}/nope"], "does not exist"),
        (["--pre", "{pre}", "--output-dir", "{out}"], "required: --post"),
        (["--pre", "{pre}", "--post", "{post}", "--output-polygons", "{out}/p.gpkg"], "keep the class raster"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_code_2(args, says, tmp_path, capsys) -> None:  # noqa: ANN001
    pre, post = burn_scene(tmp_path)
    filled = [a.format(pre=pre, post=post, out=tmp_path) for a in args]
    with pytest.raises(SystemExit) if "required" in says else _no_exit() as _:
        code = main(["burnseverity", *filled])
    if "required" in says:
        assert _.value.code == 2
        assert says in capsys.readouterr().err
        return
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert says in err and err.startswith("changelens: error: ") and len(err.splitlines()) == 1
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".gpkg", ".html") or p.name.startswith(".changelens")]


class _no_exit:  # noqa: N801 - a context manager that expects nothing
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_enum_by_key_or_number_and_json_results(tmp_path) -> None:  # noqa: ANN001
    pre, post = burn_scene(tmp_path)
    results = []
    for value, folder in (("s2_dn", "a"), ("1", "b")):
        (tmp_path / folder).mkdir()
        done = run_cli(["burnseverity", "--pre", pre, "--post", post, "--radiometry", value, "--output-severity",
                        tmp_path / folder / "s.tif", "--json", "--quiet"])  # fmt: skip
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout)["results"])
    assert results[0]["BURNED_AREA_HA"] == results[1]["BURNED_AREA_HA"] > 0
    assert results[0]["OUTPUT_SEVERITY"].endswith("a/s.tif")


def test_progress_bar_on_a_terminal_and_plain_lines_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = TerminalProgress("Burn severity", stream=screen)
    for step in range(11):
        assert bar.progress(step / 10)
    bar.log("Threshold 0.1")
    bar.close()
    assert "100%" in screen.getvalue() and "Threshold 0.1" in screen.getvalue()
    pipe = io.StringIO()
    plain = TerminalProgress("Burn severity", stream=pipe)
    plain.progress(0.5)
    plain.log("Threshold 0.1")
    plain.close()
    assert pipe.getvalue() == "Threshold 0.1\n"


def test_batch_job_that_needs_qgis_or_has_no_pairs_is_exit_code_2(tmp_path, capsys) -> None:  # noqa: ANN001
    job = tmp_path / "job.json"
    (tmp_path / "scenes").mkdir()
    burn_scene(tmp_path / "scenes")
    job.write_text(json.dumps({"inputs": {"INPUT_FOLDER": "scenes", "ALGORITHM": "changelens:burn_severity_report",
                                          "OUTPUT_FOLDER": "out"}}))  # fmt: skip
    assert main(["batch", str(job)]) == 2
    assert "cannot run without QGIS" in capsys.readouterr().err
    job.write_text(json.dumps({"inputs": {"INPUT_FOLDER": "scenes", "PARAMETERS": {"NOPE": 1}, "OUTPUT_FOLDER": "o"}}))
    assert main(["batch", str(job)]) == 2
    assert "has no parameter NOPE" in capsys.readouterr().err
    job.write_text(json.dumps({"inputs": {"INPUT_FOLDER": "empty", "OUTPUT_FOLDER": "out"}}))
    assert main(["batch", str(job)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_python_without_gdal_gets_one_sentence_and_exit_2(monkeypatch, capsys) -> None:  # noqa: ANN001
    import sys

    monkeypatch.setitem(sys.modules, "osgeo", None)  # ``from osgeo import gdal`` now raises ImportError
    assert main(["burnseverity", "--help"]) == 2
    err = capsys.readouterr().err
    assert "GDAL's Python bindings are not importable" in err and "--system-site-packages" in err
    assert "Traceback" not in err
