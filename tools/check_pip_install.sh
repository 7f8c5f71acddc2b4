#!/usr/bin/env bash
# `pip install .` into a fresh venv where QGIS cannot be imported, then `changelens --help` and one run.
# GDAL's Python bindings and numpy come from the system (python3-gdal), as pyproject.toml documents: the
# venv sees only those two (a .pth naming a folder that links osgeo and numpy), never PyQGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
SYS_PY=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$SYS_PY" -m venv "$work/venv"
PY="$work/venv/bin/python"
mkdir "$work/system"
for name in osgeo numpy; do
  ln -s "$("$SYS_PY" -c "import $name, os; print(os.path.dirname($name.__file__))")" "$work/system/$name"
done
dist="$("$SYS_PY" -c 'import numpy, os; print(os.path.dirname(os.path.dirname(numpy.__file__)))')"
for info in "$dist"/numpy-*info "$dist"/GDAL-*info; do [ -e "$info" ] && ln -s "$info" "$work/system/"; done
echo "$work/system" > "$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/system-gdal.pth"
if "$PY" -c 'import qgis' 2>/dev/null; then echo "QGIS is importable in the test venv: the check proves nothing" >&2; exit 1; fi
"$PY" -m pip install -q --disable-pip-version-check .
"$work/venv/bin/changelens" --help
"$work/venv/bin/changelens" burnseverity --help >/dev/null
# One run on a generated pair: a 60 x 80 Sentinel-2-like scene with a burn scar.
"$PY" - "$work" <<'PYTHON'
import sys
import numpy as np
from osgeo import gdal, osr
folder = sys.argv[1]
srs = osr.SpatialReference()
srs.ImportFromEPSG(32633)
yy, xx = np.mgrid[0:60, 0:80]
scar = ((yy - 30) ** 2 + (xx - 40) ** 2) < 300
for name, burnt in (("pre", False), ("post", True)):
    ds = gdal.GetDriverByName("GTiff").Create(f"{folder}/{name}.tif", 80, 60, 2, gdal.GDT_UInt16)
    ds.SetGeoTransform((500000, 10, 0, 5100000, 0, -10))
    ds.SetProjection(srs.ExportToWkt())
    for band, (role, healthy, fire) in enumerate((("B8", 3800, 1000), ("B12", 1000, 2600)), start=1):
        values = np.where(scar & burnt, fire, healthy).astype(np.uint16)
        ds.GetRasterBand(band).WriteArray(values)
        ds.GetRasterBand(band).SetDescription(role)
    ds = None
PYTHON
mkdir "$work/out"
# Plain DN without product metadata: the offset question is answered (--radiometry), as QGIS would ask it.
(cd "$work" && venv/bin/changelens burnseverity --pre pre.tif --post post.tif --radiometry s2_dn --output-dir out --min-area-m2 200 -q)
for file in severity.tif dnbr.tif polygons.gpkg stats.csv report.html; do
  test -s "$work/out/$file" || { echo "changelens wrote no $file" >&2; exit 1; }
done
set +e
(cd "$work" && venv/bin/changelens burnseverity --pre missing.tif --post post.tif --output-dir out -q)
code=$?
set -e
[ "$code" = 2 ] || { echo "bad input gave exit code $code, not 2" >&2; exit 1; }
echo "pip install . in a venv without QGIS: changelens --help and one run work."
