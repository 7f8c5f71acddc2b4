"""Index methods, one module each, declared for the shared pipeline; :data:`METHODS` is the registry.

Adding a method is one module here and one line below: Processing, the panel and the command
line are built from the registry.
"""

from __future__ import annotations

from .burn import BurnSeverity
from .cva import ChangeVectors
from .declaration import IndexMethod
from .flood_optical import OpticalFlood
from .flood_sar import SarFlood
from .landslide import Landslide
from .vegetation_loss import VegetationLoss

METHODS: tuple[IndexMethod, ...] = (
    BurnSeverity(),
    SarFlood(),
    OpticalFlood(),
    Landslide(),
    ChangeVectors(),
    VegetationLoss(),
)


def method_by_id(method_id: str) -> IndexMethod:
    """The registered method with ``method_id`` (the Processing id after ``changelens:``)."""
    for method in METHODS:
        if method.id == method_id:
            return method
    raise KeyError(method_id)
