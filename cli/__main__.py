"""``python -m changelens.cli``: the same as the ``changelens`` command."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
