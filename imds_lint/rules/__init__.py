"""The rule catalog.

In a wheel, the modules of the top-level ``rules/`` folder are copied here at
build time. In a checkout (or an editable install) they stay in ``rules/`` at
the repository root, so this shim appends that folder to the package path:
either way rules import as ``imds_lint.rules.<module>`` and nothing named
``rules`` is ever importable on its own.
"""

from __future__ import annotations

from pathlib import Path

_checkout_catalog = Path(__file__).resolve().parents[2] / "rules"
if _checkout_catalog.is_dir() and str(_checkout_catalog) not in __path__:
    __path__.append(str(_checkout_catalog))
