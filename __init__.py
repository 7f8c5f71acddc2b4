"""ChangeLens QGIS plugin entry point."""


def classFactory(iface):  # noqa: N802 - QGIS plugin API
    """Create the plugin; ``iface`` is None under ``qgis_process``."""
    from .plugin import ChangeLensPlugin

    return ChangeLensPlugin(iface)
