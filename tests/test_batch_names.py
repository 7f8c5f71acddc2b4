"""Pair names in any script in batch runs (case ``batch-nonlatin-names`` and its kind).

Names keep their letters (NFC); only characters unsafe in paths are replaced; names that collide
get ``_2`` ...; output folders use the kept names; the summary lists each pair's source files.

The burn runs give ``RADIOMETRY`` = 1 (Sentinel-2 DN / 10000) explicitly: the case's values (all
>= 1000 DN) leave the +1000 offset question open. Either conversion maps the burned block to High
severity, so the areas asserted here do not depend on that choice.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from changelens.core.batch import discover_pairs, read_pair_list
from changelens.core.batch_summary import SUMMARY_FIELDS, summary_rows, write_summary_csv
from changelens.core.errors import InputError
from changelens.core.names import MAX_NAME_BYTES, safe_name, unique_safe_names
from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingOutputLayerDefinition
from qgis_process_runner import run_qgis_process
from rasters import write_raster

ALG = "changelens:manypairs"
# macOS file systems treat NFC and NFD spellings as one name, so NFD-only folders cannot be made there.
NFD_FOLDERS = pytest.mark.skipif(sys.platform == "darwin", reason="NFC and NFD names are one folder on macOS")
RHODES, EVROS = "Πυρκαγιά Ρόδος", "Πυρκαγιά Έβρος"
OLD_COLUMNS = ["pair", "status", "class_id", "class", "pixels", "area_ha", "percent", "seconds", "folder", "error"]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# -- the case, generated as its c19_batch_names.py does ------------------------------------------


def _case(root: Path) -> Path:
    """``scenes/<Greek name>/pre.tif, post.tif`` (64 x 64 px of 20 m, EPSG:32610) and ``job.json``.

    Rhodes burns rows/cols 16-47 (1024 px x 400 m² = 40.96 ha, High severity); Evros does not change.
    """
    size, gt = 64, (600000, 20, 0, 4400040, 0, -20)
    pre = np.stack([np.full((size, size), 3000, np.uint16), np.full((size, size), 1000, np.uint16)])
    burned = pre.copy()
    burned[0, 16:48, 16:48], burned[1, 16:48, 16:48] = 1500, 2500
    for name, post in ((RHODES, burned), (EVROS, pre)):
        folder = root / "scenes" / name
        folder.mkdir(parents=True)
        for stem, data in (("pre", pre), ("post", post)):
            write_raster(folder / f"{stem}.tif", data, epsg=32610, geotransform=gt, descriptions=["B8A", "B12"])
    job = {
        "inputs": {
            "INPUT_FOLDER": "scenes",
            "ALGORITHM": "changelens:burnseverity",
            "PARAMETERS": {"OUTPUT_POLYGONS": None, "OUTPUT_REPORT": None, "RADIOMETRY": 1},
            "OUTPUT_FOLDER": "out",
            "OUTPUT_SUMMARY": "summary.csv",
        }
    }
    (root / "job.json").write_text(json.dumps(job, ensure_ascii=False, indent=1), encoding="utf-8")
    return root / "job.json"


def _rows(path: Path | str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _check_case(root: Path) -> None:
    out = root / "out"
    assert sorted(os.listdir(out)) == sorted([RHODES, EVROS, "summary.csv"])
    assert (out / RHODES / "severity.tif").is_file() and (out / EVROS / "severity.tif").is_file()
    raw = (out / "summary.csv").read_bytes()
    assert raw.startswith(b"pair,status,"), "UTF-8 without a byte-order mark"
    # Both tables: the CSV in the output folder and the algorithm's summary output (a CSV here).
    for table in (out / "summary.csv", root / "summary.csv"):
        rows = _rows(table)
        assert list(rows[0]) == [*OLD_COLUMNS, "before", "after"]
        high = {r["pair"]: float(r["area_ha"]) for r in rows if r["class"] == "High severity"}
        assert high == pytest.approx({RHODES: 40.96, EVROS: 0.0})
        for row in rows:
            assert row["status"] == "ok" and row["folder"] == str(out / row["pair"])
            assert row["before"] == str(root / "scenes" / row["pair"] / "pre.tif")
            assert row["after"] == str(root / "scenes" / row["pair"] / "post.tif")


class _Log(QgsProcessingFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.lines.append(info)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.lines.append(error)


@pytest.mark.parametrize("summary", ["from_job", "as_the_dialog_gives_it"])
def test_case_greek_names_through_processing_run(provider, tmp_path, summary) -> None:  # noqa: ANN001
    import processing

    job = _case(tmp_path)
    params = {"JOB": str(job)}
    if summary == "as_the_dialog_gives_it":  # the Processing dialog passes its encoding setting, "System"
        definition = QgsProcessingOutputLayerDefinition(str(tmp_path / "summary.csv"))
        definition.createOptions = {"fileEncoding": "System"}
        params["OUTPUT_SUMMARY"] = definition
    # "System" is cp1252 on a Western Windows: the summary output must stay UTF-8 all the same.
    context = QgsProcessingContext()
    context.setDefaultEncoding("ISO-8859-1")
    result = processing.run(ALG, params, context=context, feedback=_Log())
    assert (result["PAIR_COUNT"], result["SUCCEEDED"], result["FAILED"]) == (2, 2, 0)
    _check_case(tmp_path)


def test_case_greek_names_through_qgis_process(qgis_process_env, tmp_path) -> None:  # noqa: ANN001
    job = _case(tmp_path)
    proc = run_qgis_process(["--json", "run", ALG, "--", f"JOB={job}"], qgis_process_env, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert (results["PAIR_COUNT"], results["SUCCEEDED"], results["FAILED"]) == (2, 2, 0)
    _check_case(tmp_path)


# -- names beyond the case -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (RHODES, RHODES),
        ("Incêndio A", "Incêndio A"),
        (nfd("Incêndio A"), "Incêndio A"),  # as macOS file systems return it: NFC after
        ("山火 北部 2023", "山火 北部 2023"),
        ("حريق الغابة ١", "حريق الغابة ١"),
        ("Пожар Якутия", "Пожар Якутия"),
        ("fire 3/4: north", "fire 3_4_ north"),
        ('a\\b|c?d*e<f>g"h', "a_b_c_d_e_f_g_h"),
        ("tab\there\nnul\x00end", "tab_here_nul_end"),
        ("  trailing dots. . ", "trailing dots"),
        ("..", "pair"),
        (".hidden", "hidden"),
        ("///", "pair"),
        ("CON", "CON_"),
        ("nul.tif", "nul_.tif"),
        ("Com1", "Com1_"),
        ("CONTROL", "CONTROL"),
    ],
)
def test_safe_name_keeps_letters_replaces_only_unsafe(given, kept) -> None:  # noqa: ANN001
    assert safe_name(given) == kept
    assert unicodedata.is_normalized("NFC", safe_name(given))


def test_long_names_are_cut_on_a_character() -> None:
    for text in ("é" * 300, "火" * 300, "x" * 300, nfd("é") * 300):
        name = safe_name(text)
        assert len(name.encode("utf-8")) <= MAX_NAME_BYTES and unicodedata.normalize("NFC", text).startswith(name)
        assert not unicodedata.combining(name[-1])
    assert max(len(n.encode()) for n in unique_safe_names(["火" * 300] * 3)) <= MAX_NAME_BYTES


def test_colliding_names_get_stable_suffixes() -> None:
    given = ["fire 3/4", "fire 3_4", "fire 3:4", "Fire 3_4_2", nfd("Incêndio"), "Incêndio", "INCÊNDIO"]
    kept = unique_safe_names(given)
    # A name that needed no change keeps it; the changed ones are numbered, never taking another's name.
    assert kept == ["fire 3_4_3", "fire 3_4", "fire 3_4_4", "Fire 3_4_2", "Incêndio", "Incêndio_2", "INCÊNDIO_3"]
    assert unique_safe_names(given) == kept
    assert len({k.casefold() for k in kept}) == len(kept)


def _pair(folder: Path, pre: str = "pre.tif", post: str = "post.tif", burned_rows: int = 0) -> tuple[str, str]:
    """A 6 x 8 pair at 10 m (B8A, B12 DN) whose top ``burned_rows`` rows burn at High severity (0.08 ha each)."""
    before = np.stack([np.full((6, 8), 3000, np.uint16), np.full((6, 8), 1000, np.uint16)])
    after = before.copy()
    after[0, :burned_rows], after[1, :burned_rows] = 1500, 2500
    folder.mkdir(parents=True, exist_ok=True)
    return (
        write_raster(folder / pre, before, descriptions=["B8A", "B12"]),
        write_raster(folder / post, after, descriptions=["B8A", "B12"]),
    )


@NFD_FOLDERS
def test_discover_pairs_keeps_names_of_every_script(tmp_path) -> None:  # noqa: ANN001
    scenes = tmp_path / "σκηνές"
    for name in (RHODES, nfd("Incêndio A"), "山火 北部", "حريق الغابة", "Incêndio A"):
        _pair(scenes / name)  # the NFD and the NFC "Incêndio A" are two folders on Linux
    _pair(scenes, "Лесной пожар_pre.tif", "Лесной пожар_post.tif")
    pairs = discover_pairs(str(scenes))
    names = [p.name for p in pairs]
    assert names == ["Incêndio A", "Incêndio A_2", "Πυρκαγιά Ρόδος", "Лесной пожар", "حريق الغابة", "山火 北部"]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    by_name = {p.name: p for p in pairs}
    assert by_name["山火 北部"].before == str(scenes / "山火 北部" / "pre.tif")
    assert by_name["Лесной пожар"].after == str(scenes / "Лесной пожар_post.tif")
    # The two "Incêndio A" folders stay told apart by their sources.
    assert {os.path.dirname(by_name[n].before) for n in ("Incêndio A", "Incêndio A_2")} == {
        str(scenes / "Incêndio A"),
        str(scenes / nfd("Incêndio A")),
    }


def _pair_list(root: Path) -> Path:
    """A UTF-8 pair list with non-ASCII names and paths; pair k burns k rows (0.08 k ha)."""
    scenes = root / "σκηνές"
    _pair(scenes / "Incêndio A", burned_rows=1)
    _pair(scenes / "山火", burned_rows=2)
    _pair(scenes / "حريق", burned_rows=3)
    _pair(scenes / nfd("Incêndio B"), burned_rows=4)  # NFD on disk (copied from a Mac), NFC in the list
    _pair(scenes / "x", burned_rows=5)
    _pair(scenes / "y", burned_rows=6)
    listing = root / "παρτίδα.csv"
    listing.write_text(
        "before,after,name\n"
        "σκηνές/Incêndio A/pre.tif,σκηνές/Incêndio A/post.tif,Incêndio A\n"
        "σκηνές/山火/pre.tif,σκηνές/山火/post.tif,山火 北部 2023\n"
        "σκηνές/حريق/pre.tif,σκηνές/حريق/post.tif,حريق الغابة\n"
        "σκηνές/Incêndio B/pre.tif,σκηνές/Incêndio B/post.tif\n"
        "σκηνές/x/pre.tif,σκηνές/x/post.tif,Fire 3/4: north\n"
        "σκηνές/y/pre.tif,σκηνές/y/post.tif,Fire 3_4_ north\n",
        encoding="utf-8-sig",
    )
    return listing


EXPECTED_LIST = {
    "Incêndio A": 0.08,
    "山火 北部 2023": 0.16,
    "حريق الغابة": 0.24,
    "Incêndio B": 0.32,
    "Fire 3_4_ north_2": 0.40,
    "Fire 3_4_ north": 0.48,
}


@NFD_FOLDERS
def test_read_pair_list_with_non_ascii_names_and_paths(tmp_path) -> None:  # noqa: ANN001
    pairs = read_pair_list(str(_pair_list(tmp_path)))
    assert [p.name for p in pairs] == list(EXPECTED_LIST)
    assert all(p.problem is None for p in pairs), [p.problem for p in pairs]
    assert pairs[1].before == str(tmp_path / "σκηνές" / "山火" / "pre.tif")
    assert pairs[3].before == str(tmp_path / "σκηνές" / nfd("Incêndio B") / "pre.tif")  # the file on disk
    assert pairs[4].given_name == "Fire 3/4: north"
    # Excel's "Unicode text" (UTF-16 with BOM, tab separated) reads the same.
    utf16 = tmp_path / "list16.txt"
    utf16.write_text("σκηνές/山火/pre.tif\tσκηνές/山火/post.tif\t山火\n", encoding="utf-16")
    assert [(p.name, p.problem) for p in read_pair_list(str(utf16))] == [("山火", None)]
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes("σκηνές/x/pre.tif,σκηνές/x/post.tif,Incêndio\n".encode("cp1253", "replace"))
    with pytest.raises(InputError, match=r"is not UTF-8 text .* line 1\): save it as UTF-8"):
        read_pair_list(str(legacy))


def test_summary_csv_is_utf8_with_sources_at_the_end(tmp_path) -> None:  # noqa: ANN001
    (pair,) = read_pair_list(str(_pair_list(tmp_path)))[1:2]
    rows = summary_rows(pair, "ok", [{"class_id": 7, "class_name": "High severity", "area_ha": 0.16}], 1.0, "f")
    path = tmp_path / "summary.csv"
    write_summary_csv(str(path), rows)
    assert list(SUMMARY_FIELDS) == [*OLD_COLUMNS, "before", "after"]
    assert path.read_bytes().startswith(b"pair,")
    (row,) = _rows(path)
    assert (row["pair"], row["before"], row["after"]) == (pair.name, pair.before, pair.after)


@NFD_FOLDERS
def test_pair_list_beyond_the_case_through_processing_run(provider, tmp_path) -> None:  # noqa: ANN001
    import processing

    listing = _pair_list(tmp_path)
    out = tmp_path / "έξοδος"
    log = _Log()
    result = processing.run(
        ALG,
        {
            "PAIR_LIST": str(listing),
            "ALGORITHM": "burnseverity",
            "PARAMETERS": '{"RADIOMETRY": 1}',
            "OUTPUT_FOLDER": str(out),
            "OUTPUT_SUMMARY": str(tmp_path / "summary.gpkg"),
        },
        feedback=log,
    )
    assert (result["SUCCEEDED"], result["FAILED"]) == (6, 0), log.lines
    assert sorted(os.listdir(out)) == sorted([*EXPECTED_LIST, "summary.csv"])
    rows = _rows(result["SUMMARY_CSV"])
    high = {r["pair"]: float(r["area_ha"]) for r in rows if r["class"] == "High severity"}
    assert high == pytest.approx(EXPECTED_LIST)
    sources = {r["pair"]: os.path.basename(os.path.dirname(r["before"])) for r in rows}
    assert sources["Fire 3_4_ north_2"] == "x" and sources["Fire 3_4_ north"] == "y"
    assert sources["Incêndio B"] == nfd("Incêndio B")
    note = [line for line in log.lines if line.startswith("Pair names changed")]
    assert len(note) == 1 and "'Fire 3/4: north' -> 'Fire 3_4_ north_2'" in note[0]
    assert "Incêndio" not in note[0]  # NFC alone is no change worth a line
    from qgis.core import QgsVectorLayer

    table = QgsVectorLayer(str(tmp_path / "summary.gpkg"), "summary")
    names = {f["pair"] for f in table.getFeatures()}
    fields = [f.name() for f in table.fields()]
    del table
    assert names == set(EXPECTED_LIST) and fields[-2:] == ["before", "after"]
