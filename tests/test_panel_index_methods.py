"""The panel runs the index methods end to end: Sentinel-1 flood (VV/VH detected) with an optional DEM."""

from __future__ import annotations

import numpy as np
import pytest
from qgis.core import QgsProject
from rasters import read
from test_index_algorithms import _dem, _sar_pair
from test_panel import add_layer, group_layers, wait_for


@pytest.fixture()
def panel(provider, qgis_iface, qgis_new_project):  # noqa: ANN001, ANN201
    from changelens.ui.panel import ChangeLensPanel

    if provider.algorithm("sarflood") is None:
        pytest.skip("the Sentinel-1 flood algorithm is not in this version")
    qgis_iface.messageBar().clear_messages()
    widget = ChangeLensPanel(qgis_iface.messageBar())
    widget.open_url = lambda _url: None
    yield widget
    widget.deleteLater()


def test_sentinel1_flood_through_the_panel(panel, tmp_path) -> None:  # noqa: ANN001
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("flood"))
    assert panel.current_method().algorithm_id == "changelens:sarflood"
    assert panel.before_label.text() == "Before (optional)" and panel.dem_label.text() == "DEM (optional)"
    before, after = _sar_pair(tmp_path)
    panel.before_combo.setLayer(add_layer(before, "S1 before"))
    panel.after_combo.setLayer(add_layer(after, "S1 after"))
    assert panel.band_mapping.detected_profile("before") == "Detected: Sentinel-1 GRD"
    assert panel.band_mapping.bands() == {
        ("before", "vv"): 1,
        ("after", "vv"): 1,
        ("before", "vh"): 2,
        ("after", "vh"): 2,
    }
    panel.dem_combo.setLayer(add_layer(_dem(tmp_path), "DEM"))
    assert panel.run_button.isEnabled(), panel.status.text()
    panel.run_button.click()
    wait_for(lambda: panel.run is None, 60000)
    assert panel.status.text().startswith("Done"), panel.status.text()
    layers = {layer.name(): layer for layer in group_layers(QgsProject.instance())}
    extent = layers["Flood extent"]
    assert [c.label for c in extent.renderer().classes()] == ["Not flooded", "Flooded", "Permanent water"]
    classes = read(extent.source())
    assert np.mean(classes[24:, 10:26] == 2) > 0.95  # the flood, away from filter edges
    assert np.mean(classes[:16, 10:26] == 1) > 0.95  # dry land stays dry
    assert np.mean(classes[24:, 34:] == 2) < 0.05  # the steep slope is masked by the DEM
    assert np.mean(classes[:, :4] == 3) > 0.95  # the river is permanent water
