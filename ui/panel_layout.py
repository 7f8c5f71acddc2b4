"""The widgets of the ChangeLens panel, laid out for a narrow dock; behaviour lives in ``ui/panel.py``."""

from __future__ import annotations

from typing import Any

from qgis.gui import QgsDoubleSpinBox, QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QEvent, QObject, Qt
from qgis.PyQt.QtGui import QStandardItemModel
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..processing.compat import LAYER_FILTER_RASTER
from .bands import BandMapping
from .products import ProductChooser
from .tasks import AFTER, BEFORE

NOT_FILE_PROVIDERS = ["wms", "wcs", "arcgismapserver", "postgresraster", "mdal"]


def narrow(combo: QComboBox) -> QComboBox:
    """Let a combo box shrink to the dock's width; long entries are elided, full text in the popup."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


def wrapping_form(box: QGroupBox) -> QFormLayout:
    """A form whose fields move under their label when the dock is narrow."""
    form = QFormLayout(box)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def disable_item(combo: QComboBox, index: int, reason: str) -> None:
    """Grey out one entry of ``combo`` and explain why in its tooltip."""
    model = combo.model()
    if isinstance(model, QStandardItemModel):
        item = model.item(index)
        item.setEnabled(False)
        item.setToolTip(reason)


class PanelLayout(QWidget):
    """Builds the five choice groups, the Run row and the tools row; subclasses connect the behaviour."""

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._show_method_name()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """The method combo box resized with the sections around it (not only with the panel)."""
        if watched is self.method_combo and event.type() == QEvent.Type.Resize:
            self._show_method_name()
        return super().eventFilter(watched, event)

    def _show_method_name(self) -> None:
        """Spell out the method under its combo box when the box is too narrow to show it whole."""
        name = self.method_combo.currentText()
        self.method_combo.setToolTip(name)
        width = self.method_combo.fontMetrics().horizontalAdvance(name)
        elided = bool(name) and width > self.method_combo.width() - 30
        self.method_name.setText(name)
        self.method_name.setVisible(elided)

    def _section(self, title: str) -> QGroupBox:
        """A titled group, numbered by :meth:`number_sections` among the visible ones."""
        box = QGroupBox(title)
        box.setProperty("section_title", title)
        self.sections = [*getattr(self, "sections", []), box]
        return box

    def number_sections(self) -> None:
        """Number the groups the current method shows: 1. 2. 3. with no gaps."""
        visible = [box for box in self.sections if not box.isHidden()]
        for number, box in enumerate(visible, start=1):
            box.setTitle(f"{number}. {box.property('section_title')}")

    def _build_task_box(self) -> QGroupBox:
        box = self._section("What do you want to map?")
        form = wrapping_form(box)
        self.task_combo = narrow(QComboBox(objectName="changelens_task"))
        self.task_combo.currentIndexChanged.connect(self._task_changed)
        self.task_help = QLabel(objectName="changelens_task_help", wordWrap=True)
        self.method_combo = narrow(QComboBox(objectName="changelens_method"))
        self.method_combo.currentIndexChanged.connect(self._method_changed)
        self.method_combo.installEventFilter(self)  # spell the name out whenever the box gets too narrow
        self.method_name = QLabel(objectName="changelens_method_name", wordWrap=True)  # when the combo elides it
        self.method_name.setStyleSheet("font-weight: 600")
        self.method_name.setVisible(False)
        self.method_card = QLabel(objectName="changelens_method_card", wordWrap=True)
        self.method_card.setTextFormat(Qt.TextFormat.RichText)
        form.addRow("Task", self.task_combo)
        form.addRow(self.task_help)
        form.addRow("Method", self.method_combo)
        form.addRow(self.method_name)
        form.addRow(self.method_card)
        return box

    def _raster_combo(self, name: str, allow_empty: bool = False) -> QgsMapLayerComboBox:
        combo = QgsMapLayerComboBox(objectName=name)
        narrow(combo)
        combo.setFilters(LAYER_FILTER_RASTER)
        combo.setExcludedProviders(NOT_FILE_PROVIDERS)
        combo.setAllowEmptyLayer(allow_empty)
        if allow_empty:
            combo.setLayer(None)
        return combo

    def _build_inputs_box(self) -> QGroupBox:
        box = self._section("Images or products")
        form = wrapping_form(box)
        self.before_combo = self._raster_combo("changelens_before", allow_empty=True)
        self.after_combo = self._raster_combo("changelens_after", allow_empty=True)
        self.dem_combo = self._raster_combo("changelens_dem", allow_empty=True)
        self.dem_label = QLabel("DEM")
        self.before_combo.layerChanged.connect(lambda layer: self._layer_changed(BEFORE, layer))
        self.after_combo.layerChanged.connect(lambda layer: self._layer_changed(AFTER, layer))
        self.dem_combo.layerChanged.connect(lambda _layer: self._update_state())
        self.before_label, self.after_label = QLabel("Before"), QLabel("After")
        self.products = {BEFORE: ProductChooser(BEFORE), AFTER: ProductChooser(AFTER)}
        for date, chooser in self.products.items():
            chooser.changed.connect(lambda path, d=date: self._product_changed(d, path))
        self.product_note = QLabel(objectName="changelens_product_note", wordWrap=True)
        self.product_note.setVisible(False)
        form.addRow(self.before_label, self.before_combo)
        form.addRow("", self.products[BEFORE])
        form.addRow(self.after_label, self.after_combo)
        form.addRow("", self.products[AFTER])
        form.addRow(self.product_note)
        form.addRow(self.dem_label, self.dem_combo)
        return box

    def _build_bands_box(self) -> QGroupBox:
        self.bands_box = self._section("Sensor and bands")
        layout = QVBoxLayout(self.bands_box)
        self.band_mapping = BandMapping()
        self.band_mapping.changed.connect(self._update_state)
        layout.addWidget(self.band_mapping)
        return self.bands_box

    def _build_options_box(self) -> QGroupBox:
        box = self._section("Options")
        form = wrapping_form(box)
        self.radiometry_combo = narrow(QComboBox(objectName="changelens_radiometry"))
        self.radiometry_label = QLabel("Reflectance")
        self.cloud_combo = narrow(QComboBox(objectName="changelens_cloud_mask"))
        self.cloud_label = QLabel("Cloud mask")
        self.device_combo = narrow(QComboBox(objectName="changelens_device"))
        self.device_label = QLabel("Device")
        self.mmu_spin = QgsDoubleSpinBox(objectName="changelens_mmu")
        self.mmu_spin.setRange(0, 1e9)
        self.mmu_spin.setDecimals(0)
        self.mmu_spin.setSingleStep(100)
        self.mmu_spin.setSuffix(" m²")
        self.mmu_spin.setClearValue(0)
        self.mmu_label = QLabel("Minimum mapping unit")
        form.addRow(self.radiometry_label, self.radiometry_combo)
        form.addRow(self.cloud_label, self.cloud_combo)
        form.addRow(self.device_label, self.device_combo)
        form.addRow(self.mmu_label, self.mmu_spin)
        return box

    def _build_output_box(self) -> QGroupBox:
        box = self._section("Outputs")
        layout = QVBoxLayout(box)
        self.folder_radio = QRadioButton("Save in folder", objectName="changelens_save")
        self.folder_radio.setToolTip(
            "Kept with this project. Default: a 'ChangeLens' folder beside the project file (in your home folder "
            "while the project is unsaved); the folder you choose is remembered in the project."
        )
        self.folder_widget = QgsFileWidget(objectName="changelens_folder")
        self.folder_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.temporary_radio = QRadioButton("Temporary files", objectName="changelens_temp")
        self.temporary_radio.setToolTip("Outputs and the report are deleted when QGIS closes.")
        self.folder_radio.setChecked(True)
        self.folder_radio.toggled.connect(self.folder_widget.setEnabled)
        self.folder_radio.toggled.connect(lambda _on: self._update_state())
        self.folder_widget.fileChanged.connect(self._folder_changed)
        for widget in (self.folder_radio, self.folder_widget, self.temporary_radio):
            layout.addWidget(widget)
        report = QFormLayout()
        report.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.title_edit = QLineEdit(objectName="changelens_event_title")
        self.title_edit.setPlaceholderText("from the images' names and dates")
        self.title_edit.setToolTip("The report's title, e.g. the event's name and date.")
        self.basemap_combo = QgsMapLayerComboBox(objectName="changelens_basemap")
        narrow(self.basemap_combo)
        self.basemap_combo.setAllowEmptyLayer(True)
        self.basemap_combo.setLayer(None)
        self.basemap_combo.setToolTip("A layer of this project drawn under the report's result map (optional).")
        report.addRow("Report title", self.title_edit)
        report.addRow("Report basemap", self.basemap_combo)
        layout.addLayout(report)
        return box

    def _build_run_row(self) -> QVBoxLayout:
        column = QVBoxLayout()
        row = QHBoxLayout()
        self.run_button = QPushButton("Run", objectName="changelens_run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button = QPushButton("Cancel", objectName="changelens_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        self.processing_button = QPushButton("All options…", objectName="changelens_processing")
        self.processing_button.setToolTip("Open in Processing: the full algorithm dialog with these choices filled in.")
        self.processing_button.clicked.connect(self.open_in_processing)
        for button in (self.run_button, self.cancel_button):
            row.addWidget(button)
        self.progress = QProgressBar(objectName="changelens_progress")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel(objectName="changelens_status", wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.status.linkActivated.connect(self._open_link)
        column.addLayout(row)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        return column

    def _build_tools_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(self.processing_button)
        self.models_button = QPushButton("Models…", objectName="changelens_models_button")
        self.models_button.setToolTip("Bundled and imported ONNX models, their cards; import your own.")
        self.models_button.clicked.connect(self.open_models)
        self.doctor_button = QPushButton("Doctor…", objectName="changelens_doctor_button")
        self.doctor_button.setToolTip("Check or install onnxruntime for this QGIS; copy diagnostics.")
        self.doctor_button.clicked.connect(self.open_doctor)
        row.addWidget(self.models_button)
        row.addWidget(self.doctor_button)
        return row
