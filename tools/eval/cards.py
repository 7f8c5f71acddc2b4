"""The machine-readable part of a model card, and the rule that makes a model its task's default.

Every model card (``models/<name>.md``, and ``training/unbundled_cards/<name>.md`` for models that are
not bundled) holds one fenced block tagged ``json changelens-card``::

    {"panel_task": "burn", "index_method": "dnbr", "metric": "f1",
     "training_cases": ["burned/prepost/1-12_20200824", ...],
     "unseen": {"what": "...", "cases": {"<case>": [model, index], ...}, "pooled": [model, index]}}

``training_cases`` lists every labelled case (``<dataset path>/<case name>``, as ``make eval`` names
them) whose labels trained the weights or chose their recipe or threshold; the eval harness marks
those cases in-sample. ``unseen`` holds the scores on cases that played no part in choosing the
recipe, the threshold or the weights (the model's score first, then its task's index method on the
same pixels). The rule (models/README.md): a model is its task's default only when it beats the index
method pooled **and** on most of those unseen cases.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CARD_DIRS = (ROOT / "models", ROOT / "training" / "unbundled_cards")
_BLOCK = re.compile(r"```json changelens-card\n(.*?)\n```", re.S)
REQUIRED = ("panel_task", "index_method", "metric", "training_cases", "unseen")


def read_card(path: Path) -> dict:
    """The card's ``changelens-card`` block; ValueError when it is missing or incomplete."""
    found = _BLOCK.search(path.read_text())
    if not found:
        raise ValueError(f"{path.name} has no 'json changelens-card' block")
    card = json.loads(found.group(1))
    missing = [k for k in REQUIRED if k not in card]
    if missing:
        raise ValueError(f"{path.name}: the changelens-card block lacks {', '.join(missing)}")
    return card


def find_card(model: str) -> dict | None:
    """The card block of ``model`` (file stem, e.g. ``burned_s2``), bundled or not; None when it has none."""
    for folder in CARD_DIRS:
        path = folder / f"{model}.md"
        if path.is_file():
            return read_card(path)
    return None


def training_cases(model: str) -> set[str]:
    """Case ids (``<dataset>/<case>``) whose labels played a part in the model's weights or recipe."""
    card = find_card(model)
    return set(card["training_cases"]) if card else set()


def unseen_wins(card: dict) -> tuple[int, int]:
    """(cases where the model beats the index method, unseen cases) in the card's unseen scores."""
    cases = card["unseen"].get("cases", {})
    return sum(1 for model, index in cases.values() if model > index), len(cases)


def wins_under_rule(card: dict) -> bool:
    """True when the model beats its index method pooled and on most cases it never saw.

    Scores whose card says they are not clean (``"clean": false``: the cases influenced the recipe in
    some way, e.g. the menu of candidate recipes) never make a model the default.
    """
    unseen = card["unseen"]
    if not unseen.get("clean", True):
        return False
    pooled = unseen.get("pooled")
    wins, total = unseen_wins(card)
    if not pooled or total == 0:
        return False
    return pooled[0] > pooled[1] and wins * 2 > total


def default_models(folder: Path = ROOT / "models") -> dict[str, tuple[str, ...]]:
    """Panel task -> bundled model files that win under the rule (what ``ui.models.DEFAULT_MODELS`` must be)."""
    out: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.onnx")):
        card = read_card(path.with_suffix(".md"))
        if wins_under_rule(card):
            out.setdefault(card["panel_task"], []).append(path.name)
    return {task: tuple(names) for task, names in out.items()}
