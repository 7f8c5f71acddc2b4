"""Writing results: rasters, class statistics, polygons, tables, styles, the report and the run's transaction."""
