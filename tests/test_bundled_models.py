"""Every bundled model loads, carries valid metadata, matches the sha256 in its card, fits the size
budget and maps an obvious synthetic case correctly (``make check-models``; no torch needed)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

MODELS = Path(__file__).resolve().parent.parent / "models"
BUNDLED = sorted(MODELS.glob("*.onnx"))
MAX_MODEL_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 15 * 1024 * 1024
LANDSLIDE_SLOPE_DEG = 30.0
CARD_FIELDS = ("version", "license", "training_data", "pixel_size_m", "description", "url")


def _doc(path: Path) -> dict:
    model = onnx.load(str(path), load_external_data=False)
    return {p.key: json.loads(p.value) for p in model.metadata_props}


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities ``[classes, H, W]`` (a single channel is class 1's probability)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x[None].astype(np.float32)})[0][0]


def _square(size: int, lo: int, hi: int) -> np.ndarray:
    m = np.zeros((size, size), bool)
    m[lo:hi, lo:hi] = True
    return m


def _texture(rng: np.random.Generator, size: int, scale_px: float) -> np.ndarray:
    """Smooth zero-mean unit-variance field: a stand-in for natural variation of the ground."""
    f = np.fft.fftfreq(size)
    g = np.exp(-2 * (np.pi * scale_px) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
    r = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * g))
    return (r - r.mean()) / r.std()


def _speckled(rng: np.random.Generator, db: np.ndarray) -> np.ndarray:
    return 10 * np.log10(10 ** (db / 10) * rng.gamma(4.4, 1 / 4.4, db.shape))


def _fixture(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic input in stored units (S2 DN = reflectance x 10000, S1 dB) with one obvious
    changed square on textured ground, and its truth."""
    rng = np.random.default_rng(7)
    if name == "burned_s2_post":
        sq = _square(128, 32, 96)
        # Without a pre-fire image only a clear scar is obvious: NIR x0.35, SWIR2 x1.5 (like the real
        # CAL FIRE scars, NIR ~0.08-0.12 and SWIR2 ~0.2 after the fire).
        post = np.stack([0.30 + 0.03 * _texture(rng, 128, 3), 0.15 + 0.02 * _texture(rng, 128, 3)])
        post = np.where(sq[None], post * np.array([0.35, 1.5])[:, None, None], post)
        return (post + rng.normal(0, 0.004, (2, 128, 128))) * 10000, sq
    if name in ("burned_s2", "burned_s2_refine"):
        # A 1.3 km scar (64 px at 20 m) in vegetation: NIR x0.55, SWIR2 x1.3 (typical moderate burn).
        sq = _square(128, 32, 96)
        pre = np.stack([0.28 + 0.05 * _texture(rng, 128, 3), 0.15 + 0.03 * _texture(rng, 128, 3)])
        post = np.where(sq[None], pre * np.array([0.55, 1.3])[:, None, None], pre * 0.97)
        return (np.concatenate([pre, post]) + rng.normal(0, 0.004, (4, 128, 128))) * 10000, sq
    sq = _square(96, 32, 64)
    if name == "flood_s1":
        before = _speckled(rng, np.full((96, 96), -9.0))
        after = _speckled(rng, np.where(sq, -22.0, -9.0))
        return np.stack([before, after]), sq
    if name == "flood_s1_after":
        return _speckled(rng, np.where(sq, -22.0, -9.0))[None], sq
    if name.startswith("change_s2"):
        veg = np.array([0.04, 0.07, 0.05, 0.35, 0.2, 0.1])[:, None, None] * (1 + 0.1 * _texture(rng, 96, 2))
        built = np.array([0.15, 0.16, 0.18, 0.2, 0.28, 0.24])[:, None, None] * np.ones((6, 96, 96))
        t2 = np.where(sq[None], built, veg)
        return (np.concatenate([veg, t2]) + rng.normal(0, 0.004, (12, 96, 96))) * 10000, sq
    if name == "landslide_s2":
        # A 320 m fresh scar on a 30 degree vegetated slope: NDVI 0.75 -> 0.2, brighter in visible and SWIR.
        veg = np.array([0.04, 0.07, 0.05, 0.35, 0.2, 0.1])[:, None, None] * (1 + 0.1 * _texture(rng, 96, 2))
        soil = np.array([0.10, 0.13, 0.16, 0.24, 0.32, 0.25])[:, None, None] * np.ones((6, 96, 96))
        t2 = np.where(sq[None], soil, veg)
        dates = (np.concatenate([veg, t2]) + rng.normal(0, 0.004, (12, 96, 96))) * 10000
        return np.concatenate([dates, np.full((1, 96, 96), LANDSLIDE_SLOPE_DEG)]), sq
    raise AssertionError(f"no fixture for bundled model {name}: add one")


