"""The rule catalog.

In a wheel, the modules of the top-level ``rules/`` folder are copied here at
build time. In a checkout (or an editable install) they stay in ``rules/`` at
the repository root, so this shim appends that folder to the package path:
either way rules import as ``imds_lint.rules.<module>`` and nothing named
``rules`` is ever importable on its own.
"""

from __future__ import annotations

import os

# os.path, not pathlib: pathlib imports urllib.parse and ipaddress (~3 ms of every run).
_checkout_catalog = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))), "rules")
if os.path.isdir(_checkout_catalog) and _checkout_catalog not in __path__:
    __path__.append(_checkout_catalog)
