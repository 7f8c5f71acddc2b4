#!/usr/bin/env bash
# Prepare everything `make test` needs: QGIS (from apt, on Debian/Ubuntu as root) and the test venv.
set -euo pipefail
VENV="${1:-.venv}"
SYS_PY=/usr/bin/python3

have_qgis() { "$SYS_PY" -c "import qgis.core" >/dev/null 2>&1 && command -v qgis_process.bin >/dev/null 2>&1; }

if ! have_qgis; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing QGIS from apt..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      qgis python3-qgis qgis-providers gdal-bin python3-gdal xvfb >/dev/null
  else
    echo "QGIS with Python bindings is missing: install qgis, python3-qgis, qgis-providers, gdal-bin, python3-gdal (as root: apt-get install ...)." >&2
    exit 1
  fi
fi

# apt_optional PACKAGE WHAT: install PACKAGE from apt as root on Debian/Ubuntu, else say what is skipped without it.
apt_optional() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing $1 from apt ($2)..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
  else
    echo "$1 is missing: $2 (as root: apt-get install $1)." >&2
  fi
}

# Headless Chromium renders the HTML report in tests/test_report.py (skipped without it, except on CI).
command -v chromium >/dev/null 2>&1 || apt_optional chromium "the report screenshot test is skipped without it"
# scipy from Debian (built for the system numpy) for ukis-csmask, the optional cloud masks (tests/test_cloud_masks.py);
# pip would build scipy against another numpy.
"$SYS_PY" -c "import scipy" >/dev/null 2>&1 || apt_optional python3-scipy "ukis-csmask cloud masks need it"
# poppler-utils (pdftoppm, pdftotext, pdfimages) render the PDF report in tests/test_report_pdf.py (skipped without it,
# except on CI).
command -v pdftoppm >/dev/null 2>&1 || apt_optional poppler-utils "the PDF report test is skipped without it"

if [ ! -x "$VENV/bin/python" ]; then
  "$SYS_PY" -m venv --system-site-packages "$VENV"
fi
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
# Keep the system numpy so QGIS and onnxruntime share one numpy.
echo "numpy==$("$SYS_PY" -c 'import numpy; print(numpy.__version__)')" > "$constraints"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$constraints" -r requirements-test.txt
