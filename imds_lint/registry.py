"""Finding the rule classes in the catalog (``imds_lint.rules.*``)."""

from __future__ import annotations

import importlib
import os
import re
from functools import lru_cache

from imds_lint.rule import Rule

_MODULE = re.compile(r"^imds\d{3}_[a-z0-9_]+$")


# Rule modules that check one fact of an analysis and nothing else (no ``check_request``; a
# ``check_analysis`` that is one loop over ``analysis.facts.get(FACT, ())``), with the fact and
# whether the rule is opt-in. The engine imports such a module with the first document that holds
# its fact: a run over shell scripts loads 12 of the 20 modules (the IaC and dependency rules
# wait, and the manifest fixer with them). A module not listed is loaded for every document,
# which is always right; tests/test_registry.py holds each entry to its class.
FACT_RULES: dict[str, tuple[str, bool]] = {
    "imds103_boto2_metadata_call": ("boto2", False),
    "imds210_hop_limit_blocks_containers": ("iac.compute", False),
    "imds211_hop_limit_above_one": ("iac.compute", True),
    "imds301_metadata_tokens_optional": ("iac.compute", False),
    "imds302_account_metadata_defaults_optional": ("iac.compute", False),
    "imds401_sdk_predates_imdsv2": ("dependency", False),
    "imds402_legacy_boto2_dependency": ("dependency", False),
    "imds403_metadata_tool_predates_tokens": ("dependency", False),
}
FACTS = frozenset(fact for fact, _ in FACT_RULES.values())


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    return _rules_of(_catalog_of())


@lru_cache(maxsize=None)
def rules_for(facts: frozenset[str]) -> tuple[type[Rule], ...]:
    """The rules a document holding ``facts`` (names of non-empty ones) needs, in code order: every
    rule of the catalog but those of FACT_RULES whose fact it lacks."""
    return _rules_of([name for name in _catalog_of() if name not in FACT_RULES or FACT_RULES[name][0] in facts])


def _rules_of(names: list[str]) -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    for name in names:
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
    return frozenset(name[:7].upper() for name in _catalog_of())


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


@lru_cache(maxsize=None)
def rule_by_code(code: str) -> type[Rule] | None:
    code = code.upper()
    # The module named for the code first: a finding's help line needs one rule, not the catalog.
    for rule in _rules_of([name for name in _catalog_of() if name[:7].upper() == code]):
        if rule.code == code:
            return rule
    return next((r for r in all_rules() if r.code == code or r.name == code.lower()), None)


@lru_cache(maxsize=1)
def _catalog_of() -> tuple[str, ...]:
    """The catalog's module names, listed once (the text reporter asks for a rule per finding)."""
    import imds_lint.rules as catalog

    return tuple(_catalog_modules(catalog.__path__))


@lru_cache(maxsize=1)
def opt_in_codes() -> frozenset[str]:
    """Without importing FACT_RULES' modules: their entries say which are opt-in."""
    listed = {name[:7].upper() for name, (_, opt_in) in FACT_RULES.items() if opt_in}
    return frozenset(listed | {rule.code for rule in rules_for(frozenset()) if rule.opt_in})


def selects_by_name(code: str, selectors: list[str] | tuple[str, ...]) -> bool:
    """True if ``code`` itself (not ALL, not a prefix) is among ``selectors``: how opt-in rules are chosen."""
    code = code.upper()
    return any(s.upper() == code for s in selectors)


def matches(code: str, selectors: list[str] | tuple[str, ...]) -> bool:
    """True if ``code`` is selected by any of ``selectors`` (full codes or prefixes; ALL)."""
    code = code.upper()
    return any(s.upper() == "ALL" or code.startswith(s.upper()) for s in selectors)
