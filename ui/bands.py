"""The sensor and band mapping of the two dates: detected from band descriptions, editable.

Detection uses the same rules as the algorithms (``processing.catalog.detect_roles``)
on the descriptions QGIS shows for each band, so what the panel shows is what a run
with "detect" would use. The user can pick another sensor profile or any band.
"""

from __future__ import annotations

import re
from typing import Collection

from qgis.core import QgsRasterLayer
from qgis.gui import QgsRasterBandComboBox
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QComboBox, QGridLayout, QLabel, QWidget

from ..processing.catalog import detect_roles, sensor_labels
from .tasks import AFTER, BEFORE

ROLE_LABELS = {
    "blue": "Blue",
    "green": "Green",
    "red": "Red",
    "rededge1": "Red edge 1",
    "nir": "NIR",
    "nir_narrow": "NIR (narrow)",
    "swir1": "SWIR1",
    "swir2": "SWIR2",
    "scl": "SCL",  # Sentinel-2 scene classification
    "vv": "VV",
    "vh": "VH",
}
DETECT = ""


def layer_band_descriptions(layer: QgsRasterLayer | None) -> list[str]:
    """The description of each band as the data provider reports it ('' where a band has none).

    QGIS 3.22 has no ``bandDescription()``; its GDAL provider names bands "Band 3: B12"
    (the word is translated, the number may be zero-padded), so the text after the
    numbered prefix is the description.
    """
    if layer is None or not layer.isValid():
        return []
    provider = layer.dataProvider()
    out = []
    for index in range(1, layer.bandCount() + 1):
        if hasattr(provider, "bandDescription"):
            out.append((provider.bandDescription(index) or "").strip())
            continue
        match = re.match(rf"^\D*0*{index}: (.*)$", provider.generateBandName(index))
        out.append(match.group(1).strip() if match else "")
    return out


class BandMapping(QWidget):
    """A grid: one column per date (sensor profile, then a band picker for each role the method reads)."""

    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changelens_bands")
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)  # role and two dates within the dock's minimum width
        self._layers: dict[str, QgsRasterLayer | None] = {BEFORE: None, AFTER: None}
        self._products: dict[str, str] = {}
        self._dates: tuple[str, ...] = (BEFORE, AFTER)
        self._roles: tuple[str, ...] = ()
        self._optional: set[str] = set()
        self.sensors: dict[str, QComboBox] = {}
        self.detected: dict[str, QLabel] = {}
        self.combos: dict[tuple[str, str], QgsRasterBandComboBox] = {}

    def configure(
        self, roles: tuple[str, ...], dates: tuple[str, ...] = (BEFORE, AFTER), optional: Collection[str] = ()
    ) -> None:
        """Rebuild the grid for the roles a method reads; ``optional`` roles may stay unset."""
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self._roles, self._dates, self._optional = roles, dates, set(optional)
        self.sensors.clear()
        self.combos.clear()
        self.detected.clear()
        self.setVisible(bool(roles))
        for column, date in enumerate(dates, start=1):
            self._grid.addWidget(QLabel(f"<b>{date.capitalize()}</b>"), 0, column)
            sensor = QComboBox()
            sensor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            sensor.setMinimumContentsLength(3)
            sensor.setObjectName(f"changelens_sensor_{date}")
            sensor.addItem("Detect from band names", DETECT)
            for key, label in sensor_labels():
                sensor.addItem(label, key)
            sensor.setToolTip("Sensor whose band names are used to find each band; detected by default.")
            sensor.currentIndexChanged.connect(lambda _i, d=date: self._detect(d))
            self.sensors[date] = sensor
            self._grid.addWidget(sensor, 1, column)
            detected = QLabel()
            detected.setObjectName(f"changelens_detected_{date}")
            detected.setWordWrap(True)
            self.detected[date] = detected
            self._grid.addWidget(detected, 2, column)
        self._grid.addWidget(QLabel("Sensor"), 1, 0)
        for row, role in enumerate(roles, start=3):
            label = ROLE_LABELS.get(role, role.upper())
            self._grid.addWidget(QLabel(f"{label}\n(optional)" if role in self._optional else label), row, 0)
            for column, date in enumerate(dates, start=1):
                combo = QgsRasterBandComboBox()
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                combo.setMinimumContentsLength(3)  # two dates and the role fit the dock's minimum width
                combo.setObjectName(f"changelens_band_{date}_{role}")
                combo.setShowNotSetOption(True, "None" if role in self._optional else "Not found: choose a band")
                combo.bandChanged.connect(lambda _b: self.changed.emit())
                self.combos[(date, role)] = combo
                self._grid.addWidget(combo, row, column)
        for date in dates:
            self.set_layer(date, self._layers.get(date))

    def set_layer(self, date: str, layer: QgsRasterLayer | None) -> None:
        """Show ``layer``'s bands for ``date`` and detect the roles."""
        self._layers[date] = layer
        for (combo_date, _role), combo in self.combos.items():
            if combo_date == date:
                combo.setLayer(layer)
        self._detect(date)

    def set_product(self, date: str, note: str) -> None:
        """``date`` is a product (``note`` says what it holds; '' for none): its bands are found at run time."""
        self._products[date] = note
        self.set_layer(date, None)

    def _detect(self, date: str) -> None:
        if date not in self.sensors:
            return
        if self._products.get(date):
            self.detected[date].setText("Product: bands found by name when it runs")
            self.changed.emit()
            return
        layer = self._layers.get(date)
        descriptions = layer_band_descriptions(layer)
        key = self.sensors[date].currentData()
        _sensor, label, found = detect_roles(descriptions, key or None, self._roles)
        if layer is None:
            self.detected[date].setText("")
        elif key == DETECT:
            self.detected[date].setText(f"Detected: {label}")
        else:
            self.detected[date].setText(f"Chosen: {label}")
        for role in self._roles:
            combo = self.combos[(date, role)]
            combo.blockSignals(True)
            combo.setBand(found.get(role) or -1)
            combo.blockSignals(False)
        self.changed.emit()

    def detected_profile(self, date: str) -> str:
        """The text shown under the sensor choice of ``date``."""
        return self.detected[date].text() if date in self.detected else ""

    def bands(self) -> dict[tuple[str, str], int]:
        """The chosen 1-based band of each (date, role); 0 where none is chosen (the algorithm detects)."""
        return {key: max(combo.currentBand(), 0) for key, combo in self.combos.items()}

    def missing(self) -> list[str]:
        """'Before NIR'-style names of roles with no band, for the user."""
        return [
            f"{date} {ROLE_LABELS.get(role, role)}"
            for (date, role), combo in self.combos.items()
            if self._layers.get(date) is not None and combo.currentBand() <= 0 and role not in self._optional
        ]
