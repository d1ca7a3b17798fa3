"""Fixes: applying edits to text, and what every language fixer offers.

A language fixer turns a request into edits in its own document's offsets; the
engine maps them to the file through ``Document.fix_to_root`` (escaping on the
way out) and applies them here.
"""

from __future__ import annotations

import importlib

from imds_lint.kinds import Kind
from imds_lint.model import Applicability, Edit, Fix, Header, OverlapError, Request, apply_edits  # noqa: F401 (re-exported)

TYPE_CHECKING = False  # typing's, without importing typing (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from typing import Protocol

    from imds_lint.frontends import Analysis
    from imds_lint.frontends.iac import ComputeResource
else:
    Protocol = object  # Fixer is for type checkers; at run time, a plain class


class Fixer(Protocol):
    """The rewrites a language offers; each returns None where it cannot be sure.

    Fixes come back in the offsets of the request's (or resource's) own
    document. A fixer reads only the typed state and handles of its language
    (``imds_lint.syntax``), never a front-end's private names.
    """

    def add_token(self, request: Request, analysis: Analysis, ttl: int) -> Fix | None: ...

    def add_put_method(self, request: Request) -> Fix | None: ...

    def add_header(self, request: Request, name: str, value: str) -> Fix | None: ...

    def remove_header(self, request: Request, header: Header) -> Fix | None: ...

    def set_option(self, resource: ComputeResource, key: str, value: str | int, title: str) -> Fix | None: ...


class NoFixes:
    """A fixer that offers nothing: the base of every fixer, and the one for languages without rewrites."""

    def add_token(self, request: Request, analysis: Analysis, ttl: int) -> Fix | None:
        return None

    def add_put_method(self, request: Request) -> Fix | None:
        return None

    def add_header(self, request: Request, name: str, value: str) -> Fix | None:
        return None

    def remove_header(self, request: Request, header: Header) -> Fix | None:
        return None

    def set_option(self, resource: ComputeResource, key: str, value: str | int, title: str) -> Fix | None:
        return None


NO_FIXES = NoFixes()

# Document kind -> the module whose FIXER rewrites it. YAML and JSON documents are
# rewritten only where they are CloudFormation (its fixer declines everything else);
# CDK apps are Python, so the Python fixer sets their metadata options.
_FIXERS: dict[str, str] = {
    Kind.SHELL: "imds_lint.fixers.shell",
    Kind.POWERSHELL: "imds_lint.fixers.powershell",
    Kind.PYTHON: "imds_lint.fixers.python",
    Kind.TERRAFORM: "imds_lint.fixers.terraform",
    # Packer's source blocks take metadata_options the way Terraform's resources do.
    Kind.PACKER: "imds_lint.fixers.terraform",
    Kind.YAML: "imds_lint.fixers.cloudformation",
    Kind.JSON: "imds_lint.fixers.cloudformation",
    **{kind: "imds_lint.fixers.sourcecode" for kind in (
        Kind.JAVASCRIPT, Kind.TYPESCRIPT, Kind.TSX, Kind.GO, Kind.JAVA, Kind.CSHARP, Kind.RUBY)},
}


def fixer_for(analysis: Analysis) -> Fixer:
    """The fixer for an analysed document: chosen by its kind; none where the text fallback read it."""
    if analysis.fell_back:
        return NO_FIXES
    module = _FIXERS.get(analysis.document.kind)
    if module is None:
        return NO_FIXES
    return importlib.import_module(module).FIXER


def replace_path(request: Request, new_path: str, applicability: Applicability) -> Fix | None:
    """Rewrite the literal URL path in place, where the source spells it out."""
    if request.path_span is None:
        return None
    edit = Edit(request.path_span.start, request.path_span.end, new_path)
    return Fix(f"Use the path {new_path}", (edit,), applicability)


def replace_header_value(header: Header, value: str, applicability: Applicability) -> Fix | None:
    if header.value_span is None:
        return None
    edit = Edit(header.value_span.start, header.value_span.end, value)
    return Fix(f"Send {header.name}: {value}", (edit,), applicability)


