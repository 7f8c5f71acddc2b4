"""The panel takes a product (a SAFE folder, a zip, a Landsat or band folder) beside each date's layer list."""

from __future__ import annotations

from changelens.ui.tasks import AFTER, BEFORE
from products import s2_safe, scl_with_cloud, surface_map
from qgis.core import QgsProject
from test_panel import add_layer, group_layers, panel, set_pair, wait_for  # noqa: F401 - the fixture


def test_products_replace_the_layers_and_run(panel, tmp_path) -> None:  # noqa: ANN001
    pre = s2_safe(tmp_path, "20230801", surface_map(None))
    post = s2_safe(tmp_path, "20230901", surface_map("burned"), scl=scl_with_cloud(slice(0, 6), slice(0, 6)))
    assert panel.status.text() == "Choose the before image (a layer or a product)."
    panel.products[BEFORE].set_path(str(pre))
    panel.products[AFTER].set_path(str(post))
    assert panel.status.text() == "Ready.", panel.status.text()
    assert (
        "Sentinel-2 product S2B_MSIL2A_20230901" in panel.product_note.text()
        and "cloud mask: SCL" in panel.product_note.text()
    )
    assert panel.band_mapping.detected_profile(AFTER) == "Product: bands found by name when it runs"
    assert [panel.cloud_combo.itemText(i) for i in range(panel.cloud_combo.count())][1] == "No cloud mask"
    out = tmp_path / "out"
    out.mkdir()
    panel.folder_radio.setChecked(True)
    panel.folder_widget.setFilePath(str(out))
    panel.run_button.click()
    assert panel.run.parameters["PRE"] == str(pre) and panel.run.parameters["CLOUD_MASK"] == 0
    wait_for(lambda: panel.run is None)
    assert panel.status.text().startswith("Done"), panel.status.text()
    names = [layer.name() for layer in group_layers(QgsProject.instance())]
    assert "Burn severity classes" in names


def test_a_folder_that_is_no_product_is_named_and_a_layer_replaces_it(panel, tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "empty").mkdir()
    panel.products[BEFORE].set_path(str(tmp_path / "empty"))
    assert "is no product ChangeLens reads" in panel.product_note.text()
    pre, post = set_pair(panel, tmp_path)  # choosing a layer clears the product
    assert panel.products[BEFORE].path() == "" and panel.before_combo.currentLayer() is pre
    assert panel.status.text() == "Ready." and not panel.product_note.isVisible()
