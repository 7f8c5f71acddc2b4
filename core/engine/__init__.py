"""Block streaming, whole-raster samples and automatic thresholds shared by every pixel method."""
