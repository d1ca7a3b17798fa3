"""registry.FACT_RULES: the rule modules the engine loads only for documents holding one fact.

An entry promises that the rule reads that fact and nothing else, so a document
without it can skip importing the module: checked here on each rule's code.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap

import pytest

from imds_lint import registry
from imds_lint.rule import Rule


def _rule_of(module_name: str) -> type[Rule]:
    module = importlib.import_module(f"imds_lint.rules.{module_name}")
    (rule,) = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, Rule) and v is not Rule and v.__module__ == module.__name__]
    return rule


def _fact_read(rule: type[Rule]) -> str | None:
    """The fact ``check_analysis`` loops over, when its whole body is ``for x in analysis.facts.get(F, ()): ...``."""
    function = ast.parse(textwrap.dedent(inspect.getsource(rule.check_analysis))).body[0]
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring
    if len(body) != 1 or not isinstance(body[0], ast.For) or len(function.args.args) < 2:
        return None
    call = body[0].iter
    analysis = function.args.args[1].arg
    if not (isinstance(call, ast.Call) and ast.unparse(call.func) == f"{analysis}.facts.get" and len(call.args) == 2
            and ast.unparse(call.args[1]) == "()"):
        return None
    return eval(compile(ast.Expression(call.args[0]), "<fact>", "eval"), vars(inspect.getmodule(rule)))


@pytest.mark.parametrize("module_name", sorted(registry.FACT_RULES))
def test_a_fact_rule_reads_its_fact_and_nothing_else(module_name):
    rule = _rule_of(module_name)
    fact, opt_in = registry.FACT_RULES[module_name]
    assert rule.check_request is Rule.check_request, f"{rule.code} checks requests"
    assert _fact_read(rule) == fact
    assert bool(rule.opt_in) == opt_in


def test_the_fact_finder_refuses_a_rule_that_does_more():
    class ReadsRequestsToo(Rule):
        def check_analysis(self, analysis, ctx):
            for resource in analysis.facts.get("iac.compute", ()):
                ctx.report(self, resource.anchor, "x")
            for request in analysis.requests:
                ctx.report(self, request.anchor, "y")

    class ReadsOneFact(Rule):
        def check_analysis(self, analysis, ctx):
            for resource in analysis.facts.get("iac.compute", ()):
                ctx.report(self, resource.anchor, "x")

    assert _fact_read(ReadsRequestsToo) is None and _fact_read(ReadsOneFact) == "iac.compute"


def test_rules_for_leaves_out_only_the_rules_of_missing_facts():
    every = registry.all_rules()
    assert registry.rules_for(registry.FACTS) == every
    shell = registry.rules_for(frozenset())
    assert [r.code for r in shell] == [r.code for r in every if r.__module__.rsplit(".", 1)[1] not in registry.FACT_RULES]
    with_compute = {r.code for r in registry.rules_for(frozenset({"iac.compute"}))}
    assert {"IMDS210", "IMDS211", "IMDS301", "IMDS302"} <= with_compute and "IMDS401" not in with_compute
    assert registry.opt_in_codes() == frozenset(r.code for r in every if r.opt_in)
    assert registry.rule_by_code("imds301") is _rule_of("imds301_metadata_tokens_optional")
    assert registry.rule_by_code("tokenless-request").code == "IMDS101"
