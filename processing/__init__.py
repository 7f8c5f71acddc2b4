"""QGIS Processing adapters: one module per algorithm, all thin wrappers around ``core``."""
