"""The "product" choice beside each date's layer list: a path to a product as downloaded.

A Sentinel-2 ``.SAFE`` folder, its ``.zip`` or ``MTD_MSIL*.xml``, a Landsat Collection 2 folder or its
``_MTL.txt``, a folder of band files or a text list of them: the algorithm stacks the bands it needs
(nothing has to be loaded into the project). A product, when given, replaces the layer of that date.
"""

from __future__ import annotations

from typing import Any

from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QMenu, QToolButton, QWidget

from ..processing.catalog import ProductProblem, describe_product
from .tasks import BEFORE

FILE_FILTER = "Products (*.zip MTD_MSIL1C.xml MTD_MSIL2A.xml *_MTL.txt *_MTL.xml *.txt *.csv);;All files (*)"


class ProductChooser(QWidget):
    """A path field with a "…" menu (a product folder, or a product file); emits ``changed`` with the path."""

    changed = pyqtSignal(str)

    def __init__(self, date: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.date = date
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(objectName=f"changelens_{date}_product")
        self.edit.setPlaceholderText("or a product: .SAFE, .zip, Landsat or band folder")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip(
            "A product as downloaded instead of a layer: a Sentinel-2 .SAFE folder, its .zip or MTD_MSIL*.xml, "
            "a Landsat Collection 2 folder or its _MTL.txt, a folder of band files (B02.tif ...) or a text list "
            "of band files. Only the bands the method needs are read, at the finest of their pixel sizes."
        )
        self.edit.editingFinished.connect(lambda: self.changed.emit(self.path()))
        self.edit.textChanged.connect(lambda text: self.changed.emit(self.path()) if not text else None)
        button = QToolButton(objectName=f"changelens_{date}_product_button")
        button.setText("…")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        folder = menu.addAction("Product folder (.SAFE, Landsat, band files)…")
        folder.triggered.connect(lambda _checked=False: self._pick_folder())
        file = menu.addAction("Product file (.zip, MTD_MSIL*.xml, _MTL.txt, band list)…")
        file.triggered.connect(lambda _checked=False: self._pick_file())
        button.setMenu(menu)
        layout.addWidget(self.edit, 1)
        layout.addWidget(button)

    def path(self) -> str:
        """The product path given ('' when none)."""
        return self.edit.text().strip()

    def set_path(self, path: str) -> None:
        """Show ``path`` and announce it."""
        self.edit.setText(path)
        self.changed.emit(self.path())

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Product folder", self.path())
        if path:
            self.set_path(path)

    def _pick_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Product file", self.path(), FILE_FILTER)
        if path:
            self.set_path(path)


def product_note(path: str) -> tuple[str, str | None]:
    """(what the product holds, None) or ('', why it cannot be used) for a path the user gave."""
    try:
        return describe_product(path), None
    except ProductProblem as exc:
        return "", str(exc)


class ProductInputs:
    """The panel's handling of products (mixed into the panel): a product replaces its date's layer."""

    products: dict[str, ProductChooser]
    product_notes: dict[str, tuple[str, str | None]]
    before_combo: Any  # the panel's widgets and state update (PanelLayout, ChangeLensPanel)
    after_combo: Any
    band_mapping: Any
    product_note: Any
    _update_state: Any

    def _product_changed(self, date: str, path: str) -> None:
        """A product given for ``date`` replaces its layer; the panel says what it holds or why it cannot."""
        combo = self.before_combo if date == BEFORE else self.after_combo
        if path and combo.currentLayer() is not None:
            combo.setLayer(None)
        self.product_notes[date] = product_note(path) if path else ("", None)
        self.band_mapping.set_product(date, self.product_notes[date][0] if path else "")
        notes = [
            f"{d.capitalize()}: {text or problem}"
            for d, (text, problem) in self.product_notes.items()
            if text or problem
        ]
        self.product_note.setText("<br>".join(notes))
        self.product_note.setVisible(bool(notes))
        self._update_state()

    def _date_given(self, date: str) -> bool:
        combo = self.before_combo if date == BEFORE else self.after_combo
        return combo.currentLayer() is not None or bool(self.products[date].path())
