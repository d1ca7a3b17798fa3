"""``python -m imds_lint``.

Python puts the current folder first on ``sys.path`` for ``-m``; inside a
scanned repository that holds a ``yaml.py`` or ``rich/``, our imports would
run its code. Scanned code is never imported, so that entry goes before
anything else is imported (``imds_lint`` itself is already loaded).
"""

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()) and not sys.flags.safe_path:
    del sys.path[0]

from imds_lint.cli import run  # noqa: E402

run()