def rename_header(header: Header, name: str, applicability: Applicability) -> Fix | None:
    if header.name_span is None:
        return None
    edit = Edit(header.name_span.start, header.name_span.end, name)
    return Fix(f"Spell the header {name}", (edit,), applicability)


def merge_rewrites(fixes: list[Fix]) -> list[Fix]:
    """One fix per embedded document written back whole (a base64 blob, a quoted-again scalar).

    Each such fix replaces the whole blob, so two of them always overlap: the
    fixes of one blob are chosen in its own text (sharing their token fetch, as
    in a plain script), and the blob is written back once with all of them.
    """
    groups: dict[int, list[Fix]] = {}
    merged: list[Fix] = []
    for fix in fixes:
        if fix.rerender is None:
            merged.append(fix)
        else:
            groups.setdefault(id(fix.rerender[0]), []).append(fix)
    for group in groups.values():
        if len(group) == 1:
            merged.append(group[0])
            continue
        document = group[0].rerender[0]
        inner = [Fix(f.title, f.rerender[1], f.applicability, merged=f.merged) for f in group]
        chosen, _ = select_fixes(inner)
        edits = document.edits_to_root([e for f in chosen for e in f.edits])
        if edits is None:
            merged.append(group[0])
            continue
        applicability = Applicability.UNSAFE if any(f.applicability is Applicability.UNSAFE for f in chosen) \
            else chosen[0].applicability
        merged.append(Fix(chosen[0].title, tuple(edits), applicability, merged=sum(f.merged for f in chosen)))
    return merged


def select_fixes(fixes: list[Fix]) -> tuple[list[Fix], list[Fix]]:
    """Greedy choice of fixes whose edits do not overlap those already chosen.

    An edit identical to one already chosen is shared, not a conflict: every
    token-first fix in a script inserts the same token fetch.
    """
    chosen: list[Fix] = []
    skipped: list[Fix] = []
    taken = _TakenSpans()
    for fix in sorted(fixes, key=lambda f: min((e.start for e in f.edits), default=0)):
        new = [e for e in fix.edits if e not in taken.edits]
        if any(taken.conflicts(e) for e in new) or _self_overlap(new):
            skipped.append(fix)
            continue
        chosen.append(fix)
        for e in new:
            taken.add(e)
    return chosen, skipped


class _TakenSpans:
    """The chosen edits, searchable by bisection (32,000 fixes compared pairwise took minutes).

    Chosen replacements never overlap one another, so sorted by start their
    ends are sorted too: only the last one starting before a point can hold it.
    Insertions conflict only with a replacement that strictly contains their point.
    """

    __slots__ = ("edits", "_starts", "_ends", "_points")

    def __init__(self):
        self.edits: set[Edit] = set()
        self._starts: list[int] = []  # replacements (start < end)
        self._ends: list[int] = []
        self._points: list[int] = []  # insertions

    def add(self, edit: Edit) -> None:
        from bisect import bisect_right, insort

        self.edits.add(edit)
        if edit.start == edit.end:
            insort(self._points, edit.start)
        else:
            i = bisect_right(self._starts, edit.start)
            self._starts.insert(i, edit.start)
            self._ends.insert(i, edit.end)

    def conflicts(self, edit: Edit) -> bool:
        from bisect import bisect_left, bisect_right

        start, end = edit.start, edit.end
        if start == end:
            i = bisect_left(self._starts, start) - 1  # the last replacement starting before the point
            return i >= 0 and self._ends[i] > start
        i = bisect_left(self._starts, end) - 1  # the last replacement starting before this one ends
        if i >= 0 and self._ends[i] > start:
            return True
        j = bisect_right(self._points, start)  # an insertion strictly inside
        return j < len(self._points) and self._points[j] < end


def _self_overlap(edits: list[Edit]) -> bool:
    spans = sorted((e.start, e.end) for e in edits)
    return any(a_end > b_start and a_start != a_end for (a_start, a_end), (b_start, _) in zip(spans, spans[1:]))
