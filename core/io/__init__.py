"""Reading inputs: rasters, grids and windows, sensors and band roles, pairing, terrain, SAR preparation."""
