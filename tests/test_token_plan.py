"""The one token-first plan (imds_lint/fixers/token_plan.py): what it decides for any adapter."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from imds_lint.fixers import apply_edits, token_plan
from imds_lint.fixers.token_plan import Fetch, Limit, Placement, Unproven
from imds_lint.model import Applicability, Document, Edit, Request, Span

TEXT = "get http://169.254.169.254/latest/meta-data/ami-id\n"


def request(**changes) -> Request:
    fields = dict(client="get", url="http://169.254.169.254/latest/meta-data/ami-id", endpoint="169.254.169.254",
                  path="/latest/meta-data/ami-id", method="GET", headers=(), span=Span(0, len(TEXT) - 1),
                  anchor=Span(0, 3), document=Document("shell", TEXT))
    fields.update(changes)
    return Request(**fields)


@dataclass
class Plan:
    variable: str | None = None


@dataclass
class FakeAdapter:
    """An adapter that renders a toy language: ``FETCH name;`` lines and ``+name`` headers."""

    name_base: str = "TOKEN"
    name_join: str = "_"
    fold_case: bool = False
    reasons: tuple = ()
    place: Placement | None = field(default_factory=lambda: Placement(0))
    reuse: str | None = None
    fetch_reason: Unproven | None = None
    limit_: Limit = field(default_factory=Limit)
    taken: tuple = ()
    header_at: int = 0
    fetches: list = field(default_factory=list)

    def unproven(self, request):
        return self.reasons

    def placement(self, request):
        return self.place

    def limit(self, request):
        return self.limit_

    def reusable_token(self, request, placement):
        return self.reuse

    def names_in_use(self):
        return self.taken

    def fetch(self, request, variable, limit, ttl):
        self.fetches.append((variable, limit, ttl))
        return Fetch(f"FETCH {variable} {ttl}\n", self.fetch_reason)

    def insert(self, placement, offset, fetch):
        return [Edit(offset, offset, fetch)]

    def header(self, request, variable, limit):
        return [Edit(self.header_at, self.header_at, f"+{variable} ")]


def fixed(adapter, plan=None, **kwargs):
    fix = token_plan.plan(request(), adapter, plan or Plan(), TEXT, 21600, **kwargs)
    return fix, (apply_edits(TEXT, fix.edits) if fix is not None else None)


def test_a_proven_fix_is_safe_and_fetches_before_the_request():
    fix, text = fixed(FakeAdapter())
    assert fix.applicability is Applicability.SAFE and fix.title == token_plan.TITLE
    # At one insertion point the fetch comes first, whatever the edits' text sorts as.
    assert text == "FETCH TOKEN 21600\n+TOKEN " + TEXT


@pytest.mark.parametrize("adapter, kwargs, reason", [
    (FakeAdapter(), {"shared": True}, Unproven.SHARED_WRAPPER),
    (FakeAdapter(reasons=(Unproven.NOT_RUN_POWERSHELL,)), {}, Unproven.NOT_RUN_POWERSHELL),
    (FakeAdapter(fetch_reason=Unproven.PUT_FORM_MISSING), {}, Unproven.PUT_FORM_MISSING),
    (FakeAdapter(place=Placement(0, conditional=True)), {}, Unproven.CONDITIONAL),
    (FakeAdapter(place=Placement(0, conditional=True, why=Unproven.SHORT_CIRCUIT)), {}, Unproven.SHORT_CIRCUIT),
    (FakeAdapter(limit_=Limit(hidden=True)), {}, Unproven.HIDDEN_LIMIT),
])
def test_every_unproven_guarantee_makes_the_fix_unsafe_and_is_named_in_its_title(adapter, kwargs, reason):
    fix, _ = fixed(adapter, **kwargs)
    assert fix.applicability is Applicability.UNSAFE
    assert fix.title == f"{token_plan.TITLE} (unsafe: {reason.value})"


def test_reasons_are_listed_once_each_in_order():
    fix, _ = fixed(FakeAdapter(reasons=(Unproven.SESSION_LIMIT, Unproven.SESSION_LIMIT),
                               limit_=Limit(hidden=True)), shared=True)
    assert fix.title.endswith(f"(unsafe: {Unproven.SHARED_WRAPPER}; {Unproven.SESSION_LIMIT}; "
                              f"{Unproven.HIDDEN_LIMIT})")


def test_a_display_only_suggestion_that_cannot_be_proven_is_withheld_with_its_reason():
    fix, text = fixed(FakeAdapter(), shared=True, applicability=Applicability.DISPLAY_ONLY, base_title="recipe")
    assert fix.applicability is Applicability.DISPLAY_ONLY and fix.edits == ()
    assert fix.title == f"recipe (no suggestion: {Unproven.SHARED_WRAPPER})" and text == TEXT
    fix, _ = fixed(FakeAdapter(), applicability=Applicability.DISPLAY_ONLY, base_title="recipe")
    assert fix.applicability is Applicability.DISPLAY_ONLY and fix.edits and fix.title == "recipe"


def test_no_sure_place_withholds_the_fix_and_says_why_even_in_a_language_with_safe_fixes():
    fix, text = fixed(FakeAdapter(place=Unproven.NO_PLACE))
    assert fix.applicability is Applicability.DISPLAY_ONLY and fix.edits == () and text == TEXT
    assert fix.title == f"{token_plan.TITLE} (no suggestion: {Unproven.NO_PLACE})"


def test_a_provable_token_variable_is_reused_and_nothing_is_fetched():
    adapter = FakeAdapter(reuse="tok")
    fix, text = fixed(adapter)
    assert text == "+tok " + TEXT and adapter.fetches == []


def test_the_fresh_name_is_decided_once_per_document_and_avoids_every_spelling():
    plan = Plan()
    adapter = FakeAdapter(taken=("TOKEN",))
    fixed(adapter, plan)
    fixed(adapter, plan)
    assert plan.variable == "TOKEN_2" and [f[0] for f in adapter.fetches] == ["TOKEN_2", "TOKEN_2"]
    assert token_plan.fresh_name((), "echo $imds_token", "IMDS_TOKEN", fold_case=True) == "IMDS_TOKEN_2"
    assert token_plan.fresh_name((), "echo $imds_token", "IMDS_TOKEN") == "IMDS_TOKEN"
    assert token_plan.fresh_name((), "imdsToken()", "imdsToken", join="") == "imdsToken2"


def test_no_fix_where_no_place_is_sure_or_the_request_needs_none():
    assert fixed(FakeAdapter(place=None))[0] is None
    adapter = FakeAdapter()
    for done in (request(wrapper=True), request(path="/latest/api/token", method="PUT")):
        assert token_plan.plan(done, adapter, Plan(), TEXT, 60) is None


def test_the_plan_is_written_once_and_every_token_fixer_goes_through_it():
    """Each language renders through its adapter; none keeps a naming loop, a reuse rule, a title or the
    protocol's constants of its own (they come from token_plan and protocol.py)."""
    import inspect
    import re

    from imds_lint.fixers import powershell, python, shell, sourcecode

    adapters = {shell: ["ShellAdapter"], powershell: ["PowerShellAdapter"], python: ["PythonAdapter"],
                sourcecode: ["JsAdapter", "GoAdapter", "TemplateAdapter"]}
    members = [name for name in token_plan.Adapter.__dict__ if not name.startswith("_")] + \
        list(token_plan.Adapter.__annotations__)
    for module, classes in adapters.items():
        source = inspect.getsource(module)
        assert "token_plan.plan(" in source, module.__name__
        assert not re.search(r"while [^\n]* in [^\n]*:\n\s+n \+= 1", source), f"{module.__name__} names tokens itself"
        assert "21600" not in re.sub(r'"""(?:.|\n)*?"""', "", source), f"{module.__name__} spells a TTL"
        assert "Fetch an IMDSv2 token" not in source, f"{module.__name__} writes its own title"
        for name in classes:
            adapter = getattr(module, name)
            missing = [m for m in members if not hasattr(adapter, m)]
            assert not missing, f"{name} lacks {missing}"
