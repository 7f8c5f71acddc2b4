"""`make eval`: run ChangeLens algorithms through QGIS Processing on labelled real data and score them."""
