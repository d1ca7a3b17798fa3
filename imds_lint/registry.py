"""Finding the rule classes in the catalog (``imds_lint.rules.*``)."""

from __future__ import annotations

import importlib
import os
import re
from functools import lru_cache

from imds_lint.rule import Rule

_MODULE = re.compile(r"^imds\d{3}_[a-z0-9_]+$")


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    import imds_lint.rules as catalog

    found: dict[str, type[Rule]] = {}
    for name in _catalog_modules(catalog.__path__):
        module = importlib.import_module(f"imds_lint.rules.{name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"rule code {value.code} is defined twice")
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))


@lru_cache(maxsize=1)
def catalog_codes() -> frozenset[str]:
    """Every rule code, read off the catalog's module names (imds101_... -> IMDS101) without importing it."""
    import imds_lint.rules as catalog

    return frozenset(name[:7].upper() for name in _catalog_modules(catalog.__path__))


def _catalog_modules(folders) -> list[str]:
    """The rule modules' names, sorted. Listed by hand: pkgutil.iter_modules imports inspect
    (~5 ms of a pre-commit run) for a job a folder listing does."""
    names = set()
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        names.update(entry[:-3] for entry in entries if entry.endswith(".py") and _MODULE.match(entry[:-3]))
    return sorted(names)


def rule_codes() -> set[str]:
    return {rule.code for rule in all_rules()}


def rule_by_code(code: str) -> type[Rule] | None:
    code = code.upper()
    return next((r for r in all_rules() if r.code == code or r.name == code.lower()), None)


@lru_cache(maxsize=1)
def opt_in_codes() -> frozenset[str]:
    return frozenset(rule.code for rule in all_rules() if rule.opt_in)


def selects_by_name(code: str, selectors: list[str] | tuple[str, ...]) -> bool:
    """True if ``code`` itself (not ALL, not a prefix) is among ``selectors``: how opt-in rules are chosen."""
    code = code.upper()
    return any(s.upper() == code for s in selectors)


def matches(code: str, selectors: list[str] | tuple[str, ...]) -> bool:
    """True if ``code`` is selected by any of ``selectors`` (full codes or prefixes; ALL)."""
    code = code.upper()
    return any(s.upper() == "ALL" or code.startswith(s.upper()) for s in selectors)