def _assert_square_found(pred: np.ndarray, truth: np.ndarray) -> None:
    rows = np.nonzero(truth)[0]
    lo, hi = rows.min(), rows.max() + 1  # the square's extent (same for columns)
    inner = np.zeros_like(truth)
    inner[lo + 4 : hi - 4, lo + 4 : hi - 4] = True  # away from the blurred edges
    outer = np.ones_like(truth)
    outer[lo - 8 : hi + 8, lo - 8 : hi + 8] = False
    assert pred[inner].mean() > 0.75, f"changed square found on {pred[inner].mean():.0%} of its pixels"
    assert pred[outer].mean() < 0.05, f"{pred[outer].mean():.0%} false alarms on unchanged ground"


def test_models_are_bundled_within_budget() -> None:
    assert BUNDLED, "no bundled models in models/"
    sizes = {p.name: p.stat().st_size for p in BUNDLED}
    assert all(s <= MAX_MODEL_BYTES for s in sizes.values()), sizes
    assert sum(sizes.values()) <= MAX_TOTAL_BYTES, sizes


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_card_hash_matches(path: Path) -> None:
    card = path.with_suffix(".md")
    assert card.is_file(), f"model card {card.name} missing"
    found = re.search(r"sha256:\s*`?([0-9a-f]{64})", card.read_text())
    assert found, f"{card.name} states no sha256"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == found.group(1)


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_metadata_validates(path: Path) -> None:
    from changelens.core.models.graph import check_graph, input_channels
    from changelens.core.models.meta import read_model_metadata

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = read_model_metadata(str(path), input_channels(session))  # raises on any schema error
    check_graph(meta, session, path.name)  # inputs/outputs agree with layout, bands and tile size
    assert meta.source == "changelens" and meta.name == path.stem
    # Two-class models carry their decision threshold; multi-class ones use argmax.
    assert (meta.threshold is not None) == (meta.class_count == 2)
    missing = [k for k in CARD_FIELDS if k not in _doc(path)]
    assert not missing, f"{path.name} lacks {missing}"


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_model_maps_obvious_case(path: Path) -> None:
    doc = _doc(path)
    x, truth = _fixture(path.stem)
    bands = len(doc["bands"]) * (2 if doc["layout"] == "concat" else 1)  # terrain channels follow, in degrees
    if doc.get("values") == "reflectance":
        x = np.concatenate([x[:bands] / 10000.0, x[bands:]])  # what the runtime feeds after DN -> reflectance
    if doc.get("normalization") == "per_scene":  # the runtime standardises every image itself
        x = (x - x.mean(axis=(1, 2), keepdims=True)) / x.std(axis=(1, 2), keepdims=True)
    prob = _run(path, x)
    assert prob.shape[1:] == truth.shape
    assert np.all((prob >= 0) & (prob <= 1))
    if prob.shape[0] == 1:
        pred = prob[0] >= doc["threshold"]
    else:  # argmax; the changed class is the last one (flood_s1: dry, permanent water, flooded)
        np.testing.assert_allclose(prob.sum(0), 1.0, atol=1e-4)
        pred = prob.argmax(0) == prob.shape[0] - 1
    _assert_square_found(pred, truth)


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_model_through_plugin_inference(path: Path, tmp_path: Path) -> None:
    """The same fixture as GeoTIFFs with named bands, run by the plugin's own tiled inference: checks
    the metadata's band names, radiometry and normalisation end to end, not just the graph."""
    from changelens.core.models.inference import InferenceConfig, InferenceOutputs, run_model
    from osgeo import gdal
    from rasters import write_raster

    doc = _doc(path)
    x, truth = _fixture(path.stem)
    bands = list(doc["bands"])
    dates = 2 if doc["layout"] == "concat" else 1
    size = float(doc["pixel_size_m"])
    images = []
    for d in range(dates):
        values = x[d * len(bands) : (d + 1) * len(bands)]
        data = values.astype(np.uint16) if doc.get("values") == "reflectance" else values.astype(np.float32)
        transform = (500000.0, size, 0.0, 5100000.0, 0.0, -size)
        images.append(write_raster(tmp_path / f"date{d}.tif", data, geotransform=transform, descriptions=bands))
    dem = None
    if doc.get("terrain"):  # a plane whose slope is the fixture's slope channel
        rise = np.tan(np.radians(LANDSLIDE_SLOPE_DEG)) * size
        plane = np.tile(np.arange(x.shape[2], dtype=np.float32) * rise, (x.shape[1], 1))
        dem = write_raster(tmp_path / "dem.tif", plane, geotransform=transform)
    out = str(tmp_path / "classes.tif")
    # The fixture holds DN = reflectance x 10000 (no +1000 offset) and no product metadata: said explicitly.
    config = InferenceConfig(threads=1, radiometry="s2_dn")
    run_model(str(path), images, InferenceOutputs(classes=out), config, dem=dem)
    classes = gdal.Open(out).ReadAsArray()
    _assert_square_found(classes == len(doc["classes"]) - 1, truth)


