"""The model manager dialog: list bundled and user models, import, describe, remove, read the card."""

from __future__ import annotations

import os
from typing import Callable

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .models import (
    BUNDLED,
    EDIT_METADATA_ID,
    USER,
    ModelEntry,
    bundled_dir,
    import_model,
    list_models,
    read_model,
    remove_model,
    user_dir,
)


def _confirm(parent: QWidget, title: str, text: str) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    return QMessageBox.question(parent, title, text, buttons) == QMessageBox.StandardButton.Yes


class ModelManagerDialog(QDialog):
    """Bundled and user models with their cards; ``models_changed`` fires after import or removal."""

    models_changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None, folders: tuple[tuple[str, str], ...] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changelens_models")
        self.setWindowTitle("ChangeLens models")
        self.folders = folders
        self.confirm: Callable[[QWidget, str, str], bool] = _confirm
        self.choose_file: Callable[[], str] = self._choose_file
        self.entries: list[ModelEntry] = []
        self.dialogs: list = []
        layout = QVBoxLayout(self)
        self.message = QLabel(wordWrap=True, objectName="changelens_models_message")
        layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.tree = QTreeWidget(objectName="changelens_models_list")
        self.tree.setHeaderLabels(["Model", "Source", "Task", "Status"])
        self.tree.setRootIsDecorated(False)
        self.tree.currentItemChanged.connect(lambda *_: self._show_card())
        self.card = QTextBrowser(objectName="changelens_models_card")
        self.card.setOpenExternalLinks(True)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.card)
        splitter.setSizes([360, 420])
        layout.addWidget(splitter, 1)
        row = QHBoxLayout()
        self.import_button = QPushButton("Import .onnx…", objectName="changelens_models_import")
        self.describe_button = QPushButton("Describe (edit metadata)…", objectName="changelens_models_describe")
        self.remove_button = QPushButton("Remove", objectName="changelens_models_remove")
        self.folder_button = QPushButton("Open user folder", objectName="changelens_models_folder")
        self.import_button.clicked.connect(lambda: self.import_file())
        self.describe_button.clicked.connect(lambda: self.describe(self.current()))
        self.remove_button.clicked.connect(self.remove_current)
        self.folder_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(self._user_folder(create=True)))
        )
        for button in (self.import_button, self.describe_button, self.remove_button, self.folder_button):
            row.addWidget(button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        layout.addLayout(row)
        self.resize(820, 460)
        self.refresh()

    def _user_folder(self, create: bool = False) -> str:
        folder = next((f for f, origin in self.folders or () if origin == USER), None) or user_dir(create)
        if create:
            os.makedirs(folder, exist_ok=True)
        return folder

    def refresh(self, select: str | None = None) -> None:
        """Re-read both folders."""
        self.entries = list_models(self.folders or None)
        self.tree.clear()
        for entry in self.entries:
            status = "ready" if entry.usable else "needs metadata"
            item = QTreeWidgetItem([entry.name, entry.origin, entry.task or "?", status])
            item.setData(0, Qt.ItemDataRole.UserRole, entry.path)
            item.setToolTip(3, entry.problem or entry.summary)
            self.tree.addTopLevelItem(item)
            if entry.path == select:
                self.tree.setCurrentItem(item)
        if self.tree.currentItem() is None and self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        if not self.entries:
            self.message.setText("No models yet. Import an .onnx model exported from PyTorch, open-cd or torchgeo.")
        self._show_card()

    def current(self) -> ModelEntry | None:
        """The selected model."""
        item = self.tree.currentItem()
        path = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return next((e for e in self.entries if e.path == path), None)

    def _show_card(self) -> None:
        entry = self.current()
        self.remove_button.setEnabled(bool(entry and entry.origin == USER))
        self.describe_button.setEnabled(entry is not None)
        if entry is None:
            bundled = next((f for f, origin in self.folders or () if origin == BUNDLED), None) or bundled_dir()
            self.card.setMarkdown(
                "A model is an `.onnx` file whose metadata says which bands it reads, how to scale them, its "
                "tile size and its classes (see `models/README.md` in the plugin). A `<name>.md` file next to it "
                "is shown here as its model card.\n\n"
                f"Bundled models: `{bundled}`\n\nYour models: `{self._user_folder()}`"
            )
            return
        head = f"# {entry.name}\n\n{entry.summary}\n\n" if entry.summary else f"# {entry.name}\n\n"
        problem = f"**Cannot run yet:** {entry.problem}\n\n" if entry.problem else ""
        self.card.setMarkdown(head + problem + (entry.card or "_No model card._") + f"\n\n`{entry.path}`")

    def _choose_file(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(self, "Import an ONNX model", "", "ONNX models (*.onnx)")
        return path

    def import_file(self, source: str | None = None) -> ModelEntry | None:
        """Validate ``source`` and copy it into the user folder; offer the metadata editor when it lacks metadata."""
        source = source or self.choose_file()
        if not source:
            return None
        checked = read_model(source, USER)
        if checked.not_a_model:
            self.message.setText(f"Not imported: {checked.problem}")
            return None
        entry = import_model(source, self._user_folder(create=True))
        if entry.usable:
            self.message.setText(f"Imported '{entry.name}': it is ready in the ChangeLens panel.")
        else:
            self.message.setText(f"Imported '{entry.name}', but it cannot run yet: {entry.problem}")
            if self.confirm(self, "Describe the model", f"{entry.problem}\n\nDescribe the model now?"):
                self.describe(entry)
        self.refresh(select=entry.path)
        self.models_changed.emit()
        return entry

    def describe(self, entry: ModelEntry | None) -> object:
        """Open "Edit ONNX model metadata" for ``entry``; a user model is rewritten in place."""
        if entry is None:
            return None
        if QgsApplication.processingRegistry().algorithmById(EDIT_METADATA_ID) is None:
            self.message.setText("The metadata editor is not installed in this version of ChangeLens.")
            return None
        from processing import createAlgorithmDialog

        output = (
            entry.path if entry.origin == USER else os.path.join(self._user_folder(True), os.path.basename(entry.path))
        )
        dialog = createAlgorithmDialog(EDIT_METADATA_ID, {"MODEL": entry.path, "OUTPUT": output})
        if dialog is None:
            return None
        dialog.finished.connect(lambda _code: (self.refresh(select=output), self.models_changed.emit()))
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [dialog]
        dialog.show()
        return dialog

    def remove_current(self) -> None:
        """Delete the selected user model after confirmation."""
        entry = self.current()
        if entry is None or entry.origin == BUNDLED:
            return
        if self.confirm(self, "Remove model", f"Delete '{entry.name}' ({entry.path}) and its card?"):
            remove_model(entry)
            self.message.setText(f"Removed '{entry.name}'.")
            self.refresh()
            self.models_changed.emit()
