"""Version bumps in manifests and install commands: replace the written version, nothing else."""

from __future__ import annotations

from imds_lint.dependencies import DependencyFact
from imds_lint.model import Applicability, Edit, Fix


def bump(fact: DependencyFact, version: str) -> Fix | None:
    """Rewrite the written version to ``version``, where that keeps the requirement satisfiable.

    Safe only for an exact pin that is the whole update (requirements.txt without
    hashes, ``pip install x==y``); anything feeding a lock file is the user's call.
    """
    from imds_lint.versions import compare

    c = fact.constraint
    if fact.locked or fact.version_span is None or (c.exact is None and c.lower is None):
        return None
    if c.exact is None and c.upper is not None and not c.upper_follows_lower:
        if compare(fact.ecosystem, version, c.upper) > 0 or (compare(fact.ecosystem, version, c.upper) == 0 and not c.upper_inclusive):
            return None
    safe = c.exact is not None and fact.lock_free_pin
    edit = Edit(fact.version_span.start, fact.version_span.end, version)
    return Fix(f"Require {fact.package} {version}", (edit,), Applicability.SAFE if safe else Applicability.UNSAFE)