TERRAIN_MODELS = [p for p in BUNDLED if "terrain" in _doc(p)]


@pytest.mark.parametrize("path", TERRAIN_MODELS, ids=[p.stem for p in TERRAIN_MODELS])
def test_terrain_model_ignores_the_same_change_on_flat_ground(path: Path) -> None:
    """The fixture's bare patch on flat ground (a ploughed field, not a landslide) is not mapped."""
    doc = _doc(path)
    x, truth = _fixture(path.stem)
    x = np.concatenate([x[:-1] / 10000.0, np.zeros_like(x[-1:])])  # slope 0 degrees everywhere
    prob = _run(path, x)[0]
    assert (prob[truth] >= doc["threshold"]).mean() < 0.05


CARD_SECTIONS = ("## Data and licences", "## Training", "## Validation", "## Known failure modes")


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_card_documents_data_recipe_validation_and_failures(path: Path) -> None:
    """Training data with licences, recipe, validation on unseen cases with per-case wins, failure modes and
    a machine-readable block (training cases, unseen scores) that `make eval` and the panel rule read."""
    from eval.cards import read_card, unseen_wins, wins_under_rule

    text = path.with_suffix(".md").read_text()
    missing = [s for s in CARD_SECTIONS if s not in text]
    assert not missing, f"{path.with_suffix('.md').name} lacks {missing}"
    assert re.search(r"licen[cs]e", text, re.I)
    card = read_card(path.with_suffix(".md"))
    assert all(isinstance(c, str) and c.count("/") >= 1 for c in card["training_cases"])
    pooled = [card["unseen"]["pooled"]] if card["unseen"]["pooled"] else []
    for scores in [*card["unseen"]["cases"].values(), *pooled]:
        assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    wins, total = unseen_wins(card)
    if wins_under_rule(card):  # a default states its per-case wins in the card's text as well
        assert f"{wins} of {total}" in text
